"""``attribution_faithfulness``: AOPC comprehensiveness / sufficiency (:mod:`.aopc`) and deletion / insertion
curves (:mod:`.curves`) of an explanation's word attributions, measured on the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._game import as_game
from ._record import Record
from .aopc import AOPC, DEFAULT_FRACTIONS, _scores, check_fractions, measure_aopc
from .curves import RemovalCurves, measure_curves


@dataclass
class AttributionFaithfulness(Record):
    """How faithful one attribution ranking is to the model, in ``output`` units.

    Attributes:
        words: the features (the explanation's words).
        output: what the model values are (``"logit"``, ``"probability"``, ...).
        f_input, f_baseline: the model's value with every feature present / removed.
        aopc: :class:`~.aopc.AOPC` comprehensiveness and sufficiency (ERASER / ferret).
        curves: :class:`~.curves.RemovalCurves` (deletion and insertion).
        evaluations: distinct coalitions the model was evaluated on.
    """

    words: list[str]
    output: str
    f_input: float
    f_baseline: float
    aopc: AOPC
    curves: RemovalCurves
    evaluations: int

    @property
    def comprehensiveness(self) -> float:
        """AOPC comprehensiveness (higher is better)."""
        return self.aopc.comprehensiveness

    @property
    def sufficiency(self) -> float:
        """AOPC sufficiency (lower is better)."""
        return self.aopc.sufficiency

    @property
    def deletion_auc(self) -> float:
        return self.curves.deletion_auc

    @property
    def insertion_auc(self) -> float:
        return self.curves.insertion_auc

    def plot_curves(self, *, theme: str = "light", **layout: Any):
        """Plotly figure of the deletion and insertion curves
        (:func:`transformers_ih.visualize.evaluation.plot_removal_curves`)."""
        from ..visualize.evaluation import plot_removal_curves

        return plot_removal_curves(self, theme=theme, **layout)

    def plot_aopc(self, *, theme: str = "light", **layout: Any):
        """Plotly figure of comprehensiveness and sufficiency per rationale
        (:func:`transformers_ih.visualize.evaluation.plot_aopc`)."""
        from ..visualize.evaluation import plot_aopc

        return plot_aopc(self, theme=theme, **layout)


def attribution_faithfulness(
    explainer,
    explanation,
    *,
    scores=None,
    output: str | None = None,
    fractions=DEFAULT_FRACTIONS,
    only_positive: bool = True,
) -> AttributionFaithfulness:
    """AOPC comprehensiveness / sufficiency and deletion / insertion curves of ``explanation``'s attributions.

    Args:
        explainer: the explainer that made ``explanation`` (its :meth:`coalition_values` is the model with features
            removed to the explanation's own baseline, batched by ``internal_batch_size``), or a callable game
            ``(M, W) bool -> (M,)``.
        explanation: an :class:`~transformers_ih.results.explanation.Explanation` (any text task; its words are
            the features).
        scores: ``(W,)`` other attribution scores to rank the same features by (e.g. another method's, to compare
            on the same model and removal scheme); default ``explanation.attributions``.
        output: measure another output of the explained target, e.g. ``"probability"`` (ERASER and ferret report
            the class probability); default the explained output.
        fractions, only_positive: the rationales' removal fractions and ferret's positive-only rule (:mod:`.aopc`).

    Costs ``2 W`` model rows for the curves plus at most two per fraction (shared coalitions evaluated once).
    """
    n = len(explanation.words)
    scores = _scores(explanation.attributions if scores is None else scores)
    if scores.shape != (n,):
        raise ValueError(
            f"attribution scores must have shape (W,) = ({n},), one per word of the explanation; got {scores.shape}"
        )
    check_fractions(fractions)
    game = as_game(explainer, explanation, output)
    ends = game(np.array([np.ones(n, bool), np.zeros(n, bool)]))
    aopc = measure_aopc(game, scores, fractions, only_positive)
    curves = measure_curves(game, scores)
    name = output if isinstance(output, str) else explanation.output if output is None else "custom"
    return AttributionFaithfulness(
        words=list(explanation.words),
        output=name,
        f_input=float(ends[0]),
        f_baseline=float(ends[1]),
        aopc=aopc,
        curves=curves,
        evaluations=game.evaluations,
    )
