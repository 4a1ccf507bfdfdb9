"""Task explainers: each turns (model, tokenizer, text, target) into a scalar function of per-word coordinates
and returns an :class:`~transformers_ih.Explanation`."""

from .base import TextInteractionExplainer
from .sequence_classification import SequenceClassificationInteractionExplainer

__all__ = ["SequenceClassificationInteractionExplainer", "TextInteractionExplainer"]
