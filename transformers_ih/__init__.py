"""transformers-ih: word-level Integrated Gradients and Integrated Hessians for Hugging Face transformers.

>>> from transformers_ih import SequenceClassificationInteractionExplainer
>>> explanation = SequenceClassificationInteractionExplainer(model, tokenizer)("this film is not bad at all")
"""

from .corpus import CorpusInteractions, LocalEngine, RayEngine, explain_dataset, explanations
from .engine import expected_gradients, expected_hessians, integrated_gradients, integrated_hessians, smooth_relu
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
from .evaluate import attribution_faithfulness, interaction_faithfulness
from .explanation import Explanation
from .tabular import TabularExplanation, TabularInteractionExplainer

__version__ = "0.1.0"

__all__ = [
    "CausalLMInteractionExplainer",
    "CorpusInteractions",
    "Explanation",
    "LocalEngine",
    "MaskedLMInteractionExplainer",
    "MultiLabelClassificationInteractionExplainer",
    "PairClassificationInteractionExplainer",
    "RayEngine",
    "QuestionAnsweringInteractionExplainer",
    "Seq2SeqLMInteractionExplainer",
    "SequenceClassificationInteractionExplainer",
    "TabularExplanation",
    "TabularInteractionExplainer",
    "TextInteractionExplainer",
    "TokenClassificationInteractionExplainer",
    "ZeroShotClassificationInteractionExplainer",
    "attribution_faithfulness",
    "explain_dataset",
    "explanations",
    "expected_gradients",
    "expected_hessians",
    "integrated_gradients",
    "integrated_hessians",
    "interaction_faithfulness",
    "smooth_relu",
]
