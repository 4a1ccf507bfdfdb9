import numpy as np
import pytest

from transformers_ih.engine.quadrature import fixed_rule, gauss_legendre, gauss_log, panel_rule


def log_moment(k: int, a: float, b: float) -> float:
    """Exact int_a^b t^k (-ln t) dt."""

    def prim(t):
        if t == 0.0:
            return 0.0
        return t ** (k + 1) / (k + 1) ** 2 - t ** (k + 1) * np.log(t) / (k + 1)

    return prim(b) - prim(a)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 16, 32, 48])
def test_gauss_log_exact_moments_on_unit_interval(n):
    nodes, weights = gauss_log(n)
    assert np.all((nodes > 0) & (nodes < 1)) and np.all(weights > 0)
    for k in range(2 * n):
        assert abs(weights @ nodes**k - 1.0 / (k + 1) ** 2) < 1e-13, k


def test_gauss_log_is_not_exact_beyond_degree_2n_minus_1():
    nodes, weights = gauss_log(4)
    assert abs(weights @ nodes**8 - 1 / 81) > 1e-8


@pytest.mark.parametrize("a,b", [(0.0, 0.1), (0.0, 0.5), (0.1, 0.3), (0.5, 1.0), (1e-3, 2e-3), (0.9, 1.0)])
def test_gauss_log_on_panels(a, b):
    nodes, weights = gauss_log(6, a, b)
    assert np.all((nodes >= a) & (nodes <= b))
    for k in range(12):
        exact = log_moment(k, a, b)
        assert abs(weights @ nodes**k - exact) <= 1e-12 * abs(exact) + 1e-16, k


def test_gauss_legendre_on_interval():
    nodes, weights = gauss_legendre(7, 0.2, 0.9)
    for k in range(14):
        assert abs(weights @ nodes**k - (0.9 ** (k + 1) - 0.2 ** (k + 1)) / (k + 1)) < 1e-14


@pytest.mark.parametrize("measure", ["uniform", "log"])
@pytest.mark.parametrize("method", ["gauss", "riemann", "montecarlo"])
def test_fixed_rules_are_probability_measures(measure, method):
    rule = fixed_rule(measure, 16, method)
    assert abs(rule.weights.sum() - 1.0) < 1e-12
    assert np.all((rule.nodes > 0) & (rule.nodes < 1))
    # mean of t: 1/2 for uniform, 1/4 for -ln t
    expected = 0.5 if measure == "uniform" else 0.25
    tol = {"gauss": 1e-13, "riemann": 0.02, "montecarlo": 0.15}[method]
    assert abs(rule.weights @ rule.nodes - expected) < tol


def test_montecarlo_seed_reproducible():
    assert np.array_equal(
        fixed_rule("log", 10, "montecarlo", seed=3).nodes, fixed_rule("log", 10, "montecarlo", seed=3).nodes
    )
    assert not np.array_equal(
        fixed_rule("log", 10, "montecarlo", seed=3).nodes, fixed_rule("log", 10, "montecarlo", seed=4).nodes
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match="measure"):
        panel_rule("cubic", 3, 0, 1)
    with pytest.raises(ValueError, match="steps"):
        fixed_rule("log", 0)
    with pytest.raises(ValueError, match="method"):
        fixed_rule("log", 4, "simpson")
