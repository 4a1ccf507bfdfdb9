"""``interaction_faithfulness``: pair ablation (:mod:`.pairs`) and coalition fidelity (:mod:`.fidelity`) of an
explanation's Integrated Hessians, measured on the model; and the two metrics alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._game import as_game
from ._record import Record
from .fidelity import CoalitionFidelity, check_full_matrix, coalition_array, measure_fidelity
from .pairs import PairAblation, measure_pairs, strongest_pairs


@dataclass
class InteractionFaithfulness(Record):
    """How faithful one explanation's interactions are to the model, in ``output`` units.

    Attributes:
        words: the features (the explanation's words).
        output: the explained output's units.
        pairs: :class:`~.pairs.PairAblation` of the ``k`` strongest pairs.
        fidelity: :class:`~.fidelity.CoalitionFidelity` on random coalitions (second-order and additive R^2).
        evaluations: distinct coalitions the model was evaluated on.
    """

    words: list[str]
    output: str
    pairs: PairAblation
    fidelity: CoalitionFidelity
    evaluations: int

    @property
    def pair_correlation(self) -> float:
        return self.pairs.correlation

    @property
    def sign_agreement(self) -> float:
        return self.pairs.sign_agreement

    @property
    def r2_second_order(self) -> float:
        return self.fidelity.r2_second_order

    @property
    def r2_additive(self) -> float:
        return self.fidelity.r2_additive

    def plot_pairs(self, *, theme: str = "light", **layout: Any):
        """Plotly scatter: each pair's predicted vs ablated interaction
        (:func:`transformers_ih.visualize.evaluation.plot_pair_ablation`)."""
        from ..visualize.evaluation import plot_pair_ablation

        return plot_pair_ablation(self, theme=theme, **layout)

    def plot_coalitions(self, *, theme: str = "light", **layout: Any):
        """Plotly scatter: model vs surrogates on the coalitions
        (:func:`transformers_ih.visualize.evaluation.plot_coalition_fidelity`)."""
        from ..visualize.evaluation import plot_coalition_fidelity

        return plot_coalition_fidelity(self, theme=theme, **layout)


def _interactions(explanation):
    if explanation.interactions is None:
        raise ValueError(
            "this explanation has no interactions: interaction faithfulness needs the (W, W) Integrated "
            "Hessians; explain with interactions=True"
        )
    return explanation.interactions


def pair_ablation(explainer, explanation, k: int = 10) -> PairAblation:
    """:class:`~.pairs.PairAblation` of ``explanation``'s ``k`` strongest pairs (``explainer``: as for
    :func:`interaction_faithfulness`). Works on a partial matrix too (ranks the pairs present)."""
    game = as_game(explainer, explanation)
    return measure_pairs(game, _interactions(explanation), k, explanation.words)


def coalition_fidelity(
    explainer, explanation, coalitions=200, seed: int | None = 0, distribution: str = "uniform"
) -> CoalitionFidelity:
    """:class:`~.fidelity.CoalitionFidelity` of ``explanation`` on ``coalitions`` random coalitions (or an
    ``(M, W)`` boolean array), second-order (Integrated Hessians) next to additive (its attributions)."""
    matrix = check_full_matrix(_interactions(explanation), len(explanation.words))
    game = as_game(explainer, explanation)
    return measure_fidelity(
        game, matrix, explanation.attributions, explanation.f_baseline, coalitions, seed, distribution
    )


def interaction_faithfulness(
    explainer, explanation, k: int = 10, coalitions=200, seed: int | None = 0, *, distribution: str = "uniform"
) -> InteractionFaithfulness:
    """Pair ablation and coalition fidelity of ``explanation``'s interactions.

    Args:
        explainer: the explainer that made ``explanation`` (its :meth:`coalition_values`: features removed to the
            explanation's own baseline, batched by ``internal_batch_size``), or a callable game ``(M, W) bool -> (M,)``.
        explanation: an :class:`~transformers_ih.results.explanation.Explanation` with its full ``(W, W)`` interactions.
        k: the strongest pairs to ablate (at most ``W (W - 1) / 2``).
        coalitions, seed, distribution: the random coalitions for fidelity (:func:`~._game.random_coalitions`), or
            an ``(M, W)`` boolean array.

    Costs at most ``1 + W + k`` model rows for the pairs and ``coalitions`` for fidelity (shared ones once).
    """
    matrix = check_full_matrix(_interactions(explanation), len(explanation.words))
    coalition_array(coalitions, len(explanation.words), seed, distribution)  # bad input fails before any model call
    strongest_pairs(matrix, k)
    game = as_game(explainer, explanation)
    pairs = measure_pairs(game, matrix, k, explanation.words)
    fidelity = measure_fidelity(
        game, matrix, explanation.attributions, explanation.f_baseline, coalitions, seed, distribution
    )
    return InteractionFaithfulness(
        words=list(explanation.words),
        output=explanation.output,
        pairs=pairs,
        fidelity=fidelity,
        evaluations=game.evaluations,
    )
