"""The value function every metric measures: a *game* ``(M, W) bool -> (M,)``, and random coalitions.

A coalition is a boolean row over the explanation's ``W`` features (its words): ``True`` = present at its input
value, ``False`` = "removed", i.e. set to the explanation's own baseline (the ``x'`` it integrated from), so every
metric measures the same function the explanation explains. For an explainer and an explanation the game is
:meth:`~transformers_ih.tasks.base.TextInteractionExplainer.coalition_values` (batched by the explainer's
``internal_batch_size``); any callable with that signature works too (closed-form functions in the tests, other
models).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..text.replay import coalition_masks

Game = Callable[[np.ndarray], np.ndarray]

#: random coalition distributions of :func:`random_coalitions`
DISTRIBUTIONS = ("uniform", "size")


class CountedGame:
    """A game that checks its values, remembers them, and counts the distinct coalitions it evaluated.

    Each call evaluates only the coalitions it has not seen (once each, in one call of the wrapped game, which
    batches them), so metrics that share coalitions (the input, the baseline, a pair's removals) pay for them once.
    ``evaluations``: distinct coalitions evaluated (model rows for an explainer's game; times ``K`` for expected
    baselines)."""

    def __init__(self, game: Game, features: int):
        self.game = game
        self.features = features
        self.evaluations = 0
        self._memo: dict[bytes, float] = {}

    def __call__(self, coalitions) -> np.ndarray:
        masks = coalition_masks(coalitions, self.features)
        keys = [np.packbits(row).tobytes() for row in masks]
        new: dict[bytes, int] = {}
        for key, row in zip(keys, range(len(masks))):
            if key not in self._memo and key not in new:
                new[key] = row
        if new:
            rows = masks[list(new.values())]
            values = np.asarray(self.game(rows), dtype=np.float64)
            if values.shape != (len(rows),):
                raise ValueError(
                    f"the game returned shape {values.shape} for {len(rows)} coalitions; it must return "
                    f"one value per coalition, shape ({len(rows)},)"
                )
            if not np.isfinite(values).all():
                raise ValueError("the game returned non-finite values (NaN or inf): every metric needs finite values")
            self._memo.update(zip(new, values.tolist()))
            self.evaluations += len(rows)
        return np.array([self._memo[key] for key in keys], dtype=np.float64)


def as_game(explainer, explanation, output=None) -> CountedGame:
    """The game of ``explanation``: ``explainer.coalition_values`` (``output``: another output of the same target,
    e.g. ``"probability"``), or ``explainer`` itself when it is a plain callable ``(M, W) bool -> (M,)``."""
    features = len(explanation.words)
    if hasattr(explainer, "coalition_values"):
        return CountedGame(lambda masks: explainer.coalition_values(explanation, masks, output=output), features)
    if callable(explainer):
        if output is not None:
            raise ValueError("output= selects an output of an explainer's model; a game callable has one output")
        return CountedGame(explainer, features)
    raise TypeError(
        f"explainer must be a transformers-ih explainer (with coalition_values) or a callable game "
        f"(M, W) bool -> (M,); got {type(explainer).__name__}"
    )


def random_coalitions(features: int, n: int, seed: int | None = 0, distribution: str = "uniform") -> np.ndarray:
    """``(n, features)`` random coalitions, reproducible from ``seed`` (``None``: fresh ones).

    ``"uniform"``: every coalition equally likely (each feature present with probability 1/2, independently), the
    distribution interaction-fidelity studies test on (e.g. SPEX); sizes concentrate around ``features / 2``.
    ``"size"``: the size drawn uniformly from ``0..features``, then a uniform subset of that size, so that small and
    large coalitions (near the baseline and near the input) weigh as much as half-full ones.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(
            f"coalitions must be a positive number of random coalitions, got {n!r}: fidelity is measured "
            f"on at least one (e.g. 200)"
        )
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {distribution!r}")
    rng = np.random.default_rng(seed)
    if distribution == "uniform":
        return rng.random((n, features)) < 0.5
    sizes = rng.integers(0, features + 1, size=n)
    ranks = np.argsort(rng.random((n, features)), axis=1)  # a random permutation per row
    return ranks < sizes[:, None]


def without(features: int, removed) -> np.ndarray:
    """The coalition of all ``features`` but ``removed`` (``(features,)`` bool)."""
    mask = np.ones(features, dtype=bool)
    mask[list(removed)] = False
    return mask
