"""What every task explainer shares: checking the model, tokenizing, baselines, the scalar function of the
word embeddings, the engine call with the model made differentiable (and restored), and the result.

A task explainer (see :mod:`.sequence_classification`) only says which texts to tokenize, which output of
the model to explain (a function of the model's outputs giving one scalar per batch row), and how to name
the prediction and target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from ..engine import integrated_gradients, integrated_hessians
from ..engine.smoothing import smoothing_context
from ..explanation import Explanation
from .model_state import differentiable_model, eval_mode
from .progress import hvp_progress
from .text_inputs import EncodedText, check_fast_tokenizer, encode_text, max_input_tokens

Selector = Callable[[Any], torch.Tensor]  # model outputs (batch B) -> (B,) explained scalar

BASELINE_TOKENS = ("pad", "mask", "unk", "eos", "bos")


@dataclass
class Target:
    """What is explained: ``select(outputs) -> (B,)`` and how to describe it."""

    select: Selector
    name: str
    index: int
    predicted_label: str
    predicted_probability: float


class TextInteractionExplainer:
    """Base of the task explainers.

    Args:
        model: a Hugging Face model (``get_input_embeddings()`` and ``inputs_embeds=`` are used).
        tokenizer: its fast tokenizer.
        baseline: default baseline: ``"pad"`` (the pad token's embedding at every non-special position; special
            tokens such as [CLS]/[SEP] stay as they are and so get zero), ``"mask"``, ``"unk"``, ``"eos"``,
            ``"bos"``, ``"zero"`` (zero vectors), a token id, or a tensor of shape ``(e,)`` or ``(L, e)``.
            Models without a pad token (GPT-2) default to their EOS token.
        smoothing: ``"auto"`` (softplus(beta=20) for ReLU-family activations if the model uses any), a beta,
            or ``None``.
        rtol, atol, max_nodes: the adaptive path rule's tolerance on completeness and node cap.
        internal_batch_size: the most sequences passed through the model at once.
        progress: ``None`` (a progress bar for long calls), ``True`` or ``False``.
    """

    def __init__(
        self,
        model,
        tokenizer,
        *,
        baseline: str | int | torch.Tensor = "pad",
        smoothing: str | float | None = "auto",
        rtol: float = 1e-3,
        atol: float = 1e-4,
        max_nodes: int = 512,
        internal_batch_size: int = 64,
        progress: bool | None = None,
    ):
        get_embeddings = getattr(model, "get_input_embeddings", None)
        embeddings = get_embeddings() if callable(get_embeddings) else None
        if not isinstance(embeddings, torch.nn.Module):
            raise TypeError(
                f"{type(model).__name__} has no input embeddings (get_input_embeddings() returned "
                f"{type(embeddings).__name__}): word attributions need a model whose first layer is a token "
                f"embedding that can be bypassed with inputs_embeds=, e.g. an AutoModelFor... from transformers."
            )
        check_fast_tokenizer(tokenizer)
        self.model = model
        self.tokenizer = tokenizer
        self.embeddings = embeddings
        self.baseline = baseline
        self.smoothing = smoothing
        self.rtol, self.atol, self.max_nodes = rtol, atol, max_nodes
        self.internal_batch_size = internal_batch_size
        self.progress = progress

    # ------------------------------------------------------------------ inputs
    @property
    def device(self) -> torch.device:
        return self.embeddings.weight.device

    def _check_precision(self) -> None:
        dtype = self.embeddings.weight.dtype
        if dtype in (torch.float16, torch.bfloat16):
            raise TypeError(
                f"the model is in {dtype}: Hessians (and path gradients) in half precision are too inexact for "
                f"completeness to hold. Explain a float32 copy: model.float(), or from_pretrained(..., "
                f"dtype=torch.float32)."
            )

    def encode(self, segments: list[str], **kwargs) -> EncodedText:
        """Tokenize (see :func:`~.text_inputs.encode_text`) with this model's length limit and device."""
        return encode_text(self.tokenizer, segments, device=self.device,
                           limit=max_input_tokens(self.tokenizer, self.model), **kwargs)

    def _baseline_token_id(self, name: str) -> int:
        tok = self.tokenizer
        order = {"pad": ("pad", "eos", "unk")}.get(name, (name,))
        for candidate in order:
            token_id = getattr(tok, f"{candidate}_token_id", None)
            if token_id is not None:
                return int(token_id)
        raise ValueError(
            f"baseline={name!r}: the tokenizer has no {name} token. Pass another baseline: one of "
            f"{BASELINE_TOKENS + ('zero',)}, a token id, or a tensor."
        )

    def baseline_embeddings(self, enc: EncodedText, baseline) -> tuple[torch.Tensor, torch.Tensor, str]:
        """``(x, x', description)``: input embeddings ``(L, e)`` and baseline embeddings ``(L, e)``.

        Special tokens (and any token that is not a feature) stay at their input embedding in ``x'``.
        """
        with torch.no_grad():
            ids = enc.input_ids
            x = self.embeddings(ids)[0]
            keep = (enc.token_word < 0)[:, None]
            if isinstance(baseline, torch.Tensor):
                base = baseline.to(device=x.device, dtype=x.dtype).expand_as(x)
                desc = "tensor"
            elif baseline == "zero":
                base, desc = torch.zeros_like(x), "zero"
            elif isinstance(baseline, int) and not isinstance(baseline, bool):
                vocab = self.embeddings.weight.shape[0]
                if not 0 <= baseline < vocab:
                    raise ValueError(f"baseline token id {baseline} is outside the vocabulary (0..{vocab - 1})")
                base = self.embeddings(torch.full_like(ids, baseline))[0]
                desc = f"token:{baseline}"
            elif baseline in BASELINE_TOKENS:
                base = self.embeddings(torch.full_like(ids, self._baseline_token_id(baseline)))[0]
                desc = baseline
            else:
                raise ValueError(
                    f"unknown baseline {baseline!r}; expected one of {BASELINE_TOKENS + ('zero',)}, a token id "
                    f"or a tensor"
                )
            return x, torch.where(keep, x, base), desc

    def model_inputs(self, enc: EncodedText, batch: int) -> dict[str, torch.Tensor]:
        """The tokenizer's own inputs other than ``input_ids``, repeated for a batch of ``batch``."""
        return {k: v.expand(batch, *v.shape[1:]) for k, v in enc.inputs.items() if k != "input_ids"}

    def scalar_function(self, enc: EncodedText, select: Selector) -> Callable[[torch.Tensor], torch.Tensor]:
        """``f(E) -> (B,)`` for word embeddings ``E`` of shape ``(B, L, e)``: the explained output."""

        def f(embeds: torch.Tensor) -> torch.Tensor:
            return select(self.model(inputs_embeds=embeds, **self.model_inputs(enc, embeds.shape[0])))

        return f

    # ------------------------------------------------------------------ the explanation
    def explain_encoded(
        self,
        enc: EncodedText,
        target: Target,
        *,
        interactions: bool = True,
        steps: int | None = None,
        method: str | None = None,
        baseline=None,
        smoothing: Any = "default",
        output: str = "logit",
        meta: dict | None = None,
    ) -> Explanation:
        """Explain ``target.select`` of the model on ``enc`` and build the :class:`Explanation`."""
        self._check_precision()
        if not enc.words:
            raise ValueError("the input has no words to explain (only special tokens)")
        baseline = self.baseline if baseline is None else baseline
        smoothing = self.smoothing if smoothing == "default" else smoothing
        with differentiable_model(self.model):
            x, x_base, baseline_desc = self.baseline_embeddings(enc, baseline)
            f = self.scalar_function(enc, target.select)
            with torch.no_grad():
                model_value = float(f(x[None])[0])
            smooth, smoothing_desc = smoothing_context(smoothing, lambda: f(x[None]))
            kwargs = dict(groups=enc.token_word, steps=steps, method=method, rtol=self.rtol, atol=self.atol,
                          max_nodes=self.max_nodes, internal_batch_size=self.internal_batch_size)
            with smooth:
                if interactions:
                    with hvp_progress(self.progress, len(enc.words)) as bar:
                        result = integrated_hessians(f, x, x_base, progress=bar, **kwargs)
                else:
                    result = integrated_gradients(f, x, x_base, **kwargs)
        return Explanation(
            text=enc.text,
            words=enc.words,
            offsets=enc.offsets,
            tokens=enc.tokens,
            attributions=result.attributions,
            interactions=getattr(result, "interactions", None),
            target=target.name,
            target_index=target.index,
            predicted_label=target.predicted_label,
            predicted_probability=target.predicted_probability,
            f_input=result.f_input,
            f_baseline=result.f_baseline,
            completeness_error=result.completeness_error,
            steps=result.steps,
            baseline=baseline_desc,
            smoothing=smoothing_desc,
            model_logit=model_value,
            output=output,
            word_groups=enc.word_groups,
            separator=enc.separator,
            method=result.rule.name,
            meta={
                "task": type(self).__name__,
                "model": getattr(getattr(self.model, "config", None), "_name_or_path", "") or type(self.model).__name__,
                "scalar_evaluations": result.adaptive.scalar_evaluations if result.adaptive else 0,
                "converged": bool(result.adaptive.converged) if result.adaptive else None,
                **(meta or {}),
            },
        )

    def forward(self, enc: EncodedText):
        """The model's own forward pass on the tokenized input (eval mode, no gradients, its own kernels)."""
        with eval_mode(self.model), torch.no_grad():
            return self.model(**enc.inputs)
