"""ReLU networks: the autodiff Hessian misses the kinks; softplus(beta) smoothing restores completeness."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from transformers_ih.engine import integrated_hessians, piecewise_linear_activations, smooth_relu
from transformers_ih.engine.smoothing import ZeroHessianWarning

pytestmark = pytest.mark.usefixtures("float64")  # the math in float64 for this module only (models stay float32)


class InlineReluNet(nn.Module):
    """Like DistilBERT's head: the ReLU is created inline in forward, not a submodule."""

    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.a, self.b, self.c = nn.Linear(5, 16), nn.Linear(16, 16), nn.Linear(16, 1)

    def forward(self, x):
        h = nn.ReLU()(self.a(x))
        h = F.relu(self.b(h)) + 0.1 * F.leaky_relu(self.b(h), 0.2) + h.relu()
        return self.c(h)[:, 0]


def test_relu_hessian_is_zero_and_completeness_fails_without_smoothing():
    net = InlineReluNet()
    x = torch.randn(5)
    with pytest.warns(ZeroHessianWarning, match="smooth_relu"):
        r = integrated_hessians(net, x, steps=32)
    off_diagonal = r.interactions - np.diag(np.diag(r.interactions))
    assert np.abs(off_diagonal).max() < 1e-12
    assert r.completeness_error > 1e-2 * abs(r.f_input - r.f_baseline)


def test_smoothing_restores_completeness_and_converges_with_beta():
    net = InlineReluNet()
    x = torch.randn(5) * 2
    results = []
    for beta in (5.0, 20.0, 80.0):
        with smooth_relu(net, beta=beta) as mode:
            r = integrated_hessians(net, x, rtol=1e-6, atol=1e-9, max_nodes=4000)
        assert mode.replaced > 0
        assert r.completeness_error <= 1e-6 * abs(r.f_input - r.f_baseline) + 1e-9
        assert np.abs(r.interactions - np.diag(np.diag(r.interactions))).max() > 1e-3
        results.append(r.interactions)
    # interactions converge as beta grows: successive differences shrink
    assert np.abs(results[2] - results[1]).max() < np.abs(results[1] - results[0]).max()


def test_smoothing_moves_outputs_by_a_bounded_amount():
    net = InlineReluNet()
    X = torch.randn(200, 5)
    moved = {}
    with torch.no_grad():
        plain = net(X)
        for beta, bound in ((20.0, 3 * np.log(2) / 20 * 20), (100.0, 3 * np.log(2) / 100 * 20)):
            with smooth_relu(beta=beta):
                smooth = net(X)
            # |softplus_beta - relu| <= ln 2 / beta per unit; the net amplifies by its weights (generous factor)
            moved[beta] = float((smooth - plain).abs().max())
            assert moved[beta] < bound
    # the swap happened (outputs moved), and moves less for a sharper softplus: about as 1 / beta
    assert moved[20.0] > 1e-3 and 2.0 < moved[20.0] / moved[100.0] < 25.0
    with torch.no_grad():
        assert torch.equal(net(X), plain)  # nothing left behind


def test_model_is_unchanged_after_error_inside_block():
    net = InlineReluNet()
    with pytest.raises(RuntimeError):
        with smooth_relu(net, beta=10):
            raise RuntimeError("inside")
    found = piecewise_linear_activations(lambda: net(torch.randn(2, 5)))
    assert "relu" in found and "leaky_relu" in found  # the ReLUs still run as ReLUs outside the block
    assert all(isinstance(m, (nn.Linear, InlineReluNet)) for m in net.modules())


def test_detection_and_warning():
    assert piecewise_linear_activations(lambda: torch.tanh(torch.ones(2))) == set()
    with pytest.warns(UserWarning, match="nothing was smoothed"):
        with smooth_relu(nn.Tanh(), beta=10):
            torch.tanh(torch.ones(2))


def test_zero_hessian_warning_names_smooth_relu_only_when_relus_ran_unsmoothed():
    net = InlineReluNet()
    x = torch.randn(5)
    with pytest.warns(ZeroHessianWarning, match="smooth_relu") as record:
        integrated_hessians(net, x, steps=8)
    assert record[0].filename == __file__  # points at the caller
    with warnings.catch_warnings():
        warnings.simplefilter("error", ZeroHessianWarning)
        with smooth_relu(net, beta=10):
            integrated_hessians(net, x, steps=8)  # smoothed: interactions are non-zero
            # additive in smoothed ReLUs: the zeros are real, and smoothing is active, so no warning
            integrated_hessians(lambda X: torch.relu(X[:, 0]) + F.relu(X[:, 1]), torch.randn(2), steps=4)
        integrated_hessians(lambda X: X @ torch.arange(5.0), x, steps=4)  # linear, no ReLU: zeros are real
        integrated_hessians(lambda X: torch.relu(X[:, 0]) * 0 + X.sum(-1), torch.randn(1), steps=4)  # one feature
