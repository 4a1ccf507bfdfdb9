"""What every task explainer shares: checking the model, tokenizing, baselines, the scalar function of the
word embeddings, the engine call with the model made differentiable (and restored), and the result.

A task explainer (see :mod:`.sequence_classification`) only says which texts to tokenize, which output of
the model to explain (a function of the model's outputs giving one scalar per batch row), and how to name
the prediction and target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

import torch

from ..engine.integrated_gradients import integrated_gradients_reduced
from ..engine.integrated_hessians import integrated_hessians_reduced
from ..engine.reduction import ReducedFunction
from ..engine.smoothing import piecewise_linear_activations, smoothing_context
from ..explanation import Explanation
from .architectures import forward_embeds
from .expected_baseline import average_over_baselines, expected_baselines, is_expected
from .model_state import differentiable_model, eval_mode
from .progress import hvp_progress, text_progress
from .text_inputs import EncodedText, check_fast_tokenizer, encode_text, max_input_tokens

Selector = Callable[[Any], torch.Tensor]  # model outputs (batch B) -> (B,) explained scalar

BASELINE_TOKENS = ("pad", "mask", "unk", "eos", "bos")


def is_text_collection(value) -> bool:
    """True for several texts: a list or tuple, or any other sequence that is not a string (e.g. a ``datasets``
    column, ``dataset["sentence"]``, or a numpy array of strings)."""
    return not isinstance(value, (str, bytes)) and isinstance(value, (list, tuple, Sequence, np.ndarray))


def length_buckets(lengths: list[int], size: int, max_padding: float = 0.1) -> list[list[int]]:
    """Group indices of inputs of token lengths ``lengths`` for batching: sorted by length, at most ``size``
    per group, and a group grows only while its padding (tokens added to reach its longest input) stays within
    ``max_padding`` of its real tokens. On a CPU every padded token costs as much as a real one, so batching
    pays only when padding stays small. Returns lists of indices, shortest inputs first."""
    groups: list[list[int]] = []
    total = 0
    for j in sorted(range(len(lengths)), key=lambda j: lengths[j]):
        group = groups[-1] if groups else None
        padded = lengths[j] * (len(group) + 1) if group else 0  # the group's tokens with j, all padded to j's length
        if group and len(group) < max(1, size) and padded <= (1 + max_padding) * (total + lengths[j]):
            group.append(j)
            total += lengths[j]
        else:
            groups.append([j])
            total = lengths[j]
    return groups


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
            Models without a pad token (GPT-2) default to their EOS token. ``"expected"``: Integrated Hessians
            averaged over the baselines of ``background`` (see :mod:`.expected_baseline`).
        background: for ``baseline="expected"``: ``None`` (16 random-token baselines), a number of random-token
            baselines, or a list of texts whose tokens fill the input's word positions (padded with pad).
        smoothing: ``"auto"`` (softplus(beta=20) for ReLU-family activations if the model uses any), a beta,
            or ``None``.
        rtol, atol, max_nodes: the adaptive path rule's tolerance on completeness and node cap.
        internal_batch_size: the most sequences passed through the model at once.
        text_batch_size: for lists of texts, how many are explained together (their model calls shared).
        progress: ``None`` (a progress bar for long calls), ``True`` or ``False``.
    """

    #: for lists of texts: the most padding a batch may add, as a fraction of its real tokens (see
    #: :func:`length_buckets`); texts of more different lengths are explained in separate batches
    max_padding: float = 0.1

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
        text_batch_size: int = 16,
        progress: bool | None = None,
        background=None,
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
        self.text_batch_size = text_batch_size
        self.progress = progress
        self.background = background

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

    def _baseline_token_id(self, name: str) -> tuple[int, str]:
        """The token id of baseline ``name`` and its description; ``"pad"`` falls back to the EOS token, then UNK,
        for tokenizers without a pad token (GPT-2), described as e.g. ``"eos (no pad token)"``."""
        tok = self.tokenizer
        order = {"pad": ("pad", "eos", "unk")}.get(name, (name,))
        for candidate in order:
            token_id = getattr(tok, f"{candidate}_token_id", None)
            if token_id is not None:
                return int(token_id), candidate if candidate == name else f"{candidate} (no {name} token)"
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
                token_id, desc = self._baseline_token_id(baseline)
                base = self.embeddings(torch.full_like(ids, token_id))[0]
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
            inputs = self.model_inputs(enc, embeds.shape[0])
            return select(forward_embeds(self.model, self.embeddings, enc.input_ids, embeds, inputs))

        return f

    # ------------------------------------------------------------------ the explanation
    def explain_encoded(self, enc: EncodedText, target: Target, **options) -> Explanation:
        """Explain ``target.select`` of the model on ``enc`` and build the :class:`Explanation`
        (``options``: those of :meth:`explain_many`)."""
        return self.explain_many([enc], [target], **options)[0]

    def _padded(self, encs: list[EncodedText]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The tokenizer's inputs of ``encs`` padded on the right to one length by the tokenizer's own ``pad``
        (attention mask 0 on padding), and ``(N, L)`` token-to-word maps (``-1`` on padding)."""
        if len(encs) == 1:
            return encs[0].inputs, encs[0].token_word[None]
        length = max(e.num_tokens for e in encs)
        features = [{k: v[0].tolist() for k, v in e.inputs.items()} for e in encs]
        padded = self.tokenizer.pad(features, padding="longest", padding_side="right", return_tensors="pt")
        inputs = {k: torch.as_tensor(v).to(self.device) for k, v in padded.items()}
        token_word = torch.stack([torch.nn.functional.pad(e.token_word, (0, length - e.num_tokens), value=-1)
                                  for e in encs])
        return inputs, token_word

    def explain_batches(self, encs: list[EncodedText], targets: list[Target], **options) -> list[Explanation]:
        """:meth:`explain_many` over any number of inputs, in groups of at most ``text_batch_size`` of (nearly)
        equal token length (see :func:`length_buckets`), returned in the input order. A progress bar counts
        texts when there are many (``progress``)."""
        results: list[Explanation | None] = [None] * len(encs)
        with text_progress(self.progress, len(encs)) as bar:
            for chunk in length_buckets([e.num_tokens for e in encs], self.text_batch_size, self.max_padding):
                for j, explanation in zip(chunk, self.explain_many([encs[j] for j in chunk],
                                                                   [targets[j] for j in chunk], **options)):
                    results[j] = explanation
                if bar is not None:
                    bar.update(len(chunk))
        return results

    def explain_many(
        self,
        encs: list[EncodedText],
        targets: list[Target],
        *,
        interactions: bool = True,
        steps: int | None = None,
        method: str | None = None,
        baseline=None,
        smoothing: Any = "default",
        output: str = "logit",
        meta: dict | None = None,
    ) -> list[Explanation]:
        """Explain several inputs at once: padded to one length (right side, attention mask 0), their path
        rules refine in lockstep and all model calls (scalar path passes, gradients, Hessian-vector products)
        are shared, ``internal_batch_size`` sequences at a time. Each result equals the one-at-a-time result up
        to floating-point rounding (and, for adaptive rules, within their tolerance)."""
        self._check_precision()
        for enc in encs:
            if not enc.words:
                raise ValueError(f"the input {enc.text!r} has no words to explain (only special tokens)")
        baseline = self.baseline if baseline is None else baseline
        smoothing = self.smoothing if smoothing == "default" else smoothing
        inputs, token_word = self._padded(encs)
        padded = [replace(e, inputs={k: v[j : j + 1] for k, v in inputs.items()}, token_word=token_word[j])
                  for j, e in enumerate(encs)]
        with differentiable_model(self.model, second_order=interactions):
            K = 1
            if is_expected(baseline):  # K baselines per input: K problems each, averaged below
                sets = [expected_baselines(self, e, self.background) for e in padded]
                K = sets[0][1].shape[0]
                pairs = [(xi, bases, f"expected(n={K})") for xi, bases, _ in sets]
                x = torch.stack([p[0] for p in pairs]).repeat_interleave(K, 0)
                x_base, token_word = torch.cat([p[1] for p in pairs]), token_word.repeat_interleave(K, 0)
            else:
                pairs = [self.baseline_embeddings(e, baseline) for e in padded]
                x, x_base = torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])
            f = self._multi_function(inputs, [t.select for t in targets], K)
            everyone = torch.arange(len(encs), device=self.device)
            values = []  # the model's explained values, unsmoothed; the same forward detects ReLU-family ops
            found = piecewise_linear_activations(lambda: values.append(f(x[::K], everyone * K)))
            model_values = values[0].tolist()
            smooth, smoothing_desc = smoothing_context(smoothing, lambda: found)
            reduced = ReducedFunction(f, x, x_base, list(token_word), self.internal_batch_size, multi=True)
            path = dict(steps=steps, method=method, rtol=self.rtol, atol=self.atol, max_nodes=self.max_nodes)
            with smooth:
                if interactions:
                    with hvp_progress(self.progress, sum(len(e.words) for e in encs)) as bar:
                        results = integrated_hessians_reduced(reduced, progress=bar, **path)
                else:
                    results = integrated_gradients_reduced(reduced, **path)
            if is_expected(baseline):
                results = average_over_baselines(results, K, sets[0][2])
        model_name = getattr(getattr(self.model, "config", None), "_name_or_path", "") or type(self.model).__name__
        return [
            Explanation(
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
                    "model": model_name,
                    "scalar_evaluations": result.adaptive.scalar_evaluations if result.adaptive else 0,
                    "converged": bool(result.adaptive.converged) if result.adaptive else None,
                    **getattr(result, "meta", {}),
                    **(meta or {}),
                },
            )
            for enc, target, result, model_value, (_, _, baseline_desc) in zip(encs, targets, results, model_values, pairs)
        ]

    def _multi_function(self, inputs: dict[str, torch.Tensor], selects: list[Selector], per_input: int = 1):
        """``f(E, problems) -> (B,)``: row ``b`` is input ``problems[b] // per_input`` (of the padded ``inputs``)
        with word embeddings ``E[b]``, and its value that input's explained output."""

        def f(embeds: torch.Tensor, problems: torch.Tensor) -> torch.Tensor:
            problems = problems // per_input
            rows = {k: v[problems] for k, v in inputs.items()}
            ids = rows.pop("input_ids")
            outputs = forward_embeds(self.model, self.embeddings, ids, embeds, rows)
            if len(selects) == 1:
                return selects[0](outputs)
            y = embeds.new_zeros(embeds.shape[0])
            for j in problems.unique().tolist():
                mask = problems == j
                y = y.index_put((mask.nonzero()[:, 0],), selects[j](_rows_of(outputs, mask)))
            return y

        return f

    def forward(self, enc: EncodedText):
        """The model's own forward pass on the tokenized input (eval mode, no gradients, its own kernels)."""
        with eval_mode(self.model), torch.no_grad():
            return self.model(**enc.inputs)


def _rows_of(outputs, mask: torch.Tensor):
    """The rows ``mask`` of a model output (every tensor field with the batch as first dimension)."""
    batch = mask.shape[0]
    fields = {k: v[mask] for k, v in outputs.items() if isinstance(v, torch.Tensor) and v.dim() and v.shape[0] == batch}
    return type(outputs)(**fields)
