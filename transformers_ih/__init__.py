"""transformers-ih: word-level Integrated Gradients and Integrated Hessians for Hugging Face transformers.

>>> from transformers_ih import SequenceClassificationInteractionExplainer
>>> explanation = SequenceClassificationInteractionExplainer(model, tokenizer)("this film is not bad at all")
"""

from .engine import integrated_gradients, integrated_hessians, smooth_relu
from .explainers import SequenceClassificationInteractionExplainer, TextInteractionExplainer
from .explanation import Explanation

__version__ = "0.1.0"

__all__ = [
    "Explanation",
    "SequenceClassificationInteractionExplainer",
    "TextInteractionExplainer",
    "integrated_gradients",
    "integrated_hessians",
    "smooth_relu",
]
