"""Shapley interaction indices (shapiq) as an explanation's estimator: ``estimator="FSII"`` and the others.

The game is the explanation's own: ``v(S) = f(x_S)``, features in ``S`` at their input embeddings and the others at
the call's baseline (special tokens kept), evaluated by :func:`~.replay.request_values` exactly as
:meth:`~transformers_ih.tasks.base.TextInteractionExplainer.coalition_values` does, ``internal_batch_size`` rows at a
time. shapiq computes the index of order 2 on it, exactly (``ExactComputer``, when ``budget`` reaches ``2^W``) or
with its approximator for the index; nothing here estimates a Shapley value by hand.

The result is an ordinary :class:`Explanation`: ``interactions[i, i]`` is feature ``i``'s first-order value,
``interactions[i, j] = interactions[j, i]`` half the pair's value, so row ``i`` sums to ``attributions[i]`` and,
for efficient indices (FSII, k-SII, STII), the matrix sums to ``v(N) - v(empty) = f_input - f_baseline``
(``completeness_error`` measures it; for FBII and SII it is not zero by construction, as ``meta["shapley"]`` says).
"""

from __future__ import annotations

import importlib.metadata
import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from ..engine.quadrature import PathRule
from ..engine.results import PathResult
from ..engine.smoothing import smoothing_for
from ..results.explanation import Explanation
from ..results.validation import ESTIMATORS, INTEGRATED_HESSIANS, SHAPLEY_INDICES
from .baselines import make_baseline
from .replay import coalition_masks, request_values
from .requests import Request
from .run import ExplainRun
from .runner import build_explanation, check_precision, multi_function

#: indices whose values of order <= 2 sum to v(N) - v(empty)
EFFICIENT = ("FSII", "k-SII", "STII")
#: coalitions evaluated by default (``budget=None``): every one up to this many (exact), else this many
DEFAULT_BUDGET = 2**12
INSTALL = "pip install 'transformers-ih[shapley]'"


def check_estimator(options) -> None:
    """``ValueError`` naming the argument for a bad ``estimator`` / ``budget`` / ``seed`` or an option a shapiq
    index cannot honour (``rows=``, ``interactions=False``, ``steps`` / ``method``)."""
    if options.estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}; got {options.estimator!r}")
    budget, seed = options.budget, options.seed
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 2):
        raise ValueError(f"budget must be a number of coalitions >= 2, or None (exact up to 2^12); got {budget!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValueError(f"seed must be an int or None; got {seed!r}")
    if options.estimator == INTEGRATED_HESSIANS:
        if budget is not None:
            raise ValueError(
                f"budget={budget!r} applies to the shapiq estimators ({', '.join(SHAPLEY_INDICES)}); "
                f"Integrated Hessians takes steps= / the explainer's rtol instead"
            )
        return
    for name, value, default in (
        ("rows", options.rows, None),
        ("interactions", options.interactions, True),
        ("steps", options.steps, None),
        ("method", options.method, None),
    ):
        if value != default:
            raise ValueError(
                f"{name}={value!r} is an option of Integrated Hessians' path integral; estimator="
                f"{options.estimator!r} computes every first-order and pair value of its index from coalitions "
                f"(leave {name} at {default!r}, or use estimator='integrated-hessians')"
            )


def import_shapiq():
    """shapiq, or ``ImportError`` saying how to install it."""
    try:
        import shapiq
    except ImportError as err:
        raise ImportError(
            f"estimator= a Shapley interaction index needs shapiq, which cannot be imported ({err}): {INSTALL}"
        ) from err
    return shapiq


def _terms(iv) -> dict[tuple[int, ...], float]:
    """``{coalition: value}`` of a shapiq InteractionValues (1.4's ``dict_values``; newer ``interactions``)."""
    terms = getattr(iv, "interactions", None)
    if not isinstance(terms, dict):
        lookup = getattr(iv, "interaction_lookup", {})
        terms = iv.dict_values if hasattr(iv, "dict_values") else {T: iv.values[k] for T, k in lookup.items()}
    return {tuple(int(i) for i in T): float(v) for T, v in terms.items()}


def index_matrix(terms: dict[tuple[int, ...], float], W: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Our convention of an index's terms: ``(W, W)`` with ``M[i, i] = I(i)``, ``M[i, j] = M[j, i] = I(ij) / 2``,
    and the other terms (the empty set's, any of order > 2) as records ``{"features": [...], "value": float}``."""
    M = np.zeros((W, W))
    other = []
    for T, v in sorted(terms.items(), key=lambda item: (len(item[0]), item[0])):
        if len(T) == 1:
            M[T[0], T[0]] = v
        elif len(T) == 2 and T[0] != T[1]:
            M[T[0], T[1]] = M[T[1], T[0]] = v / 2
        else:
            other.append({"features": list(T), "value": v})
    return M, other


def _version() -> str:
    try:
        return importlib.metadata.version("shapiq")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - imported from a source tree
        return "?"


def exact_computer(shapiq, game, W: int):
    """shapiq's ExactComputer on ``game`` (its argument names differ between releases)."""
    try:
        return shapiq.ExactComputer(game=game, n_players=W)
    except TypeError:  # shapiq < 1.4: ExactComputer(n_players, game_fun)
        return shapiq.ExactComputer(n_players=W, game_fun=game)


def approximator(shapiq, index: str, W: int, seed: int | None):
    """shapiq's approximator of ``index`` at order 2."""
    if index in ("k-SII", "SII"):
        return shapiq.KernelSHAPIQ(W, max_order=2, index=index, random_state=seed)
    if index == "FSII":
        return shapiq.RegressionFSII(W, max_order=2, random_state=seed)
    if index == "FBII":
        return shapiq.RegressionFBII(W, max_order=2, random_state=seed)
    return shapiq.PermutationSamplingSTII(W, max_order=2, random_state=seed)


def shapley_terms(index: str, game, W: int, budget: int | None, seed: int | None) -> tuple[dict, dict[str, Any]]:
    """``(terms, facts)``: the index's terms of order <= 2 on ``game`` (``(M, W)`` bool -> ``(M,)``) from shapiq,
    exact when ``budget`` (default :data:`DEFAULT_BUDGET`) reaches ``2^W``; ``facts`` say how (JSON values)."""
    shapiq = import_shapiq()
    budget = DEFAULT_BUDGET if budget is None else int(budget)
    exact = budget >= 2**W
    if exact:
        iv = exact_computer(shapiq, game, W)(index, order=min(2, W))  # one feature: no pairs
        name = "ExactComputer"
    else:
        chosen = approximator(shapiq, index, W, seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            iv = chosen.approximate(budget, game)
        name = type(chosen).__name__
        for warning in caught:
            if "too small" in str(warning.message):  # shapiq then returns an estimate with no pairs at all
                raise ValueError(
                    f"budget={budget} is too small for {index} on {W} features (shapiq's {name}: "
                    f"{warning.message}); pass a larger budget (exact at 2^{W} = {2**W})"
                )
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    facts = {
        "index": index,
        "order": min(2, W),
        "budget": budget,
        "exact": exact,
        "efficient": index in EFFICIENT,
        "computed_by": f"shapiq {_version()} {name}",
        "seed": None if exact else seed,
    }
    return _terms(iv), facts


def explain_shapley(run: ExplainRun, requests: list[Request]) -> list[Explanation]:
    """Every request explained by the run's shapiq index (see the module docstring)."""
    check_precision(run)
    options = run.options
    baseline = make_baseline(options.baseline, run.tokenizer, run.settings.background)
    unsmoothed = replace(run, options=replace(options, smoothing=None))
    explanations = []
    for request in requests:
        W = len(request.encoded.words)
        if not W:
            raise ValueError(f"the input {request.encoded.text!r} has no words to explain (only special tokens)")
        evaluated = [0]

        def game(coalitions, request=request, W=W, evaluated=evaluated) -> np.ndarray:
            coalitions = np.asarray(coalitions)
            masks = coalition_masks(coalitions.reshape(1, -1) if coalitions.ndim == 1 else coalitions, W)
            evaluated[0] += len(masks)
            return request_values(run, request, masks, run.settings.background)

        ends = request_values(run, request, np.array([[True] * W, [False] * W]), run.settings.background)
        model_value = float(request_values(unsmoothed, request, np.ones((1, W), bool), run.settings.background)[0])
        if not np.isfinite(model_value):
            raise ValueError(
                f"the explained output ({request.explained.name}) is not finite at the input "
                f"{request.encoded.text!r}: {model_value}. Nothing can be attributed to it."
            )
        terms, facts = shapley_terms(options.estimator, game, W, options.budget, options.seed)
        M, other = index_matrix(terms, W)
        f_input, f_baseline = float(ends[0]), float(ends[1])
        facts.update(coalitions=evaluated[0], other_terms=other)
        result = PathResult(  # the engine's one result type; no path, so a rule of no points named for how
            attributions=M.sum(axis=1),
            interactions=M,
            f_input=f_input,
            f_baseline=f_baseline,
            completeness_error=float(abs(M.sum() - (f_input - f_baseline))),
            rule=PathRule(np.empty(0), np.empty(0), "uniform", "exact" if facts["exact"] else "sampled"),
            meta={"shapley": facts},
        )
        smoothing = None if options.smoothing is None else _smoothing_description(run, request)
        explanation = build_explanation(run, request, result, model_value, baseline, smoothing)
        explanation.estimator = options.estimator
        explanations.append(explanation)
    return explanations


def _smoothing_description(run: ExplainRun, request: Request) -> str | None:
    """What the run's smoothing resolves to on this model (e.g. ``"softplus(beta=20)"``), as explanations record."""
    enc = request.encoded
    x, _ = make_baseline("zero", run.tokenizer, None).embeddings(run, enc)
    f = multi_function(run.model, dict(enc.inputs), [request.explained.select])
    zero = torch.zeros(1, dtype=torch.long, device=run.device)
    with torch.no_grad():
        return smoothing_for(run.options.smoothing, lambda: f(x[None], zero))[1]
