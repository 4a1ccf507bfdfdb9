"""Running a model on input embeddings across architectures, and checking that its head fits a task.

Encoder-only and decoder-only models take ``inputs_embeds=`` with the tokenizer's other inputs as they are
(token type ids, attention mask; position ids are left to the model, so RoBERTa / XLM-R offsets are its own).

Encoder-decoder models whose decoder reads the input itself (BART-style classification and question answering:
``decoder_input_ids = shift_tokens_right(input_ids)``) get the same shift of the *embeddings*: the decoder's input
is the decoder start token's embedding followed by the input embeddings but the last, so a word moves along the
path in the encoder and in the decoder together, as in the model's own forward pass. BART's classification head
finds the last EOS token through ``input_ids`` and refuses ``inputs_embeds``; its positions are taken from the
tokenizer's ``input_ids`` (not synthesised) and the head (``model.classification_head``) applied to the decoder's
state there, which is what its forward pass computes. Tasks that give the decoder its own input (sequence-to-
sequence scoring: ``decoder_input_ids`` from the target) pass through unchanged.
"""

from __future__ import annotations

import torch

_HEAD_SUFFIXES = {
    "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES": ("ForSequenceClassification",),
    "MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES": ("ForTokenClassification",),
    "MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES": ("ForQuestionAnswering",),
    "MODEL_FOR_MASKED_LM_MAPPING_NAMES": ("ForMaskedLM",),
    "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES": ("ForCausalLM", "LMHeadModel"),
    "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES": ("ForConditionalGeneration",),
}
_AUTO_CLASS = {
    "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES": "AutoModelForSequenceClassification",
    "MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES": "AutoModelForTokenClassification",
    "MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES": "AutoModelForQuestionAnswering",
    "MODEL_FOR_MASKED_LM_MAPPING_NAMES": "AutoModelForMaskedLM",
    "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES": "AutoModelForCausalLM",
    "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES": "AutoModelForSeq2SeqLM",
}


def _head_classes(mapping: str) -> set[str]:
    try:
        from transformers.models.auto import modeling_auto

        names = getattr(modeling_auto, mapping, {})
    except ImportError:  # pragma: no cover
        return set()
    out: set[str] = set()
    for value in names.values():
        out.update(value if isinstance(value, (list, tuple)) else [value])
    return out


def check_head(model, task: str, mapping: str) -> None:
    """``TypeError`` unless ``model``'s class is one transformers lists for ``mapping`` (e.g.
    ``MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES``) or is named like one (custom code)."""
    name = type(model).__name__
    if name in _head_classes(mapping) or name.endswith(_HEAD_SUFFIXES[mapping]):
        return
    raise TypeError(
        f"{name} does not have a {task} head, so it cannot be explained for {task}: load the model with "
        f"{_AUTO_CLASS[mapping]}.from_pretrained(...)"
    )


def is_encoder_decoder(model) -> bool:
    return bool(getattr(getattr(model, "config", None), "is_encoder_decoder", False))


def _decoder_reads_input(model, inputs: dict) -> bool:
    return is_encoder_decoder(model) and not any(
        k in inputs for k in ("decoder_input_ids", "decoder_inputs_embeds", "labels", "encoder_outputs")
    )


def _same_embedding(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    """The same lookup: one module, or modules of one type sharing their weight (tied) and scale."""
    return a is b or (
        type(a) is type(b)
        and getattr(a, "weight", None) is getattr(b, "weight", None)
        and getattr(a, "embed_scale", None) == getattr(b, "embed_scale", None)
    )


def shifted_decoder_embeds(model, embeddings: torch.nn.Module, embeds: torch.Tensor) -> torch.Tensor:
    """``(B, L, e)`` -> the decoder's input embeddings: ``[start, embeds[:, :-1]]`` (``shift_tokens_right``)."""
    start = getattr(model.config, "decoder_start_token_id", None)
    if start is None:
        raise TypeError(
            f"{type(model).__name__} has no decoder_start_token_id in its config: cannot build the "
            f"decoder's input from the text"
        )
    get_decoder = getattr(model, "get_decoder", None)
    decoder = get_decoder() if callable(get_decoder) else None
    decoder_embeddings = getattr(decoder, "embed_tokens", None) if decoder is not None else None
    if decoder_embeddings is not None and not _same_embedding(decoder_embeddings, embeddings):
        raise NotImplementedError(
            f"{type(model).__name__}'s decoder has its own token embeddings (not tied to the encoder's): explaining "
            f"the text through both is not supported"
        )
    first = embeddings(torch.full((1, 1), int(start), dtype=torch.long, device=embeds.device)).to(embeds.dtype)
    return torch.cat([first.expand(embeds.shape[0], 1, -1), embeds[:, :-1]], dim=1)


def _has_eos_classification_head(model) -> bool:
    return isinstance(getattr(model, "classification_head", None), torch.nn.Module) and isinstance(
        getattr(model, "model", None), torch.nn.Module
    )


def forward_embeds(model, embeddings: torch.nn.Module, input_ids: torch.Tensor, embeds: torch.Tensor, inputs: dict):
    """The model's outputs on input embeddings ``embeds`` ``(B, L, e)`` with the tokenizer's other ``inputs``.

    ``input_ids`` ``(1, L)`` or ``(B, L)`` are the tokenizer's ids of the explained text(s); only BART-style
    classification heads read them (for the position of each row's last EOS token).
    """
    if not _decoder_reads_input(model, inputs):
        return model(inputs_embeds=embeds, **inputs)
    decoder_embeds = shifted_decoder_embeds(model, embeddings, embeds)
    if not _has_eos_classification_head(model):
        return model(inputs_embeds=embeds, decoder_inputs_embeds=decoder_embeds, **inputs)
    from transformers.modeling_outputs import SequenceClassifierOutput

    hidden = model.model(inputs_embeds=embeds, decoder_inputs_embeds=decoder_embeds, **inputs)[0]
    eos = (input_ids == model.config.eos_token_id).expand(hidden.shape[0], -1)  # (B, L); one row per input
    if not bool(eos.any(dim=1).all()):
        raise ValueError(f"{type(model).__name__} classifies from the last EOS token, and the input has none")
    positions = torch.arange(eos.shape[1], device=eos.device)
    last = torch.where(eos, positions, -1).max(dim=1).values  # the last EOS of each row
    rows = torch.arange(hidden.shape[0], device=hidden.device)
    return SequenceClassifierOutput(logits=model.classification_head(hidden[rows, last.to(hidden.device)]))
