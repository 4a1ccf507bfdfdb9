"""Non-finite inputs, baselines and function values in the engine (issue 10), and importing under ``python -OO``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from transformers_ih import expected_gradients, expected_hessians, integrated_gradients, integrated_hessians
from transformers_ih.engine import ReducedFunction

METHODS = [integrated_gradients, integrated_hessians]
X = torch.tensor([0.3, 0.4, 0.5], dtype=torch.float64)


def smooth(X: torch.Tensor) -> torch.Tensor:
    return X.prod(-1) + X.sum(-1) ** 2


@pytest.mark.parametrize("method", METHODS)
def test_nan_baseline(method):
    baseline = torch.tensor([0.0, float("nan"), float("nan")], dtype=torch.float64)
    with pytest.raises(
        ValueError,
        match=r"the baseline has 2 non-finite entries \(NaN or inf\): 2 NaN; first at "
        r"index \(1,\).*replace NaN/inf .*or choose another baseline",
    ):
        method(smooth, X, baseline)
    with pytest.raises(ValueError, match="the baseline has 3 non-finite entries .*3 inf"):
        method(smooth, X, float("inf"))


@pytest.mark.parametrize("method", METHODS)
def test_inf_input(method):
    x = torch.tensor([[0.1, float("inf")], [float("-inf"), float("nan")]], dtype=torch.float64)
    with pytest.raises(
        ValueError,
        match=r"the input x has 3 non-finite entries \(NaN or inf\): 1 NaN, 2 inf; "
        r"first at index \(0, 1\)",
    ):
        method(lambda X: X.sum((-1, -2)), x)


def test_held_entries_of_the_baseline_are_not_checked():
    baseline = torch.tensor([0.0, 0.0, float("nan")], dtype=torch.float64)
    result = integrated_hessians(smooth, X, baseline, groups=torch.tensor([0, 1, -1]))
    assert np.isfinite(result.interactions).all()


def nan_for_part_of_the_path(X: torch.Tensor) -> torch.Tensor:
    """Finite on the half of the path near the input, NaN (log of a negative number) on the rest."""
    s = X.sum(-1)
    return torch.log(s - 0.6) + s**2


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("steps", [None, 8])
def test_f_not_finite_on_part_of_the_path(method, steps):
    with pytest.raises(ValueError) as err:
        method(nan_for_part_of_the_path, X, steps=steps)
    message = str(err.value)
    assert message.startswith("f is not finite at t=") and "on the path from the baseline to the input (nan)" in message
    t = float(message.split("t=")[1].split()[0])
    assert float(X.sum()) * t <= 0.6  # the position named is one where f is NaN
    assert "check the model" in message.lower() and "baseline" in message


@pytest.mark.parametrize("method", METHODS)
def test_sqrt_of_negative_in_the_middle(method):
    with pytest.raises(ValueError, match=r"f is not finite at t=0\.\d+ on the path .* \(nan\)"):
        method(lambda X: torch.sqrt((X.sum(-1) - 0.6) ** 2 - 0.01), X, steps=16)


@pytest.mark.parametrize("method, node", [(integrated_gradients, 0.5), (integrated_hessians, 0.25)])
def test_non_finite_gradient_is_named(method, node):
    # f is finite everywhere, its gradient is infinite at t = node, the only node of the 1-point rule
    f = lambda X: torch.sqrt(torch.abs(X.sum(-1) - node * 1.2))  # noqa: E731
    with pytest.raises(ValueError, match=f"the gradient of f is not finite at t={node} on the path .*where f = 0"):
        method(f, X, steps=1)


@pytest.mark.parametrize("method", METHODS)
def test_singular_derivative_at_the_baseline_itself_is_allowed(method):
    # sqrt at a zero baseline: the derivative is infinite at t = 0 only; the integrals are finite
    result = method(lambda X: torch.sqrt(X).sum(-1), X)
    assert np.isfinite(result.attributions).all()
    assert result.attributions.sum() == pytest.approx(float(torch.sqrt(X).sum()), rel=1e-3)


def test_reduced_function_multi_names_the_problem():
    xs = torch.tensor([[0.3, 0.4], [-0.5, -0.6]], dtype=torch.float64)
    reduced = ReducedFunction(lambda X, p: torch.log(X.sum(-1)), xs, 1.0, [None, None], multi=True)
    with pytest.raises(
        ValueError,
        match=r"f is not finite at t=1 \(the input\) on the path from the baseline to "
        r"the input of problem 1 \(nan\)",
    ):
        reduced.gradients(np.array([0.5, 1.0]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"problem 1, index \(0,\)"):
        ReducedFunction(
            lambda X, p: X.sum(-1), xs, torch.tensor([[0.0, 0.0], [float("nan"), 0.0]]), [None, None], multi=True
        )


def test_finite_inputs_whose_difference_overflows():
    x = torch.tensor([3e38, 0.0], dtype=torch.float32)
    with pytest.raises(ValueError, match="x - baseline overflows torch.float32 in 1 entries.*wider dtype"):
        integrated_gradients(lambda X: X.sum(-1), x, torch.tensor([-3e38, 0.0], dtype=torch.float32))


BACKGROUND = torch.tensor([[0.0, 0.1, 0.2], [0.2, 0.1, 0.0], [0.1, 0.1, 0.1]], dtype=torch.float64)


@pytest.mark.parametrize("method", [expected_gradients, expected_hessians])
def test_expected_with_nan_background_row(method):
    background = BACKGROUND.clone()
    background[1, 2] = float("nan")
    with pytest.raises(
        ValueError,
        match=r"background row 1 has 1 non-finite entry \(NaN or inf: 1 NaN, 0 inf\).*"
        r"replace NaN/inf",
    ):
        method(smooth, X, background)
    # an entry held at the input's value is not used
    result = method(smooth, X, background, groups=torch.tensor([0, 1, -1]))
    assert np.isfinite(result.attributions).all()


def test_expected_with_inf_input_row():
    x = torch.stack([X, X])
    x[1, 0] = float("inf")
    with pytest.raises(ValueError, match=r"x row 1 has 1 non-finite entry"):
        expected_hessians(smooth, x, BACKGROUND)


def test_expected_f_not_finite():
    background = BACKGROUND.clone()
    background[2] = 1.0  # sum 3: log(3 - 0.6) fine; the others: log of a negative
    with pytest.raises(ValueError, match=r"f is not finite at background row 0 \(nan\)"):
        expected_hessians(nan_for_part_of_the_path, X, background)
    # finite at every baseline and at the input, NaN in between
    f = lambda X: torch.sqrt((X.sum(-1) - 0.6) ** 2 - 0.01)  # noqa: E731
    background = torch.tensor([[0.0, 0.0, 0.0], [0.05, 0.0, 0.0]], dtype=torch.float64)
    with pytest.raises(
        ValueError,
        match=r"f is not finite at t=0\.\d+ on the path from the baseline to the input "
        r"\(background row \d\) \(nan",
    ):
        expected_hessians(f, X, background, steps=8)


def test_import_and_engine_call_under_python_OO():
    code = (
        "import torch, transformers_ih\n"
        "from transformers_ih.engine import expected_hessians\n"
        "assert transformers_ih.integrated_hessians.__doc__ is None\n"
        "x = torch.tensor([0.3, 0.4, 0.5], dtype=torch.float64)\n"
        "f = lambda X: X.prod(-1) + X.sum(-1) ** 2\n"
        "r = transformers_ih.integrated_hessians(f, x)\n"
        "assert abs(r.interactions.sum() - (r.f_input - r.f_baseline)) < 1e-6, r\n"
        "e = expected_hessians(f, x, torch.zeros(2, 3, dtype=torch.float64))\n"
        "assert abs(e.interactions.sum() - e.delta) < 1e-6, e\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-OO", "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
