"""Hugging Face-style entry points: :class:`AutoInteractionExplainer` picks the task explainer from the model's head.

>>> from transformers_ih import AutoInteractionExplainer
>>> explainer = AutoInteractionExplainer(model, tokenizer)          # e.g. a SequenceClassificationInteractionExplainer
>>> explainer = AutoInteractionExplainer.from_pretrained("distilbert-base-uncased-finetuned-sst-2-english")
>>> explainer = AutoInteractionExplainer(pipeline("zero-shot-classification", model=..., tokenizer=...))

As ``AutoModelFor...`` classes pick theirs, the head is read from the model's class name (looked up in
transformers' ``MODEL_FOR_*_MAPPING_NAMES``, or named like one for custom code) or, before loading, from
``config.architectures``. A sequence-classification head gives sequence classification, or multi-label
classification when ``config.problem_type == "multi_label_classification"``. Text-pair and zero-shot
classification use the same head and are chosen only when asked: ``task="text-pair-classification"`` or
``task="zero-shot-classification"`` (or a zero-shot pipeline).
"""

from __future__ import annotations

from typing import Any

import torch

from .tasks import (
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

__all__ = ["TASKS", "AutoInteractionExplainer", "task_of_architecture", "task_of_model"]

#: the task names ``task=`` accepts (the pipeline's names where it has one) and the explainer of each
TASKS: dict[str, type[TextInteractionExplainer]] = {
    "text-classification": SequenceClassificationInteractionExplainer,
    "text-pair-classification": PairClassificationInteractionExplainer,
    "multi-label-classification": MultiLabelClassificationInteractionExplainer,
    "zero-shot-classification": ZeroShotClassificationInteractionExplainer,
    "token-classification": TokenClassificationInteractionExplainer,
    "question-answering": QuestionAnsweringInteractionExplainer,
    "fill-mask": MaskedLMInteractionExplainer,
    "text-generation": CausalLMInteractionExplainer,
    "text2text-generation": Seq2SeqLMInteractionExplainer,
}
#: other names of the tasks: the pipeline's aliases and this package's head names
ALIASES = {
    "sentiment-analysis": "text-classification",
    "sequence-classification": "text-classification",
    "pair-classification": "text-pair-classification",
    "multilabel-classification": "multi-label-classification",
    "ner": "token-classification",
    "masked-lm": "fill-mask",
    "causal-lm": "text-generation",
    "seq2seq-lm": "text2text-generation",
    "summarization": "text2text-generation",
    "translation": "text2text-generation",  # and every "translation_xx_to_yy" of the pipeline
}

# (transformers' mapping, class-name suffixes of custom code, its AutoModel class, the task): the order settles the
# classes transformers lists under two heads (BartForConditionalGeneration is a sequence-to-sequence LM first, as
# in the pipeline; XLMWithLMHeadModel a causal LM)
_HEADS = (
    (
        "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES",
        ("ForConditionalGeneration",),
        "AutoModelForSeq2SeqLM",
        "text2text-generation",
    ),
    ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", ("ForCausalLM", "LMHeadModel"), "AutoModelForCausalLM", "text-generation"),
    ("MODEL_FOR_MASKED_LM_MAPPING_NAMES", ("ForMaskedLM",), "AutoModelForMaskedLM", "fill-mask"),
    (
        "MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES",
        ("ForQuestionAnswering",),
        "AutoModelForQuestionAnswering",
        "question-answering",
    ),
    (
        "MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES",
        ("ForTokenClassification",),
        "AutoModelForTokenClassification",
        "token-classification",
    ),
    (
        "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES",
        ("ForSequenceClassification",),
        "AutoModelForSequenceClassification",
        "text-classification",
    ),
)
_AUTO_CLASS = {
    "text-classification": "AutoModelForSequenceClassification",
    "text-pair-classification": "AutoModelForSequenceClassification",
    "multi-label-classification": "AutoModelForSequenceClassification",
    "zero-shot-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "fill-mask": "AutoModelForMaskedLM",
    "text-generation": "AutoModelForCausalLM",
    "text2text-generation": "AutoModelForSeq2SeqLM",
}
_MULTI = "multi_label_classification"
# from_pretrained's model_kwargs that the config's own loading takes too (where to find the checkpoint)
_CONFIG_KEYS = ("revision", "trust_remote_code", "token", "cache_dir", "local_files_only", "subfolder")


def _mapping_classes(mapping: str) -> set[str]:
    from transformers.models.auto import modeling_auto

    out: set[str] = set()
    for value in getattr(modeling_auto, mapping, {}).values():
        out.update(value if isinstance(value, (list, tuple)) else [value])
    return out


def _supported_heads() -> str:
    return "; ".join(f"{auto} -> {task!r}" for _, _, auto, task in _HEADS)


def task_of_architecture(class_name: str, config=None) -> str | None:
    """The task (a key of :data:`TASKS`) of a model class named ``class_name`` (e.g. ``"BertForMaskedLM"``), or
    ``None`` when it has no head this package explains. ``config``: its config, read for ``problem_type`` (a
    multi-label sequence classifier gives ``"multi-label-classification"``)."""
    task = next((t for mapping, _, _, t in _HEADS if class_name in _mapping_classes(mapping)), None)
    if task is None:  # custom code (trust_remote_code): named like the heads of transformers
        task = next((t for _, suffixes, _, t in _HEADS if class_name.endswith(suffixes)), None)
    if task == "text-classification" and getattr(config, "problem_type", None) == _MULTI:
        return "multi-label-classification"
    return task


def task_of_model(model) -> str:
    """The task of ``model`` from its head (its class), as :func:`task_of_architecture`; ``TypeError`` naming the
    supported heads when it has none of them."""
    name = type(model).__name__
    task = task_of_architecture(name, getattr(model, "config", None))
    if task is None:
        raise TypeError(
            f"AutoInteractionExplainer: model is a {name}, which has no head transformers_ih explains. Supported "
            f"heads (AutoModel class -> task): {_supported_heads()}. Load the model with one of these classes, or "
            f"construct a task explainer (e.g. TextInteractionExplainer with output=...) yourself."
        )
    return task


def resolve_task(task: str) -> str:
    """``task`` (a key of :data:`TASKS`, an alias or a pipeline's ``translation_xx_to_yy``) as a key of
    :data:`TASKS`; ``ValueError`` naming the accepted names otherwise."""
    if not isinstance(task, str):
        raise ValueError(f"task must be a task name (a string), got {type(task).__name__} {task!r}")
    name = task.strip().lower().replace("_", "-")
    if name.startswith("translation"):
        name = "translation"
    name = ALIASES.get(name, name)
    if name not in TASKS:
        raise ValueError(
            f"task={task!r} is not a task transformers_ih explains; accepted: {sorted(TASKS)} or their aliases "
            f"{sorted(ALIASES)} (and a pipeline's 'translation_xx_to_yy')"
        )
    return name


def _multi_label(task: str, model) -> str:
    """``task``, or multi-label classification for ``"text-classification"`` of a model whose config says
    ``problem_type="multi_label_classification"`` (as the pipeline then applies sigmoids)."""
    problem = getattr(getattr(model, "config", None), "problem_type", None)
    return "multi-label-classification" if task == "text-classification" and problem == _MULTI else task


def _is_pipeline(obj) -> bool:
    return not isinstance(obj, torch.nn.Module) and all(hasattr(obj, a) for a in ("task", "model", "tokenizer"))


class AutoInteractionExplainer:
    """The task explainer that fits a model's head, as ``AutoModelFor...`` classes pick theirs.

    ``AutoInteractionExplainer(model, tokenizer, task=None, **explainer_options)`` returns an instance of the
    task's explainer class (not of this class), constructed with ``explainer_options`` (see
    :class:`~transformers_ih.TextInteractionExplainer`: ``baseline``, ``smoothing``, ``rtol``, ``features``, ...,
    and the task's own, e.g. ``threshold`` of multi-label classification). Its explanations are exactly those of
    the explainer constructed directly.

    | head (``AutoModelFor...``) | task                                                               |
    |----------------------------|--------------------------------------------------------------------|
    | ``SequenceClassification`` | ``"text-classification"`` or ``"multi-label-classification"`` (*)  |
    | ``TokenClassification``    | ``"token-classification"``                                         |
    | ``QuestionAnswering``      | ``"question-answering"``                                           |
    | ``MaskedLM``               | ``"fill-mask"``                                                    |
    | ``CausalLM``               | ``"text-generation"``                                              |
    | ``Seq2SeqLM``              | ``"text2text-generation"``                                         |

    (*) multi-label when the config's ``problem_type`` is ``"multi_label_classification"``, also when
    ``"text-classification"`` is asked for (the pipeline then applies sigmoids too).

    Args:
        model: a transformers model with a task head, or a transformers ``Pipeline`` (then ``tokenizer`` is
            omitted: the pipeline's model and tokenizer are used, and its ``task``, unless ``task=`` is given).
        tokenizer: the model's fast tokenizer.
        task: ``None`` (from the head: see the table above), or a key of :data:`TASKS` (or an alias in
            :data:`ALIASES`). Needed for ``"text-pair-classification"`` and ``"zero-shot-classification"``, whose
            head is the sequence classifier's.
        **explainer_options: the task explainer's constructor options.

    Returns:
        The task's explainer (e.g. a :class:`~transformers_ih.SequenceClassificationInteractionExplainer`).

    Raises:
        TypeError: the model has none of these heads (the message names them), or the head does not fit the
            ``task`` asked for (the task explainer's own check).
        ValueError: an unknown ``task``.
    """

    def __new__(cls, model, tokenizer=None, *, task: str | None = None, **explainer_options: Any):
        if _is_pipeline(model):
            if tokenizer is not None:
                raise TypeError(
                    f"AutoInteractionExplainer: model is a {type(model).__name__} pipeline, which brings its own "
                    f"tokenizer; got tokenizer={type(tokenizer).__name__} too. Pass the pipeline alone."
                )
            pipe = model
            model, tokenizer = pipe.model, pipe.tokenizer
            if task is None:
                task = pipe.task
        if tokenizer is None:
            raise TypeError(
                f"AutoInteractionExplainer: tokenizer is missing for model {type(model).__name__}; pass "
                f"AutoInteractionExplainer(model, tokenizer), a transformers Pipeline, or use "
                f"AutoInteractionExplainer.from_pretrained(name_or_path)"
            )
        chosen = task_of_model(model) if task is None else _multi_label(resolve_task(task), model)
        return TASKS[chosen](model, tokenizer, **explainer_options)

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str,
        task: str | None = None,
        *,
        model_kwargs: dict | None = None,
        tokenizer_kwargs: dict | None = None,
        **explainer_options: Any,
    ) -> TextInteractionExplainer:
        """Load a model and its tokenizer (transformers' ``from_pretrained``) and return the task explainer.

        Args:
            name_or_path: a model id on the Hub or a local directory (``save_pretrained``'s).
            task: ``None`` (from ``config.architectures``, e.g. ``"BertForTokenClassification"``) or a task name
                as in :class:`AutoInteractionExplainer`; the model is loaded with that task's ``AutoModelFor...``.
            model_kwargs: passed to the model's ``from_pretrained`` (e.g. ``dtype``, ``revision``,
                ``trust_remote_code``); ``revision`` / ``trust_remote_code`` / ``token`` / ``cache_dir`` /
                ``local_files_only`` / ``subfolder`` also to the config's.
            tokenizer_kwargs: passed to ``AutoTokenizer.from_pretrained``.
            **explainer_options: the explainer's constructor options.

        Raises:
            TypeError: ``task`` is ``None`` and the config names no architecture with a supported head.
            ValueError: an unknown ``task``.
        """
        import transformers

        model_kwargs = dict(model_kwargs or {})
        config_kwargs = {k: model_kwargs[k] for k in _CONFIG_KEYS if k in model_kwargs}
        config = transformers.AutoConfig.from_pretrained(name_or_path, **config_kwargs)
        if task is None:
            architectures = list(getattr(config, "architectures", None) or [])
            found = [t for t in (task_of_architecture(a, config) for a in architectures) if t is not None]
            if not found:
                raise TypeError(
                    f"AutoInteractionExplainer.from_pretrained: {name_or_path!r} names architectures "
                    f"{architectures} in its config, none with a head transformers_ih explains. Supported heads "
                    f"(AutoModel class -> task): {_supported_heads()}. Pass task=... to load it with one of them."
                )
            chosen = found[0]
        else:
            chosen = resolve_task(task)
        auto = getattr(transformers, _AUTO_CLASS[chosen])
        model = auto.from_pretrained(name_or_path, config=config, **model_kwargs)
        tokenizer = transformers.AutoTokenizer.from_pretrained(name_or_path, **(tokenizer_kwargs or {}))
        return TASKS[_multi_label(chosen, model)](model, tokenizer, **explainer_options)
