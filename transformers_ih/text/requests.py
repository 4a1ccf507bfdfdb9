"""What a task hands the runner: :class:`Request` (a tokenized input and :class:`ExplainedOutput`, what to explain
on it), and the rules
for one input or many."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .encoding import EncodedText

Selector = Callable[[Any], torch.Tensor]  # model outputs (batch B) -> (B,) explained scalar

#: what ``ExplainedOutput.index`` indexes, by ``ExplainedOutput.kind``
TARGET_KINDS = {
    "class": "a class of the model's labels (config.id2label)",
    "candidate": "a zero-shot candidate label's position in the labels given",
    "token": "a vocabulary token id",
    "continuation": "no index: the target's token ids are in meta['target_token_ids']",
    "position": "a token position of the input (question answering's start / end)",
    "custom": "no index: a user's output function",
}


@dataclass(frozen=True)
class ExplainedOutput:
    """What one explanation explains and what the model predicted.

    Attributes:
        select: ``model_outputs -> (B,)``, the explained scalar of each batch row.
        name: its name (a label, a token, ``"answer start"``, a continuation, a function's name).
        kind: what ``index`` indexes: a key of :data:`TARGET_KINDS`.
        index: the class, token id or position; ``None`` for continuations and custom outputs.
        predicted_label, predicted_probability: the model's own prediction on the input (unsmoothed).
    """

    select: Selector
    name: str
    kind: str
    index: int | None
    predicted_label: str
    predicted_probability: float

    def __post_init__(self) -> None:
        if self.kind not in TARGET_KINDS:
            raise ValueError(f"unknown target kind {self.kind!r}; one of {list(TARGET_KINDS)}")


@dataclass
class Request:
    """One explanation to compute: the tokenized input, what to explain, the meta its Explanation carries, and its
    key in the task's result (``None``: the result is this one Explanation)."""

    encoded: EncodedText
    explained: ExplainedOutput
    meta: dict[str, Any] = field(default_factory=dict)
    key: Hashable | None = None


def is_many(value) -> bool:
    """True for several inputs: a list or tuple, a numpy array, or any other sequence that is not a string (e.g. a
    ``datasets`` column, ``dataset["sentence"]``)."""
    if isinstance(value, (str, bytes, dict)):
        return False
    if isinstance(value, (list, tuple, np.ndarray, Sequence)):
        return True
    return hasattr(value, "__len__") and hasattr(value, "__getitem__") and hasattr(value, "__iter__")


def as_rows(texts: dict[str, Any], per_input: dict[str, Any]) -> tuple[bool, list[dict[str, Any]]]:
    """``(many, rows)``: the call's text arguments (``{name: str | sequence}``) and per-input task arguments
    (``{name: value}``, a sequence meaning one value per input) as one dict of arguments per input.

    Every text argument is a string (one input) or every one a sequence of strings of one length (many); a
    per-input argument given as a sequence must have that length too. Raises ``TypeError`` / ``ValueError``
    naming the argument (and the row) otherwise.
    """
    names = list(texts)
    kinds = {name: is_many(value) for name, value in texts.items()}
    if len(set(kinds.values())) > 1:
        raise TypeError(
            f"{' and '.join(names)} must all be strings (one input) or all sequences of strings of one "
            f"length (many inputs); got " + ", ".join(f"{n}: {type(v).__name__}" for n, v in texts.items())
        )
    many = kinds[names[0]]
    if not many:
        for name, value in texts.items():
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a string or a sequence of strings, got {type(value).__name__}")
        return False, [{**texts, **per_input}]
    columns = {name: list(value) for name, value in texts.items()}
    lengths = {name: len(column) for name, column in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{' and '.join(names)} must have the same length; got lengths {lengths}")
    n = lengths[names[0]]
    for name, column in columns.items():
        for i, value in enumerate(column):
            if not isinstance(value, str):
                raise TypeError(
                    f"{name}[{i}] is {type(value).__name__} ({value!r}), not a string: every input must be a string"
                )
    shared = {}
    for name, value in per_input.items():
        if is_many(value):
            value = list(value)
            if len(value) != n:
                raise ValueError(f"{name} has {len(value)} values for {n} inputs: pass one per input, or one for all")
            columns[name] = value
        else:
            shared[name] = value
    return True, [{**{name: column[i] for name, column in columns.items()}, **shared} for i in range(n)]


def length_buckets(lengths: list[int], size: int, max_padding: float = 0.1) -> list[list[int]]:
    """Group indices of inputs of token lengths ``lengths`` for batching: sorted by length, at most ``size``
    per group, and a group grows only while its padding (tokens added to reach its longest input) stays within
    ``max_padding`` of its real tokens. On a CPU every padded token costs as much as a real one, so batching
    pays only when padding stays small. Returns lists of indices, shortest inputs first."""
    groups: list[list[int]] = []
    total = 0
    for j in sorted(range(len(lengths)), key=lambda j: lengths[j]):
        group = groups[-1] if groups else None
        padded = lengths[j] * (len(group) + 1) if group else 0  # the group's tokens with j, all padded to j's length
        if group and len(group) < max(1, size) and padded <= (1 + max_padding) * (total + lengths[j]):
            group.append(j)
            total += lengths[j]
        else:
            groups.append([j])
            total = lengths[j]
    return groups
