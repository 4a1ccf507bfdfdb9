"""Prompt segments: features made of whole parts of a prompt (messages, retrieved documents, marked spans), and
words inside parts of a prompt.

:func:`prompt_segments` joins a list of segments into one prompt and gives the character span of each segment to
explain, for ``features=``: one feature per segment, so a RAG prompt with 5 documents gives a 5 x 5 document
interaction matrix::

    p = prompt_segments({"instruction": "Answer from the documents.", "doc 1": d1, ..., "doc 5": d5,
                         "question": "Question: who ...?\\nAnswer:"}, explain=["doc 1", ..., "doc 5"])
    explanation = explainer(p.text, target=" Paris", features=p.spans)   # words: the 5 documents
    p.names                                                               # ['doc 1', ..., 'doc 5']

The other helpers build feature spans *inside a region* of a tokenized text (a chat message's content within the
rendered chat prompt, or a whole prompt), snapped to the tokenizer's tokens: a token belongs to a region when its
characters (without the leading whitespace that byte-level and SentencePiece tokens carry) lie inside it; tokens
that straddle a region's edge and whitespace-only tokens at its edges are held (not features).
A whitespace-only token right before a word (a byte-level ``Ġ`` or a SentencePiece ``▁`` split from a rare word)
moves with that word, as at the tokenizer's word level.

**Words** inside a region are the tokenizer's words (``word_ids()``) split further at whitespace: SentencePiece-style
tokenizers (Llama 2, Mistral, Phi-3, Gemma) do not pre-tokenize, so their ``word_ids()`` make one "word" of a whole
text; a new word starts at every token that begins with whitespace (``▁`` or ``Ġ``), at every change of the
tokenizer's word, and after every held token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from .features import check_spans, sentence_spans

Span = tuple[int, int]

#: feature levels inside a region (a prompt, or a chat message's content); ``"message"``: the whole region
REGION_LEVELS = ("word", "token", "sentence", "message")


@dataclass(frozen=True)
class PromptSegments:
    """A prompt joined from segments: ``text``, the character ``spans`` of the segments to explain (pass them as
    ``features=``), their ``names``, and ``segments``: every segment's ``(name, start, end)`` in ``text``."""

    text: str
    spans: list[Span]
    names: list[str]
    segments: list[tuple[str, int, int]]


def prompt_segments(
    segments, *, separator: str = "\n\n", explain=None, prefix: str = "", suffix: str = ""
) -> PromptSegments:
    """Join ``segments`` into one prompt and give the spans of those to explain, one feature each.

    Args:
        segments: a list of texts (named ``"0"``, ``"1"``, ...), a list of ``(name, text)`` pairs, or a dict
            ``{name: text}`` (in order).
        separator: put between consecutive segments (default a blank line: tokenizers never merge a newline with
            the words around it, so no segment edge cuts a token).
        explain: which segments become features: ``None`` (all), or a list of names or positions; the others
            (an instruction, the question) are held at the input like template tokens.
        prefix, suffix: text before the first and after the last segment (held).

    Returns:
        :class:`PromptSegments`; ``explainer(p.text, ..., features=p.spans)`` explains one feature per chosen
        segment, in order (``explanation.words`` are the segments' texts, ``p.names`` their names).
    """
    if isinstance(segments, Mapping):
        pairs = [(str(k), v) for k, v in segments.items()]
    elif isinstance(segments, Sequence) and not isinstance(segments, str):
        pairs = []
        for i, item in enumerate(segments):
            if isinstance(item, str):
                pairs.append((str(i), item))
            elif isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], str):
                pairs.append((str(item[0]), item[1]))
            else:
                raise TypeError(f"segment {i} is {item!r}: pass texts, (name, text) pairs, or a dict name -> text")
    else:
        raise TypeError(
            f"segments must be a list of texts, of (name, text) pairs, or a dict; got {type(segments).__name__}"
        )
    if not pairs:
        raise ValueError("segments is empty: pass at least one segment")
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError(f"segment names repeat: {names}; give each segment its own name")
    if explain is None:
        chosen = list(range(len(pairs)))
    else:
        chosen = []
        for item in [explain] if isinstance(explain, (str, int)) else list(explain):
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                raise TypeError(f"explain: {item!r} is neither a segment name nor a position")
            if isinstance(item, str):
                if item not in names:
                    raise ValueError(f"explain: no segment named {item!r}; the segments are {names}")
                item = names.index(item)
            elif not -len(pairs) <= item < len(pairs):
                raise ValueError(f"explain: position {item} is out of range for {len(pairs)} segments")
            chosen.append(item % len(pairs))
        chosen = sorted(set(chosen))
    text, placed = prefix, []
    for k, (name, segment) in enumerate(pairs):
        if k:
            text += separator
        placed.append((name, len(text), len(text) + len(segment)))
        text += segment
    text += suffix
    spans, chosen_names = [], []
    for k in chosen:
        name, start, end = placed[k]
        a, b = _strip(text, start, end)
        if a == b:
            raise ValueError(f"segment {name!r} is empty (or only whitespace): nothing to explain in it")
        spans.append((a, b))
        chosen_names.append(name)
    return PromptSegments(text=text, spans=spans, names=chosen_names, segments=placed)


def _strip(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def token_chars(text: str, offsets: Sequence[Sequence[int]]) -> list[Span | None]:
    """Each token's characters without leading whitespace, ``(a, end)``; ``None`` for tokens without characters
    (special tokens added by the tokenizer) and whitespace-only tokens."""
    out: list[Span | None] = []
    for start, end in offsets:
        a = start
        while a < end and text[a].isspace():
            a += 1
        out.append((a, end) if a < end else None)
    return out


def region_tokens(text: str, offsets, region: Span) -> list[int]:
    """Positions of the tokens whose characters (see :func:`token_chars`) lie inside ``region``."""
    lo, hi = region
    return [
        k for k, span in enumerate(token_chars(text, offsets)) if span is not None and lo <= span[0] and span[1] <= hi
    ]


def region_words(text: str, offsets, word_ids, region: Span) -> list[Span]:
    """The words inside ``region`` (module docstring): character spans, each from its first token's first character
    (after leading whitespace) to its last token's end."""
    chars = token_chars(text, offsets)
    inside = region_tokens(text, offsets, region)
    words: list[list[int]] = []
    previous = None
    for k in inside:
        start, end = offsets[k]
        new = (
            previous is None
            or previous != k - 1
            or text[start : start + 1].isspace()
            or (word_ids is not None and word_ids[k] != word_ids[previous])
        )
        if new:
            first = cast(Span, chars[k])[0]  # a token inside the region has characters
            if k and chars[k - 1] is None and region[0] <= offsets[k - 1][0] < offsets[k - 1][1] == start:
                first = offsets[k - 1][0]  # a whitespace-only token ("Ġ", "▁") just before goes with its word
            words.append([first, end])
        else:
            words[-1][1] = max(words[-1][1], end)
        previous = k
    return [(w[0], w[1]) for w in words]


def region_spans(
    text: str,
    offsets,
    word_ids,
    region: Span,
    level,
    *,
    content: str | None = None,
    content_start: int = 0,
    name: str = "prompt",
) -> list[Span]:
    """Feature spans (characters of ``text``) inside ``region`` at ``level``: ``"word"``, ``"token"`` (each token
    inside), ``"sentence"`` (pysbd on the region's text; each token goes to the sentence its first character is
    in), ``"message"`` (the whole region, one feature), or spans given in the coordinates of ``content`` (the
    region's source text, which starts at its character ``content_start`` in the region: e.g. a chat message's
    content before the template trimmed it), or a callable ``content -> spans``. Token-level groupings never cut
    a token; given spans are checked by the tokenizer step (a span that cuts a token is refused there)."""
    lo, hi = region
    if not isinstance(level, str):
        source = content if content is not None else text[lo:hi]
        if callable(level):
            return _shift(check_spans(level(source), source, name, made_by=level), lo - content_start, region, name)
        return _shift(check_spans(level, source, name), lo - content_start, region, name)
    if level not in REGION_LEVELS:
        raise ValueError(
            f"features={level!r} for {name}: expected one of {REGION_LEVELS}, spans [(start, end), ...] "
            f"into its text, or a callable text -> spans"
        )
    if level == "word":
        return region_words(text, offsets, word_ids, region)
    inside = region_tokens(text, offsets, region)
    # only the tokens inside the region are read below: they have characters (see region_tokens)
    chars = cast("list[Span]", token_chars(text, offsets))
    if level == "token":
        return list(dict.fromkeys(chars[k] for k in inside))  # tokens of one character (split bytes) stay one
    if level == "message":
        return [(chars[inside[0]][0], max(offsets[k][1] for k in inside))] if inside else []
    sentences = [(lo + a, lo + b) for a, b in sentence_spans(text[lo:hi])]
    groups: dict[int, list[int]] = {}
    for k in inside:
        a = chars[k][0]
        index = next((i for i, (s, e) in enumerate(sentences) if s <= a < e), None)
        if index is None:  # between sentences (pysbd leaves out whitespace only): the sentence before
            index = max([i for i, (s, _) in enumerate(sentences) if s <= a] or [0])
        groups.setdefault(index, []).append(k)
    return [(chars[ks[0]][0], max(offsets[k][1] for k in ks)) for _, ks in sorted(groups.items())]


def _shift(spans: list[Span], by: int, region: Span, name: str) -> list[Span]:
    out = [(a + by, b + by) for a, b in spans]
    for (a, b), (s, e) in zip(spans, out):
        if s < region[0] or e > region[1]:
            raise ValueError(
                f"feature span {(a, b)} of {name} falls outside the text the prompt shows of it (the "
                f"chat template trimmed it to characters {region[0] - by}..{region[1] - by})"
            )
    return out


def degenerate_words(text: str, offsets, word_ids) -> bool:
    """Whether the tokenizer's ``word_ids()`` group tokens across whitespace (SentencePiece-style tokenizers
    without a pre-tokenizer: one "word" for a whole text), so that words must be split at whitespace."""
    chars = token_chars(text, offsets)
    spans: dict[int, list[int]] = {}
    for k, w in enumerate(word_ids):
        c = chars[k]
        if w is None or c is None:
            continue
        span = spans.setdefault(w, [c[0], c[1]])
        span[0], span[1] = min(span[0], c[0]), max(span[1], c[1])
    return any(any(c.isspace() for c in text[a:b]) for a, b in spans.values())
