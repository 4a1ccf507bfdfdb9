"""Sequence classification (sentiment, topic, ...): explain one class's logit (or probability)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from typing_extensions import Unpack, overload

from ..results.explanation import Explanation
from ..text.encoding import EncodedText
from ..text.options import CallOptions
from ..text.requests import ExplainedOutput, Request
from ..text.run import ExplainRun
from ..text.targets import class_selector, label_name, resolve_label
from .base import TextInteractionExplainer

SEQUENCE_CLASSIFICATION = ("sequence classification", "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES")


class SequenceClassificationInteractionExplainer(TextInteractionExplainer):
    """Word attributions and word-pair interactions for a sequence classifier.

    >>> explainer = SequenceClassificationInteractionExplainer(model, tokenizer)
    >>> explanation = explainer("this film is not bad at all")
    >>> explanation.attributions      # (W,) sums to f(x) - f(x')
    >>> explanation.interactions      # (W, W) symmetric, rows sum to attributions
    >>> explanations = explainer(dataset["sentence"])   # many texts: a list, in order

    See :class:`~.base.TextInteractionExplainer` for the constructor's options.
    """

    head = SEQUENCE_CLASSIFICATION

    @overload
    def __call__(self, text: str, target: int | str | None = None, **options: Unpack[CallOptions]) -> Explanation: ...  # type: ignore[overload-overlap]
    @overload
    def __call__(
        self, text: Sequence[str], target: int | str | None = None, **options: Unpack[CallOptions]
    ) -> list[Explanation]: ...
    def __call__(
        self, text: str | Sequence[str], target: int | str | None = None, **options: Unpack[CallOptions]
    ) -> Explanation | list[Explanation]:
        """Explain the model's output for ``text`` (a string, or many: a list, a ``datasets`` column, ...).

        Args:
            text: one text (an :class:`Explanation`) or many (a list of them, in input order).
            target: class index or label name (``model.config.id2label``); default the predicted class.
            **options: see :class:`~transformers_ih.text.options.CallOptions` (``output``, ``interactions``,
                ``steps``, ``method``, ``baseline``, ``smoothing``, ``features``, ``rows``).
        """
        return self.explain(text, target, **options)

    def requests(self, run: ExplainRun, text: str, target: int | str | None = None) -> list[Request]:
        """The request for one text: its class ``target`` (see :meth:`__call__`)."""
        enc = run.encode([text], features=run.options.features)
        return [Request(enc, self.class_target(run, enc, target))]

    def class_target(self, run: ExplainRun, enc: EncodedText, target) -> ExplainedOutput:
        """Class ``target`` (default: the predicted class) of the model on ``enc``, and its prediction."""
        logits = run.forward(enc).logits[0]
        if logits.dim() != 1:
            raise TypeError(
                f"{type(self.model).__name__} does not output one logit vector per text; use a "
                f"sequence-classification model (AutoModelForSequenceClassification)"
            )
        probs = torch.softmax(logits.double(), dim=-1)
        predicted = int(torch.argmax(probs))
        index = predicted if target is None else resolve_label(self.model.config, target, logits.shape[0])
        config = self.model.config
        output = cast(str, run.options.output)  # a task's requests see a named output (requests_of)
        return ExplainedOutput(
            class_selector(index, output),
            label_name(config, index),
            "class",
            index,
            label_name(config, predicted),
            float(probs[predicted]),
        )
