"""Sequence classification (sentiment, topic, ...): explain one class's logit (or probability)."""

from __future__ import annotations

import torch

from .base import TextInteractionExplainer
from ..text.requests import Explained, Job
from ..text.options import ExplainOptions
from ..text.targets import class_selector, label_name, resolve_label
from ..text.encoding import EncodedText

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

    def jobs(self, text: str, target: int | str | None = None, *, options: ExplainOptions) -> list[Job]:
        """Explain the model's output for ``text`` (a string, or many: a list, a ``datasets`` column, ...).

        Args:
            target: class index or label name (``model.config.id2label``); default the predicted class.
        """
        enc = self.encode([text], features=options.features)
        return [Job(enc, self.class_target(enc, target, options))]

    def class_target(self, enc: EncodedText, target, options: ExplainOptions) -> Explained:
        """Class ``target`` (default: the predicted class) of the model on ``enc``, and its prediction."""
        logits = self.forward(enc).logits[0]
        if logits.dim() != 1:
            raise TypeError(f"{type(self.model).__name__} does not output one logit vector per text; use a "
                            f"sequence-classification model (AutoModelForSequenceClassification)")
        probs = torch.softmax(logits.double(), dim=-1)
        predicted = int(torch.argmax(probs))
        index = predicted if target is None else resolve_label(self.model.config, target, logits.shape[0])
        config = self.model.config
        return Explained(class_selector(index, options.output), label_name(config, index), "class", index, label_name(config, predicted),
                         float(probs[predicted]))
