"""What a loaded record must be before it becomes an object: the one check of every loading path
(:meth:`Explanation.from_json` / ``from_dict``, rows of :func:`~transformers_ih.explain_dataset`'s output,
:meth:`CorpusInteractions.from_json`). Each refusal is a ``ValueError`` that names the field, says what it holds and
what is accepted, and how to fix it; a record that passes can be shown, summarised and evaluated.

Checked for an explanation: each field's JSON type (generic over the dataclass's fields: a field added to
:class:`~transformers_ih.Explanation` is checked by its annotation with no change here), the shapes (``W`` words,
offsets, attributions, a ``(W, W)`` interaction matrix and ``computed`` mask, ``W`` word groups), finiteness (every
number finite; NaN only in interaction cells that ``computed`` marks as not computed, and each of those NaN),
offsets within the text with ``words[i] == text[start:end]``, and known ``level`` and ``target_kind`` values.

Written by hand rather than with pydantic 2 or jsonschema (both were considered): the checks that matter here are
not schema checks (NaN exactly where a mask says, offsets that slice the text into the words, shapes that agree
across fields), so a schema library would hold only the easy half while adding a second description of the
dataclass to keep in step with it; and this way a check costs one numpy pass per array and no new dependency.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "ESTIMATORS",
    "INTEGRATED_HESSIANS",
    "LEVELS",
    "SHAPLEY_INDICES",
    "TARGET_KINDS",
    "check_explanation_dict",
    "check_corpus_dict",
    "check_count",
    "check_optional_count",
    "plain_annotation",
]

#: the values of ``Explanation.level``
LEVELS = ("word", "token", "sentence", "spans", "message")
#: the values of ``Explanation.target_kind``
TARGET_KINDS = ("class", "candidate", "token", "position", "continuation", "custom")
#: the values of ``Explanation.estimator``: Integrated Hessians, or a Shapley interaction index of shapiq (order 2)
INTEGRATED_HESSIANS = "integrated-hessians"
SHAPLEY_INDICES = ("FSII", "k-SII", "STII", "FBII", "SII")
ESTIMATORS = (INTEGRATED_HESSIANS, *SHAPLEY_INDICES)

_FIX = "save it again with Explanation.to_json() (or explain the text again) instead of editing it"


def check_optional_count(k: Any, argument: str = "k") -> int | None:
    """``k`` as a number of items to return: an integer >= 0, or ``None`` for all; ``TypeError`` / ``ValueError``
    naming ``argument`` otherwise (a negative ``k`` would silently drop items from the end)."""
    return None if k is None else _count(k, argument, "an integer >= 0 or None (all)")


def check_count(k: Any, argument: str = "k") -> int:
    """``k`` as a number of items to return, an integer >= 0; ``TypeError`` / ``ValueError`` naming ``argument``
    otherwise."""
    return _count(k, argument, "an integer >= 0")


def _count(k: Any, argument: str, accepted: str) -> int:
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"{argument} must be {accepted}, got {type(k).__name__} {k!r}")
    if k < 0:
        raise ValueError(f"{argument} must be {accepted}, got {int(k)}: pass how many items to return")
    return int(k)


def _what(value: Any) -> str:
    shown = repr(value)
    return f"{type(value).__name__} {shown if len(shown) <= 60 else shown[:57] + '...'}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _refuse(kind: str, name: str, problem: str, fix: str = _FIX) -> ValueError:
    return ValueError(f"invalid {kind} JSON: field {name!r} {problem}; {fix}")


# annotation (without "| None") -> (check, what is accepted)
_SIMPLE = {
    "str": (lambda v: isinstance(v, str), "a string"),
    "int": (_is_int, "an integer"),
    "float": (lambda v: _is_number(v) and math.isfinite(float(v)), "a finite number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "list[str]": (lambda v: isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v), "a list of strings"),
    "list[int]": (lambda v: isinstance(v, (list, tuple)) and all(_is_int(x) for x in v), "a list of integers"),
    "dict[str,Any]": (lambda v: isinstance(v, Mapping) and all(isinstance(x, str) for x in v), "a JSON object"),
}


def plain_annotation(annotation: Any) -> tuple[str, bool]:
    """A dataclass field's annotation as written (``"list[str] | None"``; ``from __future__ import annotations``
    keeps it a string) -> ``(type without "| None" and spaces, whether None is allowed)``: ``("list[str]", True)``.
    The one reading of annotations that loading (here) and the dataset columns (``corpus.columns``) share."""
    plain = str(annotation).replace(" ", "")
    optional = plain.endswith("|None") or plain.startswith("None|")
    return plain.removesuffix("|None").removeprefix("None|"), optional


def _check_annotated(kind: str, name: str, annotation: str, value: Any) -> None:
    """A field of a plain annotated type (see ``_SIMPLE``); other annotations are checked by their own code."""
    plain, optional = plain_annotation(annotation)
    if plain not in _SIMPLE or (optional and value is None):
        return
    check, accepted = _SIMPLE[plain]
    if not check(value):
        raise _refuse(kind, name, f"must be {accepted}{' or null' if optional else ''}, got {_what(value)}")


def _array(kind: str, name: str, value: Any, shape: tuple[int, ...], *, boolean: bool = False) -> np.ndarray:
    """``value`` (nested lists) as a numpy array of ``shape``; refused naming ``name`` otherwise."""
    described = "a list" if len(shape) == 1 else "a list of lists (a square matrix)"
    described += " of true/false" if boolean else " of numbers"
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise _refuse(kind, name, f"must be {described}, got {_what(value)}")
    try:
        array = np.asarray(value)
    except ValueError:  # rows of different lengths
        raise _refuse(kind, name, f"must be {described} with rows of equal length {shape[-1]}") from None
    if array.size and (array.dtype.kind != "b" if boolean else array.dtype.kind not in "iuf"):
        raise _refuse(kind, name, f"must be {described}: it holds other values ({array.dtype.kind!r} entries)")
    if array.shape != shape and not (array.size == 0 and math.prod(shape) == 0):
        raise _refuse(
            kind,
            name,
            f"has shape {array.shape}, expected {shape} for the {shape[0]} words of 'words'",
        )
    return array.reshape(shape).astype(bool if boolean else np.float64)


def check_explanation_dict(d: Mapping[str, Any], annotations: Mapping[str, Any], kind: str = "explanation") -> None:
    """Check the fields of an explanation record ``d`` (as :meth:`~transformers_ih.Explanation.to_dict` writes
    them; ``annotations`` maps each field to its annotation); ``ValueError`` naming the first problem (module
    docstring)."""
    for name, annotation in annotations.items():
        if name in d:
            _check_annotated(kind, name, str(annotation), d[name])
    text, words = d["text"], d["words"]
    n = len(words)
    offsets = d["offsets"]
    if not isinstance(offsets, (list, tuple)) or len(offsets) != n:
        got = f"{len(offsets)} entries" if isinstance(offsets, (list, tuple)) else _what(offsets)
        raise _refuse(kind, "offsets", f"must be one [start, end] pair per word ({n}), got {got}")
    for i, (span, word) in enumerate(zip(offsets, words)):
        if not isinstance(span, (list, tuple)) or len(span) != 2 or not all(_is_int(v) for v in span):
            raise _refuse(kind, "offsets", f"[{i}] must be a pair of integer character offsets, got {_what(span)}")
        start, end = int(span[0]), int(span[1])
        if not 0 <= start <= end <= len(text):
            raise _refuse(kind, "offsets", f"[{i}] = {[start, end]} falls outside the text (0..{len(text)})")
        if text[start:end] != word:
            raise _refuse(
                kind, "words", f"[{i}] is {word!r} but its offsets {[start, end]} give {text[start:end]!r} in 'text'"
            )
    attributions = _array(kind, "attributions", d["attributions"], (n,))
    if not np.isfinite(attributions).all():
        i = int(np.argmax(~np.isfinite(attributions)))
        raise _refuse(kind, "attributions", f"[{i}] is {attributions[i]}: every attribution must be finite")
    _check_matrix(kind, d, n)
    groups = d.get("word_groups")
    if groups is not None and len(groups) != n:
        raise _refuse(kind, "word_groups", f"has {len(groups)} entries for {n} words: pass one group per word or null")
    level = d.get("level", "word")
    if level not in LEVELS:
        raise _refuse(kind, "level", f"is {level!r}; expected one of {LEVELS}")
    target_kind = d.get("target_kind", "class")
    if target_kind not in TARGET_KINDS:
        raise _refuse(kind, "target_kind", f"is {target_kind!r}; expected one of {TARGET_KINDS}")
    estimator = d.get("estimator", INTEGRATED_HESSIANS)
    if estimator not in ESTIMATORS:
        raise _refuse(kind, "estimator", f"is {estimator!r}; expected one of {ESTIMATORS}")
    if d["steps"] < 0:
        raise _refuse(kind, "steps", f"is {d['steps']}; the number of path points is >= 0")
    if not 0.0 <= float(d["predicted_probability"]) <= 1.0:
        raise _refuse(kind, "predicted_probability", f"is {d['predicted_probability']}; a probability is in [0, 1]")


def _check_matrix(kind: str, d: Mapping[str, Any], n: int) -> None:
    """``interactions`` and ``computed``: shapes, and NaN exactly in the cells not computed."""
    raw, mask_raw = d.get("interactions"), d.get("computed")
    if raw is None:
        if mask_raw is not None:
            raise _refuse(kind, "computed", "is given but 'interactions' is null: set computed to null")
        return
    matrix = _array(kind, "interactions", raw, (n, n))
    if np.isinf(matrix).any():
        i, j = np.argwhere(np.isinf(matrix))[0]
        raise _refuse(kind, "interactions", f"[{i}][{j}] is {matrix[i, j]}: every interaction must be finite")
    nan = np.isnan(matrix)
    if mask_raw is None:
        if nan.any():
            i, j = np.argwhere(nan)[0]
            raise _refuse(
                kind,
                "interactions",
                f"[{i}][{j}] is NaN but 'computed' is null (a full matrix): a partial matrix (rows=) needs its "
                f"'computed' mask, true where a cell holds a value",
            )
        return
    mask = _array(kind, "computed", mask_raw, (n, n), boolean=True)
    wrong = nan == mask  # NaN where computed, or a number where not computed
    if wrong.any():
        i, j = np.argwhere(wrong)[0]
        problem = "is NaN but 'computed' marks it computed" if mask[i, j] else "holds a number but 'computed' is false"
        raise _refuse(
            kind, "interactions", f"[{i}][{j}] {problem}: 'computed' must be true exactly where a cell holds a value"
        )


# ---------------------------------------------------------------------------------------------------- corpus
_CORPUS = "corpus interactions"
_CORPUS_FIX = "save it again with CorpusInteractions.to_json() (or build it again) instead of editing it"


def _corpus_error(name: str, problem: str) -> ValueError:
    return _refuse(_CORPUS, name, problem, _CORPUS_FIX)


def _finite(value: Any) -> bool:
    return _is_number(value) and math.isfinite(float(value))


def check_corpus_dict(d: Mapping[str, Any], word_fields: tuple[str, ...], pair_fields: tuple[str, ...]) -> None:
    """Check a :class:`~transformers_ih.corpus.CorpusInteractions` record: field types, each document (text,
    offsets within it), each word and pair row (field count, counts >= 1, finite totals) and each pair example (a
    document and two of its word positions, a finite value). ``word_fields`` / ``pair_fields``: the row fields, in
    order; a word row of the first format (without its last field) is accepted."""
    if not isinstance(d.get("name", ""), str):
        raise _corpus_error("name", f"must be a string, got {_what(d['name'])}")
    if not isinstance(d.get("case_sensitive", False), bool):
        raise _corpus_error("case_sensitive", f"must be true or false, got {_what(d['case_sensitive'])}")
    max_examples = d.get("max_examples", 5)
    if not _is_int(max_examples) or max_examples < 0:
        raise _corpus_error("max_examples", f"must be an integer >= 0, got {_what(max_examples)}")
    documents = d.get("documents", [])
    if not isinstance(documents, list):
        raise _corpus_error("documents", f"must be a list of objects, got {_what(documents)}")
    spans_of = [_check_document(i, doc) for i, doc in enumerate(documents)]
    targets = d.get("targets", {})
    if not isinstance(targets, Mapping) or not all(isinstance(k, str) and _is_int(v) for k, v in targets.items()):
        raise _corpus_error("targets", f"must be an object of target -> number of texts, got {_what(targets)}")
    for name, fields, row_check in (("words", word_fields, _check_word), ("pairs", pair_fields, _check_pair)):
        rows = d.get(name, [])
        if not isinstance(rows, list):
            raise _corpus_error(name, f"must be a list of rows, got {_what(rows)}")
        for i, row in enumerate(rows):
            lengths = {len(fields), len(fields) - 1} if name == "words" else {len(fields)}
            if not isinstance(row, (list, tuple)) or len(row) not in lengths:
                raise _corpus_error(
                    name, f"[{i}] must be a list of the {len(fields)} values {list(fields)}, got {_what(row)}"
                )
            row_check(f"{name}[{i}]", row, spans_of)


def _check_document(i: int, doc: Any) -> list[tuple[int, int]]:
    name = f"documents[{i}]"
    if not isinstance(doc, Mapping):
        raise _corpus_error(name, f"must be an object with text and offsets, got {_what(doc)}")
    for key in ("text", "target", "output", "predicted_label"):
        if not isinstance(doc.get(key), str):
            raise _corpus_error(f"{name}.{key}", f"must be a string, got {_what(doc.get(key))}")
    text, offsets = doc["text"], doc.get("offsets")
    if not isinstance(offsets, list):
        raise _corpus_error(f"{name}.offsets", f"must be a list of [start, end] pairs, got {_what(offsets)}")
    spans = []
    for k, span in enumerate(offsets):
        if (
            not isinstance(span, (list, tuple))
            or len(span) != 2
            or not all(_is_int(v) for v in span)
            or not 0 <= span[0] <= span[1] <= len(text)
        ):
            raise _corpus_error(f"{name}.offsets", f"[{k}] = {span!r} is not a span within the text (0..{len(text)})")
        spans.append((int(span[0]), int(span[1])))
    level = doc.get("level", "word")
    if level not in LEVELS:
        raise _corpus_error(f"{name}.level", f"is {level!r}; expected one of {LEVELS}")
    return spans


def _check_word(name: str, row: Any, spans_of: list) -> None:
    word, occurrences, attribution, main_effect, texts = row[:5]
    main_count = row[5] if len(row) > 5 else occurrences
    if not isinstance(word, str):
        raise _corpus_error(name, f"word must be a string, got {_what(word)}")
    for label, value in (("occurrences", occurrences), ("texts", texts), ("main_effect_count", main_count)):
        if not _is_int(value) or value < 0:
            raise _corpus_error(name, f"{label} must be an integer >= 0, got {_what(value)}")
    if occurrences < 1 or texts < 1 or texts > occurrences or main_count > occurrences:
        raise _corpus_error(
            name, f"counts {occurrences} occurrences in {texts} texts ({main_count} main effects) do not agree"
        )
    for label, value in (("attribution_total", attribution), ("main_effect_total", main_effect)):
        if not _finite(value):
            raise _corpus_error(name, f"{label} must be a finite number, got {_what(value)}")


def _check_pair(name: str, row: Any, spans_of: list) -> None:
    a, b, occurrences, total, total_abs, total_squared, texts, examples = row
    if not isinstance(a, str) or not isinstance(b, str):
        raise _corpus_error(name, f"a and b must be word strings, got {_what(a)} and {_what(b)}")
    for label, value in (("occurrences", occurrences), ("texts", texts)):
        if not _is_int(value) or value < 1:
            raise _corpus_error(name, f"{label} must be an integer >= 1, got {_what(value)}")
    if texts > occurrences:
        raise _corpus_error(name, f"is in {texts} texts but occurs only {occurrences} times")
    for label, value in (("total", total), ("total_abs", total_abs), ("total_squared", total_squared)):
        if not _finite(value):
            raise _corpus_error(name, f"{label} must be a finite number, got {_what(value)}")
    if not isinstance(examples, list):
        raise _corpus_error(name, f"examples must be a list, got {_what(examples)}")
    for k, example in enumerate(examples):
        ok = isinstance(example, (list, tuple)) and len(example) == 4 and all(_is_int(v) for v in example[:3])
        ok = ok and _finite(example[3]) and 0 <= example[0] < len(spans_of)
        ok = ok and 0 <= example[1] < example[2] < len(spans_of[example[0]])
        if not ok:
            raise _corpus_error(
                name,
                f"examples[{k}] = {example!r:.80} must be [document, i, j, value]: a document index, two of its "
                f"word positions i < j and a finite value",
            )
