"""`TabularExplanation`: attributions and interactions of a tabular model for many rows, with their standard
errors and dataset-level summaries. Saves to and loads from JSON exactly (floats written with ``repr``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..results.json_record import JsonRecord

_ARRAYS = (
    "features",
    "feature_values",
    "attributions",
    "attributions_se",
    "interactions",
    "interactions_se",
    "f_input",
    "f_baseline",
    "f_background",
    "completeness_gap",
    "completeness_se",
    "quadrature_error",
)


@dataclass(eq=False)
class TabularExplanation(JsonRecord):
    """Expected Gradients (and Hessians) of a tabular model for ``N`` rows of ``d`` features.

    Attributes:
        feature_names: the ``d`` feature names.
        features: ``(N, d)`` the explained model inputs.
        feature_values: ``(N, d)`` values shown in the views (e.g. unstandardised); defaults to ``features``.
        attributions: ``(N, d)`` expected attributions, in units of the explained output; each row sums to
            ``f_input - f_background`` in expectation.
        attributions_se: ``(N, d)`` their standard errors.
        interactions: ``(N, d, d)`` expected interactions (symmetric, rows sum to ``attributions``; the diagonal
            holds main effects; a pair's total interaction is ``2 * interactions[:, i, j]``), or ``None``.
        interactions_se: ``(N, d, d)`` their standard errors, or ``None``.
        f_input: ``(N,)`` model output explained, at each row.
        f_baseline: ``(N,)`` mean output over the baselines drawn for each row.
        f_background: ``(N,)`` mean output over the whole background.
        completeness_gap: ``(N,)`` ``sum(attributions) - (f_input - f_background)`` (0 in expectation).
        completeness_se: ``(N,)`` standard error of ``sum(attributions)``.
        quadrature_error: ``(N,)`` the path rule's own completeness error (see the engine's ``ExpectedResult``).
        method: ``"expected_hessians"`` or ``"expected_gradients"``.
        target: what is explained (e.g. ``"output"`` or ``"output[1]"``).
        samples, steps, path_samples, replace, exact, background_size, seed, model_evaluations: how the
            expectation was estimated (see :func:`~transformers_ih.engine.expected.expected_hessians`).
        smoothing: e.g. ``"softplus(beta=20)"`` when ReLU-family activations were smoothed, else ``None``.
        meta: free-form JSON-serialisable extra information.
    """

    feature_names: list[str]
    features: np.ndarray
    feature_values: np.ndarray
    attributions: np.ndarray
    attributions_se: np.ndarray
    interactions: np.ndarray | None
    interactions_se: np.ndarray | None
    f_input: np.ndarray
    f_baseline: np.ndarray
    f_background: np.ndarray
    completeness_gap: np.ndarray
    completeness_se: np.ndarray
    quadrature_error: np.ndarray
    method: str = "expected_hessians"
    target: str = "output"
    samples: int = 0
    steps: float = 0.0
    path_samples: str = "gauss"
    replace: bool = False
    exact: bool = False
    background_size: int = 0
    seed: int | None = None
    model_evaluations: int = 0
    smoothing: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    _json_kind: ClassVar[str] = "tabular explanation"
    _array_fields: ClassVar[tuple[str, ...]] = _ARRAYS

    def __post_init__(self) -> None:
        for name in _ARRAYS:
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, np.asarray(value, dtype=np.float64))
        self.feature_names = [str(n) for n in self.feature_names]
        n, d = self.attributions.shape
        if len(self.feature_names) != d:
            raise ValueError(f"{len(self.feature_names)} feature names for {d} features")
        for name in ("features", "feature_values", "attributions_se"):
            if getattr(self, name).shape != (n, d):
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, expected ({n}, {d})")
        for name in ("interactions", "interactions_se"):
            value = getattr(self, name)
            if value is not None and value.shape != (n, d, d):
                raise ValueError(f"{name} has shape {value.shape}, expected ({n}, {d}, {d})")

    # ------------------------------------------------------------------ sizes and lookups
    @property
    def num_rows(self) -> int:
        return self.attributions.shape[0]

    @property
    def num_features(self) -> int:
        return self.attributions.shape[1]

    def feature_index(self, feature: int | str) -> int:
        """Index of a feature given by name or index."""
        if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool):
            if not 0 <= feature < self.num_features:
                raise IndexError(f"feature index {feature} out of range (0..{self.num_features - 1})")
            return int(feature)
        if feature in self.feature_names:
            return self.feature_names.index(feature)
        raise KeyError(f"unknown feature {feature!r}; features are {self.feature_names}")

    def _need_interactions(self) -> np.ndarray:
        """The ``(N, d, d)`` interactions; ``ValueError`` when this explanation has none."""
        if self.interactions is None:
            raise ValueError("this explanation has no interactions; explain with interactions=True")
        return self.interactions

    # ------------------------------------------------------------------ dataset-level summaries
    @property
    def mean_abs_attribution(self) -> np.ndarray:
        """``(d,)``: mean over rows of ``|attribution|``: the global importance of each feature."""
        return np.abs(self.attributions).mean(axis=0)

    @property
    def mean_abs_interaction(self) -> np.ndarray:
        """``(d, d)``: mean over rows of ``|interactions[:, i, j]|`` (diagonal: mean ``|main effect|``)."""
        return np.abs(self._need_interactions()).mean(axis=0)

    @property
    def mean_interaction(self) -> np.ndarray:
        """``(d, d)``: mean over rows of the signed interactions."""
        return self._need_interactions().mean(axis=0)

    def feature_ranking(self) -> list[int]:
        """Feature indices by decreasing mean ``|attribution|``."""
        return [int(i) for i in np.argsort(-self.mean_abs_attribution, kind="stable")]

    def top_features(self, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` most important features as ``(name, mean |attribution|)``."""
        scores = self.mean_abs_attribution
        return [(self.feature_names[i], float(scores[i])) for i in self.feature_ranking()[:k]]

    def top_interactions(self, k: int = 10) -> list[tuple[str, str, float]]:
        """The ``k`` feature pairs with the largest mean ``|interaction|`` as ``(name_i, name_j, value)``,
        ``i < j`` (a pair's total interaction is twice ``value``)."""
        return [(self.feature_names[i], self.feature_names[j], v) for i, j, v in self.top_interaction_indices(k)]

    def top_interaction_indices(self, k: int = 10) -> list[tuple[int, int, float]]:
        """Like :meth:`top_interactions` with feature indices."""
        m = self.mean_abs_interaction
        iu, ju = np.triu_indices(self.num_features, k=1)
        values = m[iu, ju]
        order = np.argsort(-values, kind="stable")[:k]
        return [(int(iu[o]), int(ju[o]), float(values[o])) for o in order]

    def strongest_partner(self, feature: int | str) -> int:
        """The feature that interacts most with ``feature`` (largest mean ``|interaction|``, itself excluded).

        Without interactions: the feature whose value correlates most (in absolute value) with ``feature``'s
        attribution, a common stand-in.
        """
        i = self.feature_index(feature)
        if self.interactions is not None:
            scores = self.mean_abs_interaction[i].copy()
        else:
            a = self.attributions[:, i] - self.attributions[:, i].mean()
            v = self.feature_values - self.feature_values.mean(axis=0)
            denom = np.sqrt((a**2).sum() * (v**2).sum(axis=0))
            scores = np.abs(np.divide(a @ v, denom, out=np.zeros(self.num_features), where=denom > 0))
        scores[i] = -np.inf
        return int(np.argmax(scores))

    def summary(self, k: int = 5) -> str:
        """Plain-text summary: the estimate's quality, top features and top pairs."""
        z = np.abs(self.completeness_gap) / np.where(self.completeness_se > 0, self.completeness_se, np.nan)
        lines = [
            f"{self.method.replace('_', ' ')} of {self.target} for {self.num_rows} rows x "
            f"{self.num_features} features; {self.samples} baselines per row of {self.background_size} "
            f"({'exact' if self.exact else self.path_samples}), "
            f"{self.model_evaluations} model rows evaluated"
            + (f", smoothing {self.smoothing}" if self.smoothing else ""),
            f"completeness: max |gap| = {np.abs(self.completeness_gap).max():.3g}"
            + (f" ({np.nanmax(z):.2f} standard errors)" if np.isfinite(z).any() else ""),
            "top features (mean |attribution|):",
        ]
        lines += [f"  {name:>28} {v:.4f}" for name, v in self.top_features(k)]
        if self.interactions is not None and self.num_features > 1:
            lines.append("top interacting pairs (mean |interaction|):")
            lines += [f"  {a:>28} x {b:<28} {v:.4f}" for a, b, v in self.top_interactions(k)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        inter = "none" if self.interactions is None else f"{self.num_features}x{self.num_features}"
        return (
            f"TabularExplanation({self.method}, rows={self.num_rows}, features={self.num_features}, "
            f"interactions={inter}, samples={self.samples}, exact={self.exact})"
        )

    # ------------------------------------------------------------------ serialisation
    # ------------------------------------------------------------------ views (plotly)
    def plot_summary(self, *, theme: str = "light", **kwargs: Any):
        """Features ranked by mean |attribution|, one dot per row coloured by the feature's value
        (see :func:`~.plots.summary_plot`); ``theme``: ``"light"`` or ``"dark"``, as in the text views."""
        from .plots import summary_plot

        return summary_plot(self, theme=theme, **kwargs)

    def plot_dependence(
        self, feature: int | str, interaction_feature: int | str | None = "auto", *, theme: str = "light", **kwargs: Any
    ):
        """A feature's value against its attribution, coloured by the feature it interacts with most
        (see :func:`~.plots.dependence_plot`)."""
        from .plots import dependence_plot

        return dependence_plot(self, feature, interaction_feature, theme=theme, **kwargs)

    def plot_interactions(self, *, theme: str = "light", **kwargs: Any):
        """Heatmap of the mean |interaction| between features (see :func:`~.plots.interaction_heatmap`)."""
        from .plots import interaction_heatmap

        return interaction_heatmap(self, theme=theme, **kwargs)

    def plot_top_pairs(self, k: int = 10, *, theme: str = "light", **kwargs: Any):
        """Bar chart of the ``k`` pairs with the largest mean |interaction| (see :func:`~.plots.top_pairs_plot`)."""
        from .plots import top_pairs_plot

        return top_pairs_plot(self, k=k, theme=theme, **kwargs)
