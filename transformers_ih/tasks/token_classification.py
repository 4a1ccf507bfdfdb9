"""Token classification (NER, POS tagging): explain the label of one word, or of each word."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from typing_extensions import Unpack, overload

from ..results.explanation import Explanation
from ..text.options import CallOptions
from ..text.requests import ExplainedOutput, Request
from ..text.run import ExplainRun
from ..text.targets import class_selector, label_name, resolve_label
from .base import TextInteractionExplainer


class TokenClassificationInteractionExplainer(TextInteractionExplainer):
    """Word attributions and interactions behind the label of a chosen word of a token classifier.

    >>> explainer = TokenClassificationInteractionExplainer(model, tokenizer)
    >>> explanation = explainer("George Washington went to Washington", word=4)   # the second "Washington"
    >>> explanations = explainer("George Washington went to Washington")          # {word position: Explanation}
    >>> many = explainer(texts, word=0)                                           # a list, one per text

    Words are the tokenizer's words (``explainer.words(text)``) and are addressed by position, so repeated words
    stay distinct. A word's label is the label of its first token (as the NER pipeline's "first" aggregation), and
    the explained output is that token's logit for the label (default the predicted one; ``output=`` as for
    sequence classification: a softmax over the labels at that token). All words, the explained one included, are
    features. ``meta`` has ``word_index``, ``word``, ``token_index`` and ``word_labels`` (every word's predicted
    label).
    """

    head = ("token classification", "MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES")

    def words(self, text: str) -> list[str]:
        """The words of ``text`` as the explainer splits it (their positions are the ``word`` argument)."""
        return self.encode([text]).words

    @overload
    def __call__(  # type: ignore[overload-overlap]
        self, text: str, word: int | str, target: int | str | None = None, **options: Unpack[CallOptions]
    ) -> Explanation: ...
    @overload
    def __call__(  # type: ignore[overload-overlap]
        self,
        text: str,
        word: Sequence[int] | None = None,
        target: int | str | None = None,
        **options: Unpack[CallOptions],
    ) -> dict[int, Explanation]: ...
    @overload
    def __call__(
        self, text: Sequence[str], word: int | str, target: int | str | None = None, **options: Unpack[CallOptions]
    ) -> list[Explanation]: ...
    @overload
    def __call__(
        self,
        text: Sequence[str],
        word: Sequence[int] | None = None,
        target: int | str | None = None,
        **options: Unpack[CallOptions],
    ) -> list[dict[int, Explanation]]: ...
    def __call__(
        self,
        text: str | Sequence[str],
        word: int | str | Sequence[int] | None = None,
        target: int | str | None = None,
        **options: Unpack[CallOptions],
    ) -> Explanation | dict[int, Explanation] | list[Explanation] | list[dict[int, Explanation]]:
        """Explain the label of ``word`` in ``text`` (or in each of many texts: a list).

        Args:
            word: a word position (an ``Explanation``), a list of positions or ``None`` for every word (a dict
                ``{position: Explanation}``), or a word string that occurs exactly once.
            target: label name or index to explain (default: the word's predicted label).
            **options: see :class:`~transformers_ih.text.options.CallOptions` (``output``, ``interactions``,
                ``steps``, ``method``, ``baseline``, ``smoothing``, ``features``, ``rows``).
        """
        return self.explain(text, word, target, **options)

    def requests(
        self, run: ExplainRun, text: str, word: int | str | Sequence[int] | None = None, target: int | str | None = None
    ) -> list[Request]:
        """The requests for one text: one per explained word (see :meth:`__call__`)."""
        enc = run.encode([text], features=run.options.features)
        logits = run.forward(enc).logits[0]
        if logits.dim() != 2 or logits.shape[0] != enc.num_tokens:
            raise TypeError(
                f"{type(self.model).__name__} does not output one logit vector per token; use a "
                f"token-classification model (AutoModelForTokenClassification)"
            )
        words, first = self._words_and_first_tokens(text, enc)
        probs = torch.softmax(logits.double(), dim=-1)
        predicted = [int(torch.argmax(probs[pos])) for pos in first]
        config = self.model.config
        word_labels = [label_name(config, p) for p in predicted]
        single = word is not None and not isinstance(word, (list, tuple))
        positions: list[int | str | Sequence[int]]  # each checked by _word_position
        if word is None:
            positions = list(range(len(words)))
        else:  # a list or tuple of words, or a single one
            positions = list(word) if isinstance(word, (list, tuple)) else [word]
        output = cast(str, run.options.output)  # a task's requests see a named output (requests_of)
        requests = []
        for w in [self._word_position(words, w) for w in positions]:
            index = predicted[w] if target is None else resolve_label(config, target, logits.shape[1])
            explained = ExplainedOutput(
                class_selector(index, output, position=first[w]),
                label_name(config, index),
                "class",
                index,
                word_labels[w],
                float(probs[first[w], predicted[w]]),
            )
            meta = {"word_index": w, "word": words[w], "token_index": first[w], "word_labels": list(word_labels)}
            requests.append(Request(enc, explained, meta, key=None if single else w))
        return requests

    def _words_and_first_tokens(self, text: str, enc) -> tuple[list[str], list[int]]:
        """The tokenizer's words of ``text`` (the ``word`` positions, whatever the feature level) and the position of
        each word's first token in ``enc``."""
        words = self.words(text)
        first: dict[int, int] = {}
        for pos, (w, q) in enumerate(zip(enc.word_ids, enc.sequence_ids)):
            if w is not None and q is not None:
                first.setdefault(w, pos)
        return words, [first[w] for w in sorted(first)]

    @staticmethod
    def _word_position(words: list[str], word) -> int:
        if isinstance(word, str):
            hits = [i for i, w in enumerate(words) if w == word]
            if len(hits) != 1:
                where = f"occurs {len(hits)} times (positions {hits})" if hits else "is not one of the words"
                raise ValueError(f"word {word!r} {where}; pass its position in {words}")
            return hits[0]
        if isinstance(word, bool) or not isinstance(word, int):
            raise TypeError(f"word must be a word position, a list of positions, a word string or None; got {word!r}")
        if not 0 <= word < len(words):
            raise ValueError(f"word position {word} is out of range: the text has {len(words)} words {words}")
        return word
