"""Multi-label classification: independent sigmoid labels (toxicity types, topics, emotions, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from typing_extensions import Unpack, overload

from ..results.explanation import Explanation
from ..text.options import CallOptions
from ..text.requests import ExplainedOutput, Request
from ..text.run import ExplainRun
from ..text.targets import class_selector, label_name, label_names, resolve_label
from .base import TextInteractionExplainer
from .sequence_classification import SEQUENCE_CLASSIFICATION


class MultiLabelClassificationInteractionExplainer(TextInteractionExplainer):
    """Word attributions and interactions for each label of a multi-label (sigmoid) classifier.

    >>> explainer = MultiLabelClassificationInteractionExplainer(model, tokenizer)
    >>> explanations = explainer("you are a stupid idiot", labels=["toxic", "insult"])   # {label: Explanation}
    >>> many = explainer(texts, labels="predicted")                                   # a list of such dicts

    Each label is explained separately: its logit (default; the log-odds of its sigmoid probability), or
    ``output="probability"`` (the sigmoid) or ``"log_probability"`` (log-sigmoid). In each explanation
    ``predicted_label`` is the label if the model's probability is at least ``threshold`` (default 0.5), else
    ``"not <label>"``, and ``predicted_probability`` the probability of that decision; ``meta`` has
    ``probability`` (the label's sigmoid) and ``predicted_labels`` (all labels over the threshold).
    """

    head = SEQUENCE_CLASSIFICATION

    def __init__(self, model, tokenizer, *, threshold: float = 0.5, **kwargs):
        super().__init__(model, tokenizer, **kwargs)
        problem = getattr(model.config, "problem_type", None)
        if problem in ("single_label_classification", "regression"):
            raise TypeError(
                f"the model's problem_type is {problem!r}: its labels are not independent sigmoids. Use "
                f"SequenceClassificationInteractionExplainer for softmax classes."
            )
        self.threshold = threshold

    @overload
    def __call__(  # type: ignore[overload-overlap]
        self, text: str, labels: Sequence[int | str] | str | None = None, **options: Unpack[CallOptions]
    ) -> dict[str, Explanation]: ...
    @overload
    def __call__(
        self, text: Sequence[str], labels: Sequence[int | str] | str | None = None, **options: Unpack[CallOptions]
    ) -> list[dict[str, Explanation]]: ...
    def __call__(
        self, text: str | Sequence[str], labels: Sequence[int | str] | str | None = None, **options: Unpack[CallOptions]
    ) -> dict[str, Explanation] | list[dict[str, Explanation]]:
        """Explain ``labels`` of ``text``: ``{label name: Explanation}`` in label order (a list of them for many
        texts).

        Args:
            labels: ``None`` (every label), ``"predicted"`` (those over the threshold; may be none), or a list of
                label names / indices.
            **options: see :class:`~transformers_ih.text.options.CallOptions` (``output``, ``interactions``,
                ``steps``, ``method``, ``baseline``, ``smoothing``, ``features``, ``rows``).
        """
        return self.explain(text, labels, **options)

    def requests(self, run: ExplainRun, text: str, labels: Sequence[int | str] | str | None = None) -> list[Request]:
        """Explain ``labels`` of ``text``: ``None`` (every label), ``"predicted"`` (those over the threshold; may be
        none), or a list of label names / indices. Returns ``{label name: Explanation}`` in label order (a list of
        them for many texts)."""
        enc = run.encode([text], features=run.options.features)
        logits = run.forward(enc).logits[0]
        if logits.dim() != 1:
            raise TypeError(
                f"{type(self.model).__name__} does not output one logit vector per text; use a "
                f"sequence-classification model (AutoModelForSequenceClassification)"
            )
        config, n = self.model.config, logits.shape[0]
        probs = torch.sigmoid(logits.double())
        predicted = [i for i in range(n) if float(probs[i]) >= self.threshold]
        names = [label_name(config, j) for j in predicted]
        output = cast(str, run.options.output)  # a task's requests see a named output (requests_of)
        requests = []
        for i in self._chosen(labels, predicted, n):
            name, p = label_name(config, i), float(probs[i])
            on = p >= self.threshold
            explained = ExplainedOutput(
                class_selector(i, output, normalise="sigmoid"),
                name,
                "class",
                i,
                name if on else f"not {name}",
                p if on else 1.0 - p,
            )
            meta = {"threshold": self.threshold, "probability": p, "predicted_labels": list(names)}
            requests.append(
                Request(enc, explained, meta, key=name)
            )  # one input: explained together, model calls shared
        return requests

    def shape(self, explanations, requests):
        return {request.key: e for request, e in zip(requests, explanations)}

    def _chosen(self, labels, predicted: list[int], n: int) -> list[int]:
        config = self.model.config
        if labels is None:
            return list(range(n))
        if isinstance(labels, str) and labels == "predicted":
            return predicted
        if isinstance(labels, (str, int)):
            labels = [labels]
        if len(labels) == 0:
            raise ValueError(
                f"labels is empty: pass None (every label), 'predicted', or some of {label_names(config, n)}"
            )
        return sorted({resolve_label(config, label, n) for label in labels})
