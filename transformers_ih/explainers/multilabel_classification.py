"""Multi-label classification: independent sigmoid labels (toxicity types, topics, emotions, ...)."""

from __future__ import annotations

from typing import Sequence

import torch

from ..explanation import Explanation
from .architectures import check_head
from .base import Target, TextInteractionExplainer
from .targets import check_output, class_selector, label_name, label_names, resolve_label


class MultiLabelClassificationInteractionExplainer(TextInteractionExplainer):
    """Word attributions and interactions for each label of a multi-label (sigmoid) classifier.

    >>> explainer = MultiLabelClassificationInteractionExplainer(model, tokenizer)
    >>> explanations = explainer("you are a stupid idiot", labels=["toxic", "insult"])   # {label: Explanation}

    Each label is explained separately: its logit (default; the log-odds of its sigmoid probability), or
    ``output="probability"`` (the sigmoid) or ``"log_probability"`` (log-sigmoid). In each explanation
    ``predicted_label`` is the label if the model's probability is at least ``threshold`` (default 0.5), else
    ``"not <label>"``, and ``predicted_probability`` the probability of that decision; ``meta`` has
    ``probability`` (the label's sigmoid) and ``predicted_labels`` (all labels over the threshold).
    Other options as for :class:`~.base.TextInteractionExplainer`.
    """

    def __init__(self, model, tokenizer, *, threshold: float = 0.5, **kwargs):
        super().__init__(model, tokenizer, **kwargs)
        check_head(model, "sequence classification", "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES")
        problem = getattr(model.config, "problem_type", None)
        if problem in ("single_label_classification", "regression"):
            raise TypeError(
                f"the model's problem_type is {problem!r}: its labels are not independent sigmoids. Use "
                f"SequenceClassificationInteractionExplainer for softmax classes."
            )
        self.threshold = threshold

    def __call__(
        self,
        text: str,
        labels: Sequence[int | str] | str | None = None,
        *,
        output: str = "logit",
        interactions: bool = True,
        steps: int | None = None,
        method: str | None = None,
        baseline=None,
        smoothing="default",
    ) -> dict[str, Explanation]:
        """Explain ``labels`` of ``text``: ``None`` (every label), ``"predicted"`` (those over the threshold; may be
        none), or a list of label names / indices. Returns ``{label name: Explanation}`` in label order."""
        check_output(output)
        enc = self.encode([text])
        logits = self.forward(enc).logits[0]
        if logits.dim() != 1:
            raise TypeError(f"{type(self.model).__name__} does not output one logit vector per text; use a "
                            f"sequence-classification model (AutoModelForSequenceClassification)")
        config, n = self.model.config, logits.shape[0]
        probs = torch.sigmoid(logits.double())
        predicted = [i for i in range(n) if float(probs[i]) >= self.threshold]
        if labels is None:
            chosen = list(range(n))
        elif isinstance(labels, str) and labels == "predicted":
            chosen = predicted
        else:
            if isinstance(labels, (str, int)):
                labels = [labels]
            if len(labels) == 0:
                raise ValueError(f"labels is empty: pass None (every label), 'predicted', or some of "
                                 f"{label_names(config, n)}")
            chosen = sorted({resolve_label(config, label, n) for label in labels})
        if not chosen:
            return {}
        targets = []
        for i in chosen:
            name, p = label_name(config, i), float(probs[i])
            on = p >= self.threshold
            targets.append(Target(class_selector(i, output, normalise="sigmoid"), name, i,
                                  name if on else f"not {name}", p if on else 1.0 - p))
        # the labels share one input: explained together, their model calls shared
        results = self.explain_batches(
            [enc] * len(chosen), targets, interactions=interactions, steps=steps, method=method, baseline=baseline,
            smoothing=smoothing, output=output, meta={"threshold": self.threshold})
        for i, e in zip(chosen, results):
            e.meta.update(probability=float(probs[i]), predicted_labels=[label_name(config, j) for j in predicted])
        return {e.target: e for e in results}
