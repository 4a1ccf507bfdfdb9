"""Explaining what the model generates: ``target=None`` on the language-model explainers.

The continuation is generated first, with the model's own ``generate`` (greedy by default: ``do_sample=False``,
``max_new_tokens``; the user's ``generation_kwargs`` override both, e.g. ``{"do_sample": True, "top_p": 0.9}`` with a
seeded torch generator, or ``{"num_beams": 4}``), on the model as loaded (its own dtype, in eval mode: a twin
sharing its weights, so nothing about the model changes). Its tokens, as generated (an end-of-sequence token
included when the model produced one), are then the target: the explanation is of their log-probability, exactly
as for a given target, and holds the generated text (``explanation.target``) and tokens (``meta``).

A target may also be given as token ids, ``target={"token_ids": [...]}``: the exact tokens to score (e.g. a
continuation generated earlier; re-tokenizing its decoded text need not give the same tokens). A generated
explanation records its tokens this way, so ``coalition_values`` re-evaluates exactly what was explained.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

#: generate() arguments the explainer sets from the prompt
_RESERVED = ("input_ids", "attention_mask", "inputs_embeds", "decoder_input_ids", "token_type_ids")


def token_ids_target(tokenizer, target: Mapping, vocab_size: int) -> list[int]:
    """The ids of a ``{"token_ids": [...]}`` target, checked (non-empty integers inside the vocabulary)."""
    if set(target) != {"token_ids"}:
        raise ValueError(f"a target given as a dict must be {{'token_ids': [ids...]}}, got keys {sorted(target)}")
    ids = target["token_ids"]
    if isinstance(ids, torch.Tensor):
        ids = ids.flatten().tolist()
    ids = list(ids)
    if not ids:
        raise ValueError("target={'token_ids': []} has no token to score: pass at least one token id")
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < vocab_size:
            raise ValueError(f"target token id {i!r} is not a token of the vocabulary (0..{vocab_size - 1})")
    return [int(i) for i in ids]


def generation_arguments(tokenizer, model, max_new_tokens, generation_kwargs) -> dict:
    """``generate()``'s keyword arguments: greedy, ``max_new_tokens``, a pad token for models without one, then the
    user's ``generation_kwargs``."""
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be a positive number of tokens, got {max_new_tokens!r}")
    if generation_kwargs is not None and not isinstance(generation_kwargs, Mapping):
        raise TypeError(
            f"generation_kwargs must be a dict of generate() arguments, got {type(generation_kwargs).__name__}"
        )
    user = dict(generation_kwargs or {})
    clash = [k for k in user if k in _RESERVED]
    if clash:
        raise ValueError(f"generation_kwargs {clash}: the prompt's inputs are given by the explainer; leave them out")
    if int(user.get("num_return_sequences", 1)) != 1:
        raise ValueError(
            "generation_kwargs num_return_sequences must be 1: one continuation is explained per prompt "
            "(explain several continuations by passing each as target=)"
        )
    kwargs = {"max_new_tokens": max_new_tokens, "do_sample": False}
    config = getattr(model, "generation_config", None)
    if getattr(config, "pad_token_id", None) is None and getattr(tokenizer, "pad_token_id", None) is None:
        eos = getattr(config, "eos_token_id", None)
        eos = getattr(tokenizer, "eos_token_id", None) if eos is None else eos
        if eos is not None:
            kwargs["pad_token_id"] = eos[0] if isinstance(eos, (list, tuple)) else eos
    kwargs.update(user)
    return kwargs


def generate_continuation(
    model, tokenizer, inputs: dict[str, torch.Tensor], *, encoder_decoder: bool, max_new_tokens: int, generation_kwargs
) -> list[int]:
    """The token ids ``model.generate`` continues the prompt ``inputs`` (batch of one) with: the new tokens after
    the prompt (decoder-only) or after the decoder start token (encoder-decoder)."""
    kwargs = generation_arguments(tokenizer, model, max_new_tokens, generation_kwargs)
    with torch.no_grad():
        out = model.generate(**inputs, **kwargs)
    sequences = out.sequences if hasattr(out, "sequences") else out
    if not isinstance(sequences, torch.Tensor) or sequences.dim() != 2 or sequences.shape[0] != 1:
        raise ValueError(
            f"generate() returned {type(out).__name__} of shape "
            f"{getattr(sequences, 'shape', None)}; expected one sequence for the prompt"
        )
    new = sequences[0, 1:] if encoder_decoder else sequences[0, inputs["input_ids"].shape[1] :]
    ids = [int(i) for i in new.tolist()]
    if not ids:
        raise ValueError(
            "the model generated no token after the prompt: nothing to explain (check max_new_tokens and "
            "the generation config)"
        )
    return ids
