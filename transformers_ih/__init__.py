"""transformers-ih: word-level Integrated Gradients and Integrated Hessians for Hugging Face transformers.

>>> from transformers_ih import SequenceClassificationInteractionExplainer
>>> explanation = SequenceClassificationInteractionExplainer(model, tokenizer)("this film is not bad at all")
"""

from .auto import AutoInteractionExplainer
from .engine import expected_gradients, expected_hessians, integrated_gradients, integrated_hessians, smooth_relu
from .evaluate import attribution_faithfulness, interaction_faithfulness
from .results.explanation import Explanation
from .tabular import TabularExplanation, TabularInteractionExplainer
from .tasks import (
    CausalLMInteractionExplainer,
    MaskedLMInteractionExplainer,
    MultiLabelClassificationInteractionExplainer,
    PairClassificationInteractionExplainer,
    PromptSegments,
    QuestionAnsweringInteractionExplainer,
    Seq2SeqLMInteractionExplainer,
    SequenceClassificationInteractionExplainer,
    TextInteractionExplainer,
    TokenClassificationInteractionExplainer,
    ZeroShotClassificationInteractionExplainer,
    prompt_segments,
)

__version__ = "0.1.0"

# the corpus API needs datasets and pyarrow (pip install "transformers-ih[datasets]"): loaded on first use, so that
# `import transformers_ih` needs neither
_CORPUS = ("CorpusInteractions", "explain_dataset", "explanations", "LocalEngine", "RayEngine")


def __getattr__(name):
    if name in _CORPUS:
        from . import corpus

        return getattr(corpus, name)
    raise AttributeError(f"module 'transformers_ih' has no attribute {name!r}")


__all__ = [
    "AutoInteractionExplainer",
    "CausalLMInteractionExplainer",
    "CorpusInteractions",
    "Explanation",
    "LocalEngine",
    "MaskedLMInteractionExplainer",
    "MultiLabelClassificationInteractionExplainer",
    "PairClassificationInteractionExplainer",
    "PromptSegments",
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
    "prompt_segments",
    "smooth_relu",
]
