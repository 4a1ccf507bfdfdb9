"""The adaptive rule near f(x) = f(x') (issue 16, section 4): a tolerance relative to the path's variation, and
stagnation at the float noise floor detected and reported, on closed forms in float32 (the dtype models run in)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from transformers_ih.engine import NodeCapWarning, ReducedFunction, integrated_gradients, integrated_hessians
from transformers_ih.engine.adaptive import AdaptiveRefiner, NoiseFloorWarning, adaptive_rule

W = torch.tensor([0.5, 0.3, 0.2])
AMPLITUDE = 1000.0


def wave(X):
    """Along the path from 0 to 1s: F(t) = 1000 sin(2 pi t) + t^2 / 20, so f(x) - f(x') = 0.05 against a total variation
    of 4000 (the explained output rises and falls back, as a class logit can along the path)."""
    return AMPLITUDE * torch.sin(2 * np.pi * (X @ W.to(X.dtype))) + 0.05 * X[:, 0] * X[:, 1]


def run(fn, dtype=torch.float32, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = fn(wave, torch.ones(3, dtype=dtype), torch.zeros(3, dtype=dtype), **kwargs)
    return r, [w.category for w in caught]


@pytest.mark.parametrize("fn", [integrated_hessians, integrated_gradients])
def test_tolerance_relative_to_the_path_variation(fn):
    r, caught = run(fn)
    info = r.adaptive
    assert info.variation == pytest.approx(4 * AMPLITUDE, rel=1e-3)
    assert info.tolerance == pytest.approx(1e-4 * info.variation)  # rtol / 10 of the variation, above 1e-3 |delta|
    assert info.converged and not info.stagnated and not caught
    assert len(r.rule) <= 48  # stops early
    assert r.completeness_error <= info.tolerance
    reference, _ = run(fn, torch.float64, rtol=1e-12, atol=1e-12)
    # the error reached is reported honestly: the attributions are that close to float64's
    assert np.abs(r.attributions - reference.attributions).max() <= info.estimated_error


def test_the_old_tolerance_runs_to_the_cap():
    """``max(rtol |delta|, atol)`` without stagnation detection (``eps=0``): the float32 panel errors never get
    below it and the rule spends its whole node budget."""
    reduced = ReducedFunction(wave, torch.ones(3), torch.zeros(3))
    with pytest.warns(NodeCapWarning):
        rule, info = adaptive_rule(reduced.path_derivatives, "log", variation_rtol=0.0, eps=0.0)
    assert len(rule) > 400 and info.capped and not info.converged


@pytest.mark.parametrize("fn", [integrated_hessians, integrated_gradients])
def test_stagnation_at_the_noise_floor_stops_early_and_says_so(fn):
    """A tolerance far below float32 rounding: the rule stops once its errors stop shrinking, keeps its best
    round, and reports the error reached (not converged) with a NoiseFloorWarning."""
    r, caught = run(fn, rtol=1e-9, atol=1e-12)
    info = r.adaptive
    assert NoiseFloorWarning in caught and NodeCapWarning not in caught
    assert info.stagnated and not info.converged and not info.capped
    assert len(r.rule) <= 100
    assert info.estimated_error > info.tolerance
    assert info.estimated_error <= AdaptiveRefiner.NOISE_FACTOR * info.noise_floor
    # honest: the completeness errors of the rule (scalar integrand) and of the result (per-group derivatives,
    # float32 rounding apart) are within the reported error
    assert info.completeness_error <= info.estimated_error
    assert r.completeness_error <= info.estimated_error
    reference, _ = run(fn, torch.float64, rtol=1e-12, atol=1e-12)
    assert np.abs(r.attributions - reference.attributions).max() <= info.estimated_error


def test_float64_reaches_a_tight_tolerance():
    """No noise floor in float64 at this tolerance: converged, not stagnated."""
    r, caught = run(integrated_hessians, torch.float64, rtol=1e-9, atol=1e-12)
    assert r.adaptive.converged and not r.adaptive.stagnated and not caught


def test_tolerance_unchanged_where_delta_is_not_tiny():
    """A path that moves one way (variation = |delta|): the tolerance is rtol |delta| as before, and completeness
    within 1e-3 relative."""
    f = lambda X: 3.0 * torch.tanh(4 * (X @ W - 0.4)) + X[:, 0] * X[:, 2]  # noqa: E731
    r = integrated_hessians(f, torch.ones(3), torch.zeros(3))
    delta = r.f_input - r.f_baseline
    assert r.adaptive.variation == pytest.approx(abs(delta), rel=1e-6)
    assert r.adaptive.tolerance == pytest.approx(max(1e-3 * abs(delta), 1e-4))
    assert r.adaptive.converged and r.completeness_error <= 1e-3 * abs(delta)
