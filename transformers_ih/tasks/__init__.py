"""Task explainers: each turns (model, tokenizer, text, target) into a scalar function of per-word coordinates
and returns an :class:`~transformers_ih.Explanation`."""

from ..text.segments import PromptSegments, prompt_segments
from .base import TextInteractionExplainer
from .causal_lm import CausalLMInteractionExplainer, Seq2SeqLMInteractionExplainer
from .masked_lm import MaskedLMInteractionExplainer
from .multilabel_classification import MultiLabelClassificationInteractionExplainer
from .pair_classification import PairClassificationInteractionExplainer
from .question_answering import QuestionAnsweringInteractionExplainer
from .sequence_classification import SequenceClassificationInteractionExplainer
from .token_classification import TokenClassificationInteractionExplainer
from .zero_shot_classification import ZeroShotClassificationInteractionExplainer

__all__ = [
    "CausalLMInteractionExplainer",
    "MaskedLMInteractionExplainer",
    "MultiLabelClassificationInteractionExplainer",
    "PairClassificationInteractionExplainer",
    "PromptSegments",
    "QuestionAnsweringInteractionExplainer",
    "Seq2SeqLMInteractionExplainer",
    "SequenceClassificationInteractionExplainer",
    "TextInteractionExplainer",
    "TokenClassificationInteractionExplainer",
    "ZeroShotClassificationInteractionExplainer",
    "prompt_segments",
]
