"""Text-pair classification (NLI, paraphrase, similarity): both texts' words on one axis, so interactions between
a premise word and a hypothesis word are visible."""

from __future__ import annotations

from ..explanation import Explanation
from .architectures import check_head
from .sequence_classification import SequenceClassificationInteractionExplainer
from .text_inputs import PAIR_SEPARATOR


class PairClassificationInteractionExplainer(SequenceClassificationInteractionExplainer):
    """Word attributions and word-pair interactions for a classifier of text pairs.

    >>> explainer = PairClassificationInteractionExplainer(model, tokenizer)
    >>> explanation = explainer("A man is playing a guitar.", "A person plays music.")

    The pair is tokenized as the model was trained (``tokenizer(text, text_pair)``: its own separators and token
    type ids). ``explanation.words`` holds the words of ``text`` then those of ``text_pair``;
    ``explanation.word_groups`` is ``0`` / ``1`` for each, ``explanation.text`` is
    ``text + " || " + text_pair`` (``explanation.separator``), and ``interactions[i, j]`` with ``i`` in the first
    text and ``j`` in the second is a cross-sentence interaction. Options as for
    :class:`~.sequence_classification.SequenceClassificationInteractionExplainer`.
    """

    def __init__(self, model, tokenizer, **kwargs):
        super().__init__(model, tokenizer, **kwargs)
        check_head(model, "sequence classification", "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES")

    def __call__(
        self,
        text: str | list[str],
        text_pair: str | list[str],
        target: int | str | None = None,
        *,
        output: str = "logit",
        interactions: bool = True,
        steps: int | None = None,
        method: str | None = None,
        baseline=None,
        smoothing="default",
    ) -> Explanation | list[Explanation]:
        """Explain the model's output for the pair ``(text, text_pair)`` (or lists of pairs of equal length).

        ``target``: class index or label name (default the predicted class); other arguments as for
        :meth:`SequenceClassificationInteractionExplainer.__call__`. Pairs over the model's length limit raise
        ``ValueError`` (nothing is truncated).
        """
        explain = dict(output=output, interactions=interactions, steps=steps, method=method, baseline=baseline,
                       smoothing=smoothing)
        if isinstance(text, (list, tuple)) or isinstance(text_pair, (list, tuple)):
            both = isinstance(text, (list, tuple)) and isinstance(text_pair, (list, tuple))
            if not both or len(text) != len(text_pair):
                raise ValueError("text and text_pair must both be strings, or lists of the same length")
            encs = [self.encode([a, b], separator=PAIR_SEPARATOR) for a, b in zip(text, text_pair)]
            return self.explain_batches(encs, [self._class_target(e, target, output) for e in encs], **explain)
        return self._explain_class(self.encode([text, text_pair], separator=PAIR_SEPARATOR), target, **explain)
