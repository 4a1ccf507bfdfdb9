"""transformers-ih: word-level Integrated Gradients and Integrated Hessians for Hugging Face transformers.

>>> from transformers_ih import SequenceClassificationInteractionExplainer
>>> explanation = SequenceClassificationInteractionExplainer(model, tokenizer)("this film is not bad at all")
"""

from .engine import integrated_gradients, integrated_hessians, smooth_relu
from .explainers import (
    CausalLMInteractionExplainer,
    MaskedLMInteractionExplainer,
    MultiLabelClassificationInteractionExplainer,
    PairClassificationInteractionExplainer,
    QuestionAnsweringInteractionExplainer,
    Seq2SeqLMInteractionExplainer,
    SequenceClassificationInteractionExplainer,
    TextInteractionExplainer,
    TokenClassificationInteractionExplainer,
    ZeroShotClassificationInteractionExplainer,
)
from .explanation import Explanation

__version__ = "0.1.0"

__all__ = [
    "CausalLMInteractionExplainer",
    "Explanation",
    "MaskedLMInteractionExplainer",
    "MultiLabelClassificationInteractionExplainer",
    "PairClassificationInteractionExplainer",
    "QuestionAnsweringInteractionExplainer",
    "Seq2SeqLMInteractionExplainer",
    "SequenceClassificationInteractionExplainer",
    "TextInteractionExplainer",
    "TokenClassificationInteractionExplainer",
    "ZeroShotClassificationInteractionExplainer",
    "integrated_gradients",
    "integrated_hessians",
    "smooth_relu",
]
