"""Text-pair classification (NLI, paraphrase, similarity): both texts' words on one axis, so interactions between
a premise word and a hypothesis word are visible."""

from __future__ import annotations

from collections.abc import Sequence

from typing_extensions import Unpack, overload

from ..results.explanation import Explanation
from ..text.encoding import PAIR_SEPARATOR
from ..text.options import CallOptions
from ..text.requests import Request
from ..text.run import ExplainRun
from .sequence_classification import SequenceClassificationInteractionExplainer


class PairClassificationInteractionExplainer(SequenceClassificationInteractionExplainer):
    """Word attributions and word-pair interactions for a classifier of text pairs.

    >>> explainer = PairClassificationInteractionExplainer(model, tokenizer)
    >>> explanation = explainer("A man is playing a guitar.", "A person plays music.")
    >>> explanations = explainer(premises, hypotheses)        # two sequences of equal length: a list

    The pair is tokenized as the model was trained (``tokenizer(text, text_pair)``: its own separators and token
    type ids). ``explanation.words`` holds the words of ``text`` then those of ``text_pair``;
    ``explanation.word_groups`` is ``0`` / ``1`` for each, ``explanation.text`` is
    ``text + " || " + text_pair`` (``explanation.separator``), and ``interactions[i, j]`` with ``i`` in the first
    text and ``j`` in the second is a cross-sentence interaction.
    """

    texts = ("text", "text_pair")

    @overload  # type: ignore[override]
    def __call__(  # type: ignore[overload-overlap]
        self, text: str, text_pair: str | None = None, target: int | str | None = None, **options: Unpack[CallOptions]
    ) -> Explanation: ...
    @overload
    def __call__(
        self,
        text: Sequence[str],
        text_pair: Sequence[str] | None = None,
        target: int | str | None = None,
        **options: Unpack[CallOptions],
    ) -> list[Explanation]: ...
    def __call__(
        self,
        text: str | Sequence[str],
        text_pair: str | Sequence[str] | None = None,
        target: int | str | None = None,
        **options: Unpack[CallOptions],
    ) -> Explanation | list[Explanation]:
        """Explain the model's output for the pair ``(text, text_pair)`` (or two sequences of pairs: a list).

        Args:
            text, text_pair: the two texts (required both), or two sequences of equal length.
            target: class index or label name (default the predicted class). Pairs over the model's length
                limit raise ``ValueError`` (nothing is truncated).
            **options: see :class:`~transformers_ih.text.options.CallOptions`.
        """
        if text_pair is None:
            raise TypeError(
                "missing a required argument: 'text_pair' (the second text of the pair, or a sequence of "
                "them for many pairs)"
            )
        return self.explain(text, text_pair, target, **options)

    def requests(  # type: ignore[override]
        self,
        run: ExplainRun,
        text: str,
        text_pair: str,
        target: int | str | None = None,
    ) -> list[Request]:
        """The request for one pair (see :meth:`__call__`)."""
        enc = run.encode([text, text_pair], separator=PAIR_SEPARATOR, features=run.options.features)
        return [Request(enc, self.class_target(run, enc, target))]
