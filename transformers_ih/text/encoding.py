"""Tokenizing text for an explanation: the tokenizer's own inputs, tokens merged into words with character spans."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from .features import feature_level, segment_specs, token_features


@dataclass
class EncodedText:
    """One tokenized input and its words.

    Attributes:
        text: the segments joined by ``separator``: what word offsets point into.
        segments: the input texts (one, or two for pairs).
        inputs: the tokenizer's tensors for the model, batch of one (``input_ids``, ``attention_mask``,
            ``token_type_ids`` if it gives them, ...), on the model's device.
        tokens: the ``L`` tokens, special tokens included.
        words: the ``W`` features' texts (words at the default level); ``words[i] == text[a:b]`` of ``offsets[i]``.
        offsets: ``W`` character spans into ``text``.
        word_groups: segment index of each word (``None`` for a single segment).
        token_word: ``(L,)`` long tensor: the word index of each token, ``-1`` for tokens that are not features
            (special tokens, and tokens of segments that are not explained).
        token_offsets: ``L`` character spans of the tokens into ``text`` (``(0, 0)`` for special tokens).
        level: what a feature is: ``"word"``, ``"token"``, ``"sentence"`` or ``"spans"`` (see :mod:`.features`).
        word_ids, sequence_ids: the tokenizer's own word and text index of each token (``None`` for specials),
            whatever the feature level (e.g. token classification addresses words by them).
    """

    text: str
    segments: list[str]
    separator: str
    inputs: dict[str, torch.Tensor]
    tokens: list[str]
    words: list[str]
    offsets: list[tuple[int, int]]
    word_groups: list[int] | None
    token_word: torch.Tensor
    token_offsets: list[tuple[int, int]] | None = None
    level: str = "word"
    word_ids: list[int | None] | None = None
    sequence_ids: list[int | None] | None = None

    @property
    def input_ids(self) -> torch.Tensor:
        return self.inputs["input_ids"]

    @property
    def num_tokens(self) -> int:
        return self.input_ids.shape[1]


# joins the two texts of a pair (NLI, paraphrase, question + context) in ``Explanation.text``
PAIR_SEPARATOR = " || "


def check_fast_tokenizer(tokenizer) -> None:
    """Word merging needs ``word_ids()`` and offsets, which only fast (Rust) tokenizers give."""
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError(
            f"{type(tokenizer).__name__} is a slow (Python) tokenizer: word-level explanations need word_ids() "
            f"and character offsets, which only fast tokenizers provide. Load it with "
            f"AutoTokenizer.from_pretrained(name, use_fast=True)."
        )


# models whose position ids start after the padding index (RoBERTa's create_position_ids_from_input_ids): their
# max_position_embeddings counts padding_idx + 1 unusable positions
_POSITION_OFFSET_MODELS = (
    "roberta",
    "xlm-roberta",
    "camembert",
    "mpnet",
    "longformer",
    "data2vec-text",
    "xmod",
    "roberta-prelayernorm",
)


def max_position_tokens(model) -> int | None:
    """The most tokens the model's position embeddings cover (``None`` when it has no absolute limit, e.g. T5's
    relative positions or DeBERTa without absolute position embeddings)."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "position_biased_input", True) is False:
        return None
    positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    if not isinstance(positions, int):
        return None
    offset = 0
    if getattr(config, "model_type", "") in _POSITION_OFFSET_MODELS:
        offset = int(getattr(config, "pad_token_id", 1) or 1) + 1
    return positions - offset


def max_input_tokens(tokenizer, model) -> int | None:
    """The longest input the model takes, in tokens: the smaller of the tokenizer's ``model_max_length`` (unless
    it is the huge "unset" sentinel) and the model's position limit (:func:`max_position_tokens`); ``None`` if
    neither is known."""
    limits = []
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and limit < 1_000_000:
        limits.append(int(limit))
    positions = max_position_tokens(model)
    if positions is not None:
        limits.append(positions)
    return min(limits) if limits else None


def _word_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim whitespace that byte-level tokenizers include in a token's span; a word that is only whitespace
    (a byte-level token for a run of spaces) keeps its span, so that no word is empty."""
    lo, hi = start, end
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return (lo, hi) if lo < hi else (start, end)


def encode_text(
    tokenizer,
    segments: list[str],
    *,
    device: torch.device,
    limit: int | None,
    separator: str = " ",
    names: tuple[str, ...] = ("text", "text_pair"),
    features="word",
) -> EncodedText:
    """Tokenize ``segments`` (one text or a pair) and group tokens into features.

    ``features`` (see :mod:`.features`): ``"word"`` (the tokenizer's own words, ``word_ids()``, within each
    segment), ``"token"``, ``"sentence"``, character spans, or a callable ``text -> spans``. Feature spans are
    character offsets into ``separator.join(segments)``. Special tokens, and tokens in no span, get feature ``-1``.
    Raises ``ValueError`` for empty text, text over ``limit`` tokens (nothing is truncated) or bad spans.
    """
    check_fast_tokenizer(tokenizer)
    for name, seg in zip(names, segments):
        if not isinstance(seg, str):
            raise TypeError(f"{name} must be a string, got {type(seg).__name__}")
        if not seg.strip():
            raise ValueError(
                f"{name} is empty (or only whitespace): there is nothing to explain; pass a non-empty string"
            )
    level = feature_level(features)
    specs = segment_specs(features, segments, names)
    enc = tokenizer(*segments, return_offsets_mapping=True, return_tensors="pt", truncation=False)
    n = enc["input_ids"].shape[1]
    if limit is not None and n > limit:
        raise ValueError(
            f"the input is {n} tokens long, over the model's limit of {limit} tokens (the smaller of the tokenizer's "
            f"model_max_length and the model's position embeddings). Nothing is truncated silently: shorten the "
            f"text, or split it and explain the parts separately."
        )
    offsets = enc.pop("offset_mapping")[0].tolist()
    word_ids = enc.word_ids(0)
    sequence_ids = enc.sequence_ids(0)
    starts = [0]
    for seg in segments[:-1]:
        starts.append(starts[-1] + len(seg) + len(separator))
    in_span = {
        sid: token_features(
            spec,
            [tuple(o) if q == sid and w is not None else None for o, q, w in zip(offsets, sequence_ids, word_ids)],
            segments[sid],
            names[sid],
        )
        for sid, spec in enumerate(specs)
        if not isinstance(spec, str)
    }

    # a token without characters (a byte-level "Ġ" before a word) goes with another token of its word
    carrier: dict[tuple[int, int], int] = {}
    for pos, (wid, sid) in enumerate(zip(word_ids, sequence_ids)):
        if wid is not None and sid is not None and offsets[pos][0] < offsets[pos][1]:
            carrier.setdefault((sid, wid), pos)

    feature_index: dict[tuple[int, int], int] = {}
    spans: list[list[int]] = []
    groups: list[int] = []
    token_word = torch.full((n,), -1, dtype=torch.long)
    for position, (wid, sid) in enumerate(zip(word_ids, sequence_ids)):
        if wid is None or sid is None:
            continue
        pos = position
        start, end = offsets[pos]
        spec = specs[sid]
        if spec != "word" and start >= end:
            pos = carrier.get((sid, wid), pos)
        if spec == "word":
            key = (sid, wid)
        elif spec == "token":
            if offsets[pos][0] >= offsets[pos][1]:
                continue  # a word without characters (held)
            key = (sid, pos)
        else:
            k = in_span[sid][pos]
            if k is None:
                continue  # in no span: held at the input
            key = (sid, k)
            start, end = spec[k]
        if key not in feature_index:
            feature_index[key] = len(spans)
            spans.append([start + starts[sid], end + starts[sid]])
            groups.append(sid)
        w = feature_index[key]
        token_word[position] = w
        spans[w][0] = min(spans[w][0], start + starts[sid])
        spans[w][1] = max(spans[w][1], end + starts[sid])

    text = separator.join(segments)
    spans_t = [_word_span(text, s, e) for s, e in spans]
    token_offsets = [
        (0, 0) if sid is None else (s + starts[sid], e + starts[sid]) for (s, e), sid in zip(offsets, sequence_ids)
    ]
    inputs = {k: v.to(device) for k, v in enc.items() if isinstance(v, torch.Tensor)}
    return EncodedText(
        text=text,
        segments=list(segments),
        separator=separator,
        inputs=inputs,
        tokens=enc.tokens(0),
        words=[text[s:e] for s, e in spans_t],
        offsets=spans_t,
        word_groups=groups if len(segments) > 1 else None,
        token_word=token_word.to(device),
        token_offsets=token_offsets,
        level=level,
        word_ids=list(word_ids),
        sequence_ids=list(sequence_ids),
    )


def hold_tokens(enc: EncodedText, positions) -> EncodedText:
    """``enc`` with the tokens at ``positions`` made non-features (word ``-1``, held at their input embedding, e.g.
    the mask token of a masked LM); words left without tokens are dropped and the rest renumbered in order."""
    token_word = enc.token_word.clone()
    token_word[torch.as_tensor(list(positions), dtype=torch.long, device=token_word.device)] = -1
    kept = sorted(set(token_word[token_word >= 0].tolist()))
    renumber = torch.full((len(enc.words) + 1,), -1, dtype=torch.long, device=token_word.device)
    renumber[torch.tensor(kept, dtype=torch.long, device=token_word.device)] = torch.arange(
        len(kept), device=token_word.device
    )
    return replace(
        enc,
        token_word=renumber[token_word],  # -1 indexes the last entry, which stays -1
        words=[enc.words[w] for w in kept],
        offsets=[enc.offsets[w] for w in kept],
        word_groups=None if enc.word_groups is None else [enc.word_groups[w] for w in kept],
    )


def append_tokens(enc: EncodedText, ids: list[int], tokens: list[str], limit: int | None) -> EncodedText:
    """``enc`` followed by the tokens ``ids`` (e.g. a causal LM's target continuation), which are not features.

    Every ``(1, L)`` input of the tokenizer is continued with its last value (attention mask 1, token type of the
    last token). Raises ``ValueError`` if the whole is over ``limit`` tokens.
    """
    n = enc.num_tokens + len(ids)
    if limit is not None and n > limit:
        raise ValueError(
            f"the input and its continuation are {n} tokens long, over the model's limit of {limit} tokens. Nothing "
            f"is truncated silently: shorten the text or the continuation."
        )
    extra = torch.as_tensor(ids, dtype=torch.long, device=enc.input_ids.device)[None]
    inputs = {}
    for key, value in enc.inputs.items():
        if key == "input_ids":
            inputs[key] = torch.cat([value, extra.to(value.dtype)], dim=1)
        elif value.dim() == 2 and value.shape[1] == enc.num_tokens:
            inputs[key] = torch.cat([value, value[:, -1:].expand(1, len(ids))], dim=1)
        else:
            raise ValueError(f"cannot continue the tokenizer's {key!r} input of shape {tuple(value.shape)}")
    held = torch.full((len(ids),), -1, dtype=torch.long, device=enc.token_word.device)
    return replace(
        enc,
        inputs=inputs,
        tokens=list(enc.tokens) + list(tokens),
        token_word=torch.cat([enc.token_word, held]),
        token_offsets=None if enc.token_offsets is None else list(enc.token_offsets) + [(0, 0)] * len(ids),
        word_ids=None if enc.word_ids is None else list(enc.word_ids) + [None] * len(ids),
        sequence_ids=None if enc.sequence_ids is None else list(enc.sequence_ids) + [None] * len(ids),
    )
