"""`Explanation`: the one result object shared by the engine-facing explainers and the views.

An explanation of one prediction at word level:

* ``attributions[i]`` (shape ``(W,)``) is word *i*'s Integrated Gradients attribution, in the units of the
  explained output (a logit by default). They sum to ``f_input - f_baseline``.
* ``interactions[i, j]`` (shape ``(W, W)``) is the Integrated Hessians interaction of words *i* and *j*;
  symmetric, rows sum to ``attributions``, and the diagonal holds each word's main effect.

It saves to and loads from JSON (no pickle) exactly: floats are written with ``repr`` precision.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np

from .json_record import JsonRecord
from .paths import check_output_file
from .validation import check_count, check_explanation_dict


def _as_array(value: Any, name: str, dtype: Any) -> np.ndarray:
    """``value`` as a numpy array of ``dtype``; ``ValueError`` naming the field for ragged or non-numeric values."""
    try:
        return np.asarray(value, dtype=dtype)
    except (ValueError, TypeError):
        raise ValueError(
            f"{name} must be an array (or nested lists of equal length) of "
            f"{'booleans' if dtype is bool else 'numbers'}, got {type(value).__name__}"
        ) from None


@dataclass(eq=False)
class Explanation(JsonRecord):
    """Word-level attributions and pairwise interactions for one prediction.

    Attributes:
        text: the explained text as given (for pair tasks, both texts joined with ``separator``).
        words: the W features' texts, in order; each is ``text[start:end]`` of its offset. At the default
            ``level="word"`` they are words; at other levels still called ``words`` so that code written for words
            works unchanged (sentences, tokens or spans are the "words" of the matrix).
        offsets: W ``(start, end)`` character spans into ``text``.
        level: what a feature is: ``"word"`` (the tokenizer's words), ``"token"``, ``"sentence"`` or ``"spans"``
            (character spans given by the user or a callable).
        computed: ``None`` for a full matrix; for selected rows (``rows=``), the ``(W, W)`` boolean mask of the
            entries computed (the selected rows and their columns): the others are NaN in ``interactions``, never
            0. ``meta["rows"]`` lists the selected features.
        tokens: the tokenizer's tokens of the whole input (special tokens included), for reference.
        attributions: ``(W,)`` float array, Integrated Gradients per word (units of the explained output).
        interactions: ``(W, W)`` float array of Integrated Hessians, or ``None`` for attributions-only calls.
        target: name of the explained output: a label, a token, ``"answer start"``, a continuation, or a custom
            output function's name.
        target_index: what ``target`` indexes, by ``target_kind``: a class index (``"class"``), a vocabulary
            token id (``"token"``), a token position of the input (``"position"``), or ``None``
            (``"continuation"``: the token ids are in ``meta["target_token_ids"]``; ``"custom"``).
        target_kind: ``"class"``, ``"candidate"`` (zero-shot: the label's position among the candidates), ``"token"``,
            ``"position"``, ``"continuation"`` or ``"custom"``.
        predicted_label: the model's own prediction (label name).
        predicted_probability: the model's own probability of ``predicted_label`` (unsmoothed model).
        f_input: the explained output at the input, f(x), as computed for the explanation (smoothed if
            smoothing was on).
        f_baseline: the explained output at the baseline, f(x').
        completeness_error: ``|sum(interactions) - (f_input - f_baseline)|`` (or of ``attributions`` when no
            interactions were computed); absolute, in output units.
        steps: number of path points at which gradients / Hessians were evaluated.
        baseline: description of the baseline, e.g. ``"pad"``.
        smoothing: e.g. ``"softplus(beta=20)"`` when ReLU-family activations were smoothed, else ``None``.
        model_value: the unsmoothed model's value of the explained output at the input, in the units of
            ``output`` (a logit, a probability, a log-probability or a custom value); ``model_logit`` is an alias
            kept for earlier code.
        output: what is explained: ``"logit"``, ``"probability"``, ``"log_probability"``, or ``"custom"`` (a
            user's function of the model outputs, named in ``meta["output_function"]``).
        word_groups: optional labels for words (e.g. ``0`` for the first text of a pair, ``1`` for the
            second); ``None`` for single texts.
        separator: the string that joins the texts of a pair in ``text``.
        method: path rule used, e.g. ``"adaptive"``, ``"gauss"``.
        meta: free-form extra information (task, model name, ...); JSON-serialisable values only.
        removal_check: ``None`` (no interactions, or ``check=False``), or what removing features does to the
            explained output, beside the matrix (:mod:`transformers_ih.text.removal`): ``leave_one_out`` (``W``
            floats, ``v(N) - v(N \\ i)``, output units), ``pairs`` (the strongest computed pairs as records ``i``,
            ``j``, ``interaction`` = ``interactions[i, j] + interactions[j, i]``, ``removal`` = ``Delta_ij =
            v(N) - v(N \\ i) - v(N \\ j) + v(N \\ {i, j})``), their ``correlation`` and ``sign_agreement``
            (fraction), ``attribution_correlation``, ``input_value`` (``v(N)``) and ``coalitions`` evaluated.
        estimator: how ``attributions`` / ``interactions`` were computed: ``"integrated-hessians"`` (path integrals),
            or a shapiq Shapley interaction index (``"FSII"``, ``"k-SII"``, ``"STII"``, ``"FBII"``, ``"SII"``): then
            the diagonal holds the first-order values and cell ``(i, j)`` half the pair's value; ``meta["shapley"]``
            says whether the index is efficient, its budget and any terms of other orders.
    """

    text: str
    words: list[str]
    offsets: list[tuple[int, int]]
    tokens: list[str]
    attributions: np.ndarray
    interactions: np.ndarray | None
    target: str
    target_index: int | None
    predicted_label: str
    predicted_probability: float
    f_input: float
    f_baseline: float
    completeness_error: float
    steps: int
    baseline: str = "pad"
    smoothing: str | None = None
    model_value: float | None = None
    output: str = "logit"
    word_groups: list[int] | None = None
    separator: str = " "
    method: str = "adaptive"
    target_kind: str = "class"
    level: str = "word"
    computed: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    removal_check: dict[str, Any] | None = None
    estimator: str = "integrated-hessians"

    #: 2: ``model_logit`` renamed ``model_value``, ``target_kind`` added; 3: ``level`` added; 4: ``removal_check``
    #: and ``estimator`` added (older files still load)
    FORMAT_VERSION: ClassVar[int] = 4

    _json_kind: ClassVar[str] = "explanation"
    _array_fields: ClassVar[tuple[str, ...]] = ("attributions", "interactions", "computed")

    def __post_init__(self) -> None:
        self.attributions = _as_array(self.attributions, "attributions", np.float64)
        if self.interactions is not None:
            self.interactions = _as_array(self.interactions, "interactions", np.float64)
        if self.computed is not None:
            self.computed = _as_array(self.computed, "computed", bool)
            if self.interactions is None or self.computed.shape != self.interactions.shape:
                raise ValueError("computed must be a boolean mask of the interactions' shape")
        # (start, end) pairs, as plain ints (e.g. from JSON lists)
        self.offsets = cast("list[tuple[int, int]]", [tuple(int(v) for v in span) for span in self.offsets])
        n = len(self.words)
        if self.attributions.shape != (n,):
            raise ValueError(f"attributions has shape {self.attributions.shape}, expected ({n},) for {n} words")
        if self.interactions is not None and self.interactions.shape != (n, n):
            raise ValueError(f"interactions has shape {self.interactions.shape}, expected ({n}, {n})")
        if len(self.offsets) != n:
            raise ValueError(f"{len(self.offsets)} offsets for {n} words")

    @property
    def model_logit(self) -> float | None:
        """Alias of :attr:`model_value` (earlier name; it is a logit only when ``output == "logit"``)."""
        return self.model_value

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Explanation:
        if isinstance(d, dict) and "model_logit" in d:  # format 1
            d = dict(d)
            d["model_value"] = d.pop("model_logit")
        return super().from_dict(d)

    @classmethod
    def _validate(cls, d: dict[str, Any]) -> None:
        """Types, shapes, finiteness, offsets and words, ``computed`` against the NaN cells, known levels (see
        :mod:`.validation`); ``ValueError`` naming the field and the fix."""
        check_explanation_dict(d, {f.name: f.type for f in fields(cls) if f.init})

    # ------------------------------------------------------------------ derived views
    @property
    def delta(self) -> float:
        """``f_input - f_baseline``: what attributions (and interactions) add up to."""
        return self.f_input - self.f_baseline

    @property
    def main_effects(self) -> np.ndarray:
        """``(W,)`` diagonal of ``interactions``: each word's effect not shared with another word."""
        return np.diag(self._need_interactions()).copy()

    def top_interactions(self, k: int = 5, *, absolute: bool = True) -> list[tuple[str, str, float]]:
        """The ``k`` strongest off-diagonal pairs as ``(word_i, word_j, value)``, i < j.

        ``value`` is ``interactions[i, j]`` (the matrix is symmetric, so each pair appears once; the
        total interaction of the pair is ``2 * value``). Ranked by ``|value|`` unless ``absolute=False``,
        in which case the most positive come first. Cells not computed (``NaN`` in a partial matrix) are skipped,
        so fewer than ``k`` pairs come back when fewer are known.
        """
        return [(self.words[i], self.words[j], v) for i, j, v in self.top_interaction_indices(k, absolute=absolute)]

    def top_interaction_indices(self, k: int = 5, *, absolute: bool = True) -> list[tuple[int, int, float]]:
        """Like :meth:`top_interactions` but with word positions ``(i, j, value)``; duplicates stay distinct."""
        k = check_count(k, "k")
        interactions = self._need_interactions()
        n = len(self.words)
        iu, ju = np.triu_indices(n, k=1)
        values = interactions[iu, ju]
        known = ~np.isnan(values)  # a partial matrix holds NaN where a cell was not computed: never ranked
        iu, ju, values = iu[known], ju[known], values[known]
        order = np.argsort(-np.abs(values) if absolute else -values, kind="stable")[:k]
        return [(int(iu[o]), int(ju[o]), float(values[o])) for o in order]

    def top_words(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` words with the largest ``|attribution|`` as ``(word, attribution)``."""
        k = check_count(k, "k")
        order = np.argsort(-np.abs(self.attributions), kind="stable")[:k]
        return [(self.words[i], float(self.attributions[i])) for i in order]

    def group_attribution(self, features) -> float:
        """The Integrated Hessians score of a group of features (a phrase) on its own: ``sum_{i, j in G} Gamma_ij``.

        ``features``: the group's word positions (distinct ints, e.g. ``[3, 4]`` for "not bad"). The value, in
        output units, is what the second-order surrogate ``f(x') + sum_{i, j in S} Gamma_ij`` credits to the
        coalition ``S = G`` beyond the baseline: the group's main effects plus the interactions *within* it
        (each pair counted twice, ``Gamma_ij + Gamma_ji``), and nothing of its interactions with words outside.
        Compare ``sum(attributions[G])``, which also holds half of every interaction between ``G`` and the rest.
        For one word it is its main effect ``Gamma_ii``; for all words it is ``f(x) - f(x')``. Needs the group's
        block of the interaction matrix (``ValueError`` when interactions are missing or partial there).
        """
        interactions = self._need_interactions()
        n = len(self.words)
        if isinstance(features, (str, bytes)) or not hasattr(features, "__iter__"):
            raise TypeError(f"features must be a sequence of word positions (ints), e.g. [3, 4]; got {features!r}")
        group = list(features)
        if not group:
            raise ValueError("features is empty: pass the word positions of the group, e.g. [3, 4]")
        for f in group:
            if isinstance(f, (bool, np.bool_)) or not isinstance(f, (int, np.integer)):
                raise TypeError(
                    f"features must be word positions (ints); got {f!r} ({type(f).__name__}); "
                    f"find positions with explanation.words.index(word)"
                )
            if not 0 <= f < n:
                raise ValueError(f"feature {f} is out of range: this explanation has {n} words (0..{n - 1})")
        if len(set(int(f) for f in group)) != len(group):
            raise ValueError(f"features {group} has repeated positions: pass each word once")
        block = interactions[np.ix_(group, group)]
        if not np.isfinite(block).all():
            raise ValueError(
                "the interaction matrix is partial (NaN/inf) within this group: its group attribution "
                "needs every pair of the group; explain with all rows of the interaction matrix"
            )
        return float(block.sum())

    def _need_interactions(self) -> np.ndarray:
        """The interaction matrix; ``ValueError`` when this explanation has none."""
        if self.interactions is None:
            raise ValueError("this explanation has no interactions; call the explainer with interactions=True")
        return self.interactions

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (arrays as nested lists of floats, offsets as lists). A matrix with NaN cells
        but no ``computed`` mask (e.g. edited by hand) is written with the mask its NaN cells imply, so that what is
        saved says which cells hold values."""
        d = super().to_dict()
        d["offsets"] = [list(span) for span in self.offsets]
        if self.computed is None and self.interactions is not None and np.isnan(self.interactions).any():
            d["computed"] = (~np.isnan(self.interactions)).tolist()
        return d

    def __repr__(self) -> str:
        inter = "none" if self.interactions is None else f"{len(self.words)}x{len(self.words)}"
        return (
            f"Explanation(target={self.target!r}, predicted={self.predicted_label!r} "
            f"p={self.predicted_probability:.3f}, words={len(self.words)}, interactions={inter}, "
            f"f(x)-f(x')={self.delta:.4g}, completeness_error={self.completeness_error:.2g}, steps={self.steps})"
        )

    # ------------------------------------------------------------------ views (transformers_ih.visualize)
    def to_html(self, *, evaluation: Any = None, **kwargs: Any) -> str:
        """One self-contained HTML report with every view (see :mod:`transformers_ih.visualize`).

        ``evaluation``: results of :mod:`transformers_ih.evaluate` (an ``AttributionFaithfulness``, an
        ``InteractionFaithfulness``, or a list of them) to add as a "How faithful is it?" section."""
        from ..visualize import report

        return report.to_html(self, evaluation=evaluation, **kwargs)

    def save_html(self, path: str | Path, **kwargs: Any) -> Path:
        """Write :meth:`to_html` to ``path``; opens offline (plotly.js inlined). ``ValueError`` before any work for a
        folder, or a path whose folder does not exist."""
        path = check_output_file(path, "path")
        path.write_text(self.to_html(**kwargs), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        from ..visualize import report

        return report.to_html(self, full_document=False)

    def show(self, **kwargs: Any) -> None:
        """Display the report in a notebook (IPython), or print a text summary elsewhere."""
        try:
            from IPython.display import HTML, display

            display(HTML(self._repr_html_()))
        except ImportError:
            print(self.summary())

    def summary(self, k: int = 5) -> str:
        """A short plain-text summary: prediction, top words, top pairs (``k`` of each, an integer >= 0)."""
        check_count(k, "k")
        lines = [
            f"prediction: {self.predicted_label} (p={self.predicted_probability:.4f}); explained: {self.target} "
            f"{self.output}",
            f"f(x) = {self.f_input:.4f}, f(x') = {self.f_baseline:.4f}, completeness error = "
            f"{self.completeness_error:.2e}, path points = {self.steps}"
            + (f", smoothing = {self.smoothing}" if self.smoothing else ""),
            "top words:",
        ]
        lines += [f"  {w!r:>20} {v:+.4f}" for w, v in self.top_words(k)]
        if self.interactions is not None and len(self.words) > 1:
            lines.append("top interacting pairs:")
            lines += [f"  {a!r:>15} x {b!r:<15} {v:+.4f}" for a, b, v in self.top_interactions(k)]
        return "\n".join(lines)

    def plot_text(self, **kwargs: Any):
        """Plotly figure: words coloured by attribution (see :func:`transformers_ih.visualize.plot_text`)."""
        from .. import visualize

        return visualize.plot_text(self, **kwargs)

    def plot_interactions(self, **kwargs: Any):
        """Plotly heatmap of the interaction matrix."""
        from .. import visualize

        return visualize.plot_interactions(self, **kwargs)

    def plot_top_pairs(self, k: int = 10, **kwargs: Any):
        """Plotly bar chart of the ``k`` strongest pairs."""
        from .. import visualize

        return visualize.plot_top_pairs(self, k=k, **kwargs)

    def plot_word_focus(self, word: int | str, **kwargs: Any):
        """Plotly bar chart: one word's attribution split into main effect and interactions."""
        from .. import visualize

        return visualize.plot_word_focus(self, word, **kwargs)

    def plot_arcs(self, **kwargs: Any):
        """Plotly figure: the sentence with arcs between interacting words."""
        from .. import visualize

        return visualize.plot_arcs(self, **kwargs)
