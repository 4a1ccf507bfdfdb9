"""Features at any granularity: which tokens move together along the path.

A feature is a group of tokens whose embeddings move together from the baseline to the input; interactions are
between features. The per-feature reduction of the engine supports any grouping, so the level is the user's:

* ``"word"`` (default): the tokenizer's own words (``word_ids()`` of the fast tokenizer);
* ``"token"``: every sub-word token on its own;
* ``"sentence"``: the sentences of each text, from `pysbd <https://github.com/nipunsadvilkar/pySBD>`_, a rule-based
  sentence boundary detector (Golden-Rule tested, abbreviations, ellipses, numbers) that needs no model download,
  unlike NLTK's Punkt (whose data download fails offline); its character spans are used as they are;
* a list of character spans ``[(start, end), ...]`` into the text (two lists, one per text, for two-text tasks);
* a callable ``text -> spans`` (applied to each text of a two-text task).

Tokens inside no span are held at the input (like special tokens) and get nothing. Spans are checked: integers,
inside the text, non-empty, non-overlapping, and each covering at least one token; a span boundary that cuts a
token is refused (it names the token), since a token's embedding moves as one piece.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

LEVELS = ("word", "token", "sentence")

Spans = list[tuple[int, int]]


def feature_level(features) -> str:
    """The ``Explanation.level`` for a ``features`` setting: ``"word"``, ``"token"``, ``"sentence"`` or
    ``"spans"`` (character spans given, or made by a callable)."""
    if isinstance(features, str):
        if features not in LEVELS:
            raise ValueError(
                f"features={features!r}: expected one of {LEVELS}, a list of character spans "
                f"[(start, end), ...], or a callable text -> spans"
            )
        return features
    if features is None:
        return "word"
    return "spans"


class SentenceSpans(list):
    """Sentence spans found by pysbd rather than given by the user: a sentence that covers no token (only
    zero-width, control or other characters the tokenizer drops, e.g. ``"\u200b\u200b"`` after ``"hi. "``) is left
    out, as word level leaves such characters out, instead of being refused."""


def check_features_setting(features) -> None:
    """``TypeError`` for a ``features=`` that is none of ``None``, a level name, spans (a list or tuple) or a
    callable; checked before any model call (level names and spans are checked in detail once the text is known)."""
    if features is None or isinstance(features, (str, list, tuple)) or callable(features):
        return
    raise TypeError(
        f"features={features!r} ({type(features).__name__}): expected one of {LEVELS}, a list of character spans "
        f"[(start, end), ...], or a callable text -> spans"
    )


def sentence_spans(text: str) -> Spans:
    """The sentences of ``text`` as character spans (pysbd), trimmed of surrounding whitespace."""
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    spans = []
    for piece in segmenter.segment(text):
        start, end = piece.start, piece.end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def segment_specs(features, segments: Sequence[str], names: Sequence[str]) -> list:
    """One feature setting per text: a level name, or checked character spans of that text."""
    if features is None or isinstance(features, str):
        feature_level(features)
        if features == "sentence":
            return [SentenceSpans(sentence_spans(text)) for text in segments]
        return [features or "word"] * len(segments)
    if callable(features):
        return [check_spans(features(text), text, name, made_by=features) for text, name in zip(segments, names)]
    check_features_setting(features)  # spans from here on: a list or tuple
    given = list(features)
    if len(segments) > 1:
        per_text = len(given) == len(segments) and all(
            isinstance(g, str) or (isinstance(g, (list, tuple)) and not _is_span(g)) for g in given
        )
        if not per_text:
            raise ValueError(
                f"features for {len(segments)} texts ({', '.join(names)}) must be one entry per text, "
                f"each a list of spans or a level, e.g. ([(0, 5)], [(0, 3), (4, 9)]) or ([(0, 5)], "
                f"'word'); got {features!r}"
            )
        return [
            segment_specs(g, [text], [name])[0] if isinstance(g, str) else check_spans(g, text, name)
            for g, text, name in zip(given, segments, names)
        ]
    return [check_spans(given, segments[0], names[0])]


def _is_span(value) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value)


def check_spans(spans, text: str, name: str, made_by: Callable | None = None) -> Spans:
    """``spans`` as sorted ``(start, end)`` pairs; ``ValueError`` naming the problem (and the callable that made
    them) for spans that are not integer pairs, empty, outside ``text``, or overlapping."""
    source = f" (made by {getattr(made_by, '__name__', made_by)!s})" if made_by is not None else ""
    try:
        pairs = [tuple(span) for span in spans]
    except TypeError:
        raise ValueError(
            f"features for {name}{source} must be a list of (start, end) character spans, got {spans!r}"
        ) from None
    out = []
    for span in pairs:
        if not _is_span(span) or isinstance(span[0], bool) or isinstance(span[1], bool):
            raise ValueError(
                f"feature span {span!r} of {name}{source} is not a pair of integer character offsets (start, end)"
            )
        start, end = span
        if not 0 <= start < end <= len(text):
            raise ValueError(
                f"feature span {span} of {name}{source} is empty or falls outside the text (0..{len(text)}"
                f"): pass 0 <= start < end <= len({name})"
            )
        out.append((int(start), int(end)))
    out.sort()
    for (s1, e1), (s2, e2) in zip(out, out[1:]):
        if s2 < e1:
            raise ValueError(
                f"feature spans {(s1, e1)} and {(s2, e2)} of {name}{source} overlap "
                f"({text[s2:e1]!r}): a token can belong to one feature only"
            )
    if not out:
        raise ValueError(f"features for {name}{source} is an empty list of spans: nothing to explain")
    return out


def token_features(spans: Spans, token_offsets: list[tuple[int, int] | None], text: str, name: str) -> list[int | None]:
    """For each token (segment-relative character offsets; ``None`` for tokens of other texts or special tokens),
    the index of the span it lies in, or ``None`` when in none. ``ValueError`` when a span boundary cuts a token or
    a span the user gave covers no token (a sentence found in the text that covers none is left out:
    :class:`SentenceSpans`)."""
    out: list[int | None] = []
    used = set()
    for offsets in token_offsets:
        if offsets is None or offsets[0] >= offsets[1]:
            out.append(None)
            continue
        a, b = offsets
        while a < b and text[a].isspace():  # byte-level tokens carry the space before them
            a += 1
        hit = None
        for k, (s, e) in enumerate(spans):
            if a < e and b > s:
                if a < s or b > e:
                    raise ValueError(
                        f"feature span {(s, e)} of {name} cuts the token {text[offsets[0] : offsets[1]]!r} "
                        f"(characters {offsets[0]}..{offsets[1]}): a token moves as one piece, so spans "
                        f"must end at token boundaries"
                    )
                hit = k
                break
        out.append(hit)
        if hit is not None:
            used.add(hit)
    missing = [spans[k] for k in range(len(spans)) if k not in used]
    if missing and not isinstance(spans, SentenceSpans):
        raise ValueError(
            f"feature span(s) {missing} of {name} cover no token ({[text[s:e] for s, e in missing]!r}): "
            f"every feature needs a token whose embedding can move"
        )
    return out
