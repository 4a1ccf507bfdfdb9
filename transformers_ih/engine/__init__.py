"""The math engine: path rules, Integrated Gradients and Integrated Hessians for any differentiable batched
scalar torch function. Knows nothing of transformers."""

from .adaptive import AdaptiveInfo, NodeCapWarning, adaptive_rule
from .expected import ExpectedResult, expected_gradients, expected_hessians
from .integrated_gradients import integrated_gradients
from .integrated_hessians import integrated_hessians
from .path import PathSettings
from .quadrature import PathRule, fixed_rule, gauss_legendre, gauss_log
from .reduction import ReducedFunction
from .results import PathResult, average_over_baselines
from .smoothing import SoftplusMode, ZeroHessianWarning, piecewise_linear_activations, smooth_relu

__all__ = [
    "AdaptiveInfo",
    "ExpectedResult",
    "NodeCapWarning",
    "PathResult",
    "PathRule",
    "PathSettings",
    "ReducedFunction",
    "SoftplusMode",
    "ZeroHessianWarning",
    "adaptive_rule",
    "average_over_baselines",
    "expected_gradients",
    "expected_hessians",
    "fixed_rule",
    "gauss_legendre",
    "gauss_log",
    "integrated_gradients",
    "integrated_hessians",
    "piecewise_linear_activations",
    "smooth_relu",
]
