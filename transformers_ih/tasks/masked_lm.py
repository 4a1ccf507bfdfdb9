"""Masked language modelling: explain the score of a chosen token at the mask."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from typing_extensions import Unpack, overload

from ..results.explanation import Explanation
from ..text.encoding import hold_tokens
from ..text.options import CallOptions
from ..text.requests import ExplainedOutput, Request
from ..text.run import ExplainRun
from ..text.targets import class_selector, token_id
from .base import TextInteractionExplainer


class MaskedLMInteractionExplainer(TextInteractionExplainer):
    """Word attributions and interactions behind a masked LM's score for a token at the mask.

    >>> explainer = MaskedLMInteractionExplainer(model, tokenizer)
    >>> explanation = explainer(f"paris is the {tokenizer.mask_token} of france.", target="capital")

    ``text`` holds the tokenizer's mask token exactly once; the mask is not a feature (it stays as it is in the
    baseline). The explained output is the ``target`` token's logit at the mask (default; ``output=
    "probability"`` or ``"log_probability"`` for the softmax over the vocabulary); ``target`` is a token id, a token
    of the vocabulary (``"Ġcapital"``) or a text that is one token (``"capital"``); default the model's top token.
    """

    head = ("masked language modelling", "MODEL_FOR_MASKED_LM_MAPPING_NAMES")

    def __init__(self, model, tokenizer, **kwargs):
        super().__init__(model, tokenizer, **kwargs)
        if getattr(tokenizer, "mask_token_id", None) is None:
            raise TypeError(f"{type(tokenizer).__name__} has no mask token: masked-LM explanations need one")

    @overload
    def __call__(self, text: str, target: int | str | None = None, **options: Unpack[CallOptions]) -> Explanation: ...  # type: ignore[overload-overlap]
    @overload
    def __call__(
        self, text: Sequence[str], target: int | str | None = None, **options: Unpack[CallOptions]
    ) -> list[Explanation]: ...
    def __call__(
        self, text: str | Sequence[str], target: int | str | None = None, **options: Unpack[CallOptions]
    ) -> Explanation | list[Explanation]:
        """Explain the score of ``target`` at the mask of ``text`` (or of each of many texts: a list).

        Args:
            text: holds the tokenizer's mask token exactly once.
            target: a token id, a vocabulary token or a text that is one token; default the model's top token.
            **options: see :class:`~transformers_ih.text.options.CallOptions` (``output``, ``interactions``,
                ``steps``, ``method``, ``baseline``, ``smoothing``, ``features``, ``rows``).
        """
        return self.explain(text, target, **options)

    def requests(self, run: ExplainRun, text: str, target: int | str | None = None) -> list[Request]:
        """Explain the score of ``target`` at the mask of ``text`` (or of each of many texts)."""
        enc = run.encode([text], features=run.options.features)
        mask = (enc.input_ids[0] == self.tokenizer.mask_token_id).nonzero()[:, 0].tolist()
        if len(mask) != 1:
            raise ValueError(
                f"text must contain the mask token {self.tokenizer.mask_token!r} exactly once; it occurs "
                f"{len(mask)} times"
            )
        position = mask[0]
        enc = hold_tokens(enc, [position])
        logits = run.forward(enc).logits[0]
        vocab = cast(torch.Tensor, run.embeddings.weight).shape[0]
        if logits.dim() != 2 or logits.shape[0] != enc.num_tokens or logits.shape[1] < len(self.tokenizer) - 1:
            raise TypeError(
                f"{type(self.model).__name__} does not output vocabulary logits per token; use a masked-LM "
                f"model (AutoModelForMaskedLM)"
            )
        probs = torch.softmax(logits[position].double(), dim=-1)
        predicted = int(torch.argmax(probs))
        index = predicted if target is None else token_id(self.tokenizer, target, min(vocab, logits.shape[1]))
        output = cast(str, run.options.output)  # a task's requests see a named output (requests_of)
        explained = ExplainedOutput(
            class_selector(index, output, position=position),
            self.tokenizer.convert_ids_to_tokens(index),
            "token",
            index,
            self.tokenizer.convert_ids_to_tokens(predicted),
            float(probs[predicted]),
        )
        return [Request(enc, explained, {"mask_token_index": position, "target_probability": float(probs[index])})]
