"""Zero-shot classification with an NLI model, as ``pipeline("zero-shot-classification")`` does it."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from typing_extensions import Unpack, overload

from ..results.explanation import Explanation
from ..text.encoding import PAIR_SEPARATOR
from ..text.options import CallOptions
from ..text.requests import ExplainedOutput, Request
from ..text.run import ExplainRun
from .base import TextInteractionExplainer

_SENTINEL = "\x00"


def parse_labels(labels) -> list[str]:
    """Candidate labels as the pipeline takes them: a list, or one comma-separated string."""
    if labels is None:
        raise ValueError("labels are missing: pass the candidate labels, e.g. ['sports', 'politics']")
    if isinstance(labels, str):
        labels = [label.strip() for label in labels.split(",") if label.strip()]
    labels = list(labels)
    if not labels:
        raise ValueError("labels are missing: pass at least one candidate label, e.g. ['sports', 'politics']")
    for label in labels:
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"every candidate label must be a non-empty string, got {label!r}")
    if len(set(labels)) != len(labels):
        raise ValueError(f"candidate labels must be distinct, got {labels}")
    return labels


class ZeroShotClassificationInteractionExplainer(TextInteractionExplainer):
    """Word attributions and interactions for zero-shot classification with an NLI model.

    >>> explainer = ZeroShotClassificationInteractionExplainer(model, tokenizer)   # e.g. facebook/bart-large-mnli
    >>> explanations = explainer("the match went to penalties", ["sports", "politics"])   # {label: Explanation}

    Each candidate label is posed as the NLI pair ``(text, hypothesis_template.format(label))``, tokenized as the
    pipeline does. Scores are the pipeline's: with several labels and ``multi_label=False`` a softmax of the
    entailment logits across labels; with ``multi_label=True`` (or one label) a softmax of
    ``[contradiction, entailment]`` for each label. The entailment class is the ``config.label2id`` entry starting
    with "entail" (case-insensitive); the contradiction class is, as in the pipeline, class 0 (or the last one if
    entailment is class 0).

    What is explained for each label (on its own pair): the entailment logit (``multi_label=False``), whose
    softmax across labels is the score, or the entailment minus contradiction logit (``multi_label=True``), whose
    sigmoid is the score. Both texts are features: ``interactions[i, j]`` for a text word ``i`` and a label word
    ``j`` (``meta["label_words"]``) is how much they act together. ``predicted_label`` / ``predicted_probability``
    are the top label and its score; ``meta["scores"]`` holds every label's score.
    """

    head = ("sequence classification (NLI)", "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES")
    outputs = ("logit",)

    def __init__(self, model, tokenizer, **kwargs):
        super().__init__(model, tokenizer, **kwargs)
        label2id = getattr(model.config, "label2id", None) or {}
        entail = [int(i) for name, i in label2id.items() if str(name).lower().startswith("entail")]
        num_labels = int(getattr(model.config, "num_labels", len(label2id)))
        if not entail or num_labels < 2:
            raise TypeError(
                f"the model is not an NLI classifier: its labels {list(label2id)} have no 'entailment' class. "
                f"Zero-shot classification needs a model trained on NLI (e.g. *-mnli) with an entailment label in "
                f"config.label2id."
            )
        self.entailment_id = entail[0]
        self.contradiction_id = num_labels - 1 if self.entailment_id == 0 else 0

    @overload
    def __call__(  # type: ignore[overload-overlap]
        self,
        text: str,
        labels: Sequence[str] | str,
        hypothesis_template: str = "This example is {}.",
        *,
        multi_label: bool = False,
        **options: Unpack[CallOptions],
    ) -> dict[str, Explanation]: ...
    @overload
    def __call__(
        self,
        text: Sequence[str],
        labels: Sequence[str] | str,
        hypothesis_template: str = "This example is {}.",
        *,
        multi_label: bool = False,
        **options: Unpack[CallOptions],
    ) -> list[dict[str, Explanation]]: ...
    def __call__(
        self,
        text: str | Sequence[str],
        labels: Sequence[str] | str,
        hypothesis_template: str = "This example is {}.",
        *,
        multi_label: bool = False,
        **options: Unpack[CallOptions],
    ) -> dict[str, Explanation] | list[dict[str, Explanation]]:
        """Explain each candidate label: ``{label: Explanation}`` in the order given (a list of them for many texts).

        Args:
            labels: the candidate labels (a list, or one string of comma-separated labels).
            hypothesis_template: the NLI hypothesis, with ``{}`` where the label goes.
            multi_label: score each label on its own (entailment vs contradiction) instead of across labels.
            **options: see :class:`~transformers_ih.text.options.CallOptions` (``output``, ``interactions``,
                ``steps``, ``method``, ``baseline``, ``smoothing``, ``features``, ``rows``).
        """
        return self.explain(text, labels, hypothesis_template, multi_label=multi_label, **options)

    def requests(  # type: ignore[override]
        self,
        run: ExplainRun,
        text: str,
        labels: Sequence[str] | str,
        hypothesis_template: str = "This example is {}.",
        *,
        multi_label: bool = False,
    ) -> list[Request]:
        """Explain each candidate label; returns ``{label: Explanation}`` in the order given (a list of them for
        many texts)."""
        labels = parse_labels(labels)
        if not isinstance(hypothesis_template, str) or hypothesis_template.format(labels[0]) == hypothesis_template:
            raise ValueError(
                f"hypothesis_template {hypothesis_template!r} has no place for the label: include {{}}, "
                f"e.g. 'This example is {{}}.'"
            )
        hypotheses = [hypothesis_template.format(label) for label in labels]
        encs = [
            run.encode([text, h], separator=PAIR_SEPARATOR, names=("text", "hypothesis"), features=run.options.features)
            for h in hypotheses
        ]
        logits = torch.stack([run.forward(enc).logits[0] for enc in encs]).double()
        if logits.dim() != 2 or logits.shape[1] <= max(self.entailment_id, self.contradiction_id):
            raise TypeError(f"{type(self.model).__name__} does not output one NLI logit vector per pair")
        e, c = self.entailment_id, self.contradiction_id
        pairwise = multi_label or len(labels) == 1
        if pairwise:
            scores = torch.softmax(logits[:, [c, e]], dim=-1)[:, 1]
        else:
            scores = torch.softmax(logits[:, e], dim=0)
        top = int(torch.argmax(scores))
        all_scores = {label: float(s) for label, s in zip(labels, scores)}

        def select(outputs):
            return outputs.logits[:, e] - outputs.logits[:, c] if pairwise else outputs.logits[:, e]

        common = {
            "explained": "entailment - contradiction logit" if pairwise else "entailment logit",
            "multi_label": bool(multi_label),
            "entailment_id": e,
            "contradiction_id": c,
            "scores": dict(all_scores),
        }
        start = len(text) + len(PAIR_SEPARATOR) + hypothesis_template.format(_SENTINEL).index(_SENTINEL)
        requests = []
        for i, (label, hypothesis, enc) in enumerate(zip(labels, hypotheses, encs)):
            label_words = [w for w, (s, t) in enumerate(enc.offsets) if s < start + len(label) and t > start]
            meta = {**common, "hypothesis": hypothesis, "label_words": label_words, "score": all_scores[label]}
            # one pair per label: explained together (padded to one length), their model calls shared
            requests.append(
                Request(
                    enc,
                    ExplainedOutput(select, label, "candidate", i, labels[top], all_scores[labels[top]]),
                    meta,
                    key=label,
                )
            )
        return requests

    def shape(self, explanations, requests):
        return {request.key: x for request, x in zip(requests, explanations)}
