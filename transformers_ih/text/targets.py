"""What a task explains, shared by the task explainers: label names and indices, class scores of a logit vector
(softmax or sigmoid), single tokens of a vocabulary, and the log-probability of a continuation."""

from __future__ import annotations

from collections.abc import Sequence

import torch

OUTPUTS = ("logit", "probability", "log_probability")


def check_output(output: str, allowed: Sequence[str] = OUTPUTS) -> str:
    if output not in allowed:
        raise ValueError(f"output must be one of {tuple(allowed)}, got {output!r}")
    return output


def label_names(config, num_labels: int) -> list[str]:
    return [label_name(config, i) for i in range(num_labels)]


def resolve_label(config, target: int | str, num_labels: int) -> int:
    """A class index from an index or a label name of ``config.id2label``; clear errors otherwise."""
    id2label = {int(k): v for k, v in (getattr(config, "id2label", None) or {}).items()}
    names = [id2label.get(i, str(i)) for i in range(num_labels)]
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise TypeError(f"target must be a class index or a label name, got {target!r}")
    if isinstance(target, int):
        if not 0 <= target < num_labels:
            raise ValueError(f"target index {target} is out of range: the model has {num_labels} labels {names}")
        return target
    if target in names:
        return names.index(target)
    folded = [n.lower() for n in names]
    if target.lower() in folded:
        return folded.index(target.lower())
    raise ValueError(f"unknown label {target!r}: the model's labels are {names} (or indices 0..{num_labels - 1})")


def label_name(config, index: int) -> str:
    id2label = getattr(config, "id2label", None) or {}
    return str(id2label.get(index, id2label.get(str(index), f"LABEL_{index}")))


def class_score(logits: torch.Tensor, index: int, output: str, normalise: str = "softmax") -> torch.Tensor:
    """``(B, C) -> (B,)``: the logit of class ``index``, or its probability / log-probability under a softmax over
    the classes (``normalise="softmax"``) or a sigmoid of its own logit (``"sigmoid"``, multi-label)."""
    if output == "probability":
        return torch.sigmoid(logits[:, index]) if normalise == "sigmoid" else torch.softmax(logits, -1)[:, index]
    if output == "log_probability":
        if normalise == "sigmoid":
            return torch.nn.functional.logsigmoid(logits[:, index])
        return torch.log_softmax(logits, -1)[:, index]
    return logits[:, index]


def class_selector(index: int, output: str, *, position: int | None = None, normalise: str = "softmax"):
    """``outputs -> (B,)``: class ``index`` of ``outputs.logits`` (at token ``position`` for per-token logits)."""
    check_output(output)

    def select(outputs) -> torch.Tensor:
        logits = outputs.logits if position is None else outputs.logits[:, position]
        return class_score(logits, index, output, normalise)

    return select


def continuation_selector(positions: Sequence[int], token_ids: Sequence[int]):
    """``outputs -> (B,)``: ``sum_k log softmax(logits[:, positions[k]])[token_ids[k]]``: the log-probability of a
    continuation whose token ``k`` is predicted at position ``positions[k]`` (teacher forcing)."""
    pos = torch.as_tensor(list(positions), dtype=torch.long)
    ids = torch.as_tensor(list(token_ids), dtype=torch.long)

    def select(outputs) -> torch.Tensor:
        logits = outputs.logits[:, pos.to(outputs.logits.device)]  # (B, T, V)
        logp = torch.log_softmax(logits, dim=-1)
        index = ids.to(logp.device).expand(logp.shape[0], -1)[..., None]
        return logp.gather(-1, index)[..., 0].sum(-1)

    return select


def token_id(tokenizer, target: int | str, vocab_size: int) -> int:
    """One vocabulary id from an id, a token string of the vocabulary (``"Ġparis"``), or a text that the tokenizer
    turns into exactly one token (``"paris"``, ``" Paris"``)."""
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise TypeError(f"target must be a token id or a token string, got {target!r}")
    if isinstance(target, int):
        if not 0 <= target < vocab_size:
            raise ValueError(f"target token id {target} is outside the vocabulary (0..{vocab_size - 1})")
        return target
    vocab = tokenizer.get_vocab()
    if target in vocab:
        return int(vocab[target])
    ids = tokenizer(target, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        pieces = tokenizer.convert_ids_to_tokens(ids)
        raise ValueError(
            f"target {target!r} is {len(ids)} tokens {pieces}, not one: the score at a mask is of a "
            f"single token; pass one token of the vocabulary (a token string or id)"
        )
    return int(ids[0])


def continuation_ids(tokenizer, target: str, *, as_label: bool = False) -> list[int]:
    """The tokenizer's ids for a target continuation: ``tokenizer(target, add_special_tokens=False)``, or as a
    sequence-to-sequence label, ``tokenizer(text_target=target)`` (with its special tokens, e.g. ``</s>``).
    ``ValueError`` if that gives no token other than special ones."""
    if not isinstance(target, str):
        raise TypeError(f"target must be a string, got {type(target).__name__}")
    if as_label:
        ids = tokenizer(text_target=target)["input_ids"]
    else:
        ids = tokenizer(target, add_special_tokens=False)["input_ids"]
    special = set(tokenizer.all_special_ids)
    if not any(i not in special for i in ids):
        raise ValueError(
            f"the target continuation {target!r} tokenizes to nothing (no token to score); pass a "
            f"non-empty continuation, e.g. ' Paris'"
        )
    return [int(i) for i in ids]
