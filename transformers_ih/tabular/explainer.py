"""`TabularInteractionExplainer`: Expected Gradients and Expected Hessians of any differentiable PyTorch model of
feature vectors, for many rows at once, with a background data set as the baseline distribution."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..engine.expected import expected_gradients, expected_hessians
from ..engine.smoothing import smoothing_for
from ..text.model_state import differentiable_attention, explainable_model
from .result import TabularExplanation


def _model_dtype(model) -> torch.dtype:
    if isinstance(model, torch.nn.Module):
        for p in model.parameters():
            if torch.is_floating_point(p):
                return p.dtype
    return torch.get_default_dtype()


def _model_device(model) -> torch.device:
    if isinstance(model, torch.nn.Module):
        for p in model.parameters():
            return p.device
    return torch.device("cpu")


class TabularInteractionExplainer:
    """Attributions and pairwise feature interactions of a model of ``d`` features, averaged over baselines from
    a background data set (Expected Gradients / Expected Hessians, Janizek et al. 2021).

    >>> explainer = TabularInteractionExplainer(model, feature_names=names, background=X_train[:100])
    >>> result = explainer(X_test[:50])
    >>> result.attributions          # (50, d) per-row attributions; rows sum to f(x) - E[f(x')]
    >>> result.interactions          # (50, d, d) per-row interaction matrices
    >>> result.top_interactions(5)   # pairs with the largest mean |interaction| over the rows
    >>> result.plot_summary(); result.plot_dependence("worst radius"); result.plot_interactions()

    Args:
        model: a ``torch.nn.Module`` or any differentiable callable mapping a ``(B, d)`` tensor to ``(B,)``,
            ``(B, 1)`` or ``(B, k)`` outputs.
        feature_names: the ``d`` names (default ``x0, x1, ...``).
        background: ``(M, d)`` rows (tensor or array) whose distribution defines the baselines, e.g. ~100
            training rows. With ``M <= samples`` every row is used (exact expectation over the background).
        target: for models with ``k > 1`` outputs, the output column to explain (e.g. the class logit).
        samples: baselines per explained row (default 128).
        steps, path_samples: how each baseline's path is integrated (see
            :func:`~transformers_ih.engine.expected.expected_hessians`; default ``"auto"``: a deterministic
            8-point Gauss rule when every background row is used, else one stratified random point).
        smoothing: ``"auto"`` (softplus(beta=20) for ReLU-family activations if the model uses any), a beta,
            or ``None``.
        seed: randomness of the baseline draws (``None``: fresh each call).
        internal_batch_size: the most rows passed to the model at once (a Hessian costs ``d`` rows).
    """

    def __init__(
        self,
        model: torch.nn.Module | Callable[[torch.Tensor], torch.Tensor],
        feature_names: Sequence[str] | None = None,
        background=None,
        *,
        target: int | None = None,
        samples: int = 128,
        steps: int | None = None,
        path_samples: str = "auto",
        smoothing: str | float | None = "auto",
        seed: int | None = 0,
        internal_batch_size: int = 4096,
    ):
        if background is None:
            raise ValueError(
                "background is required: rows (M, d) of data (e.g. ~100 training rows) from which "
                "the baselines are drawn"
            )
        self.model = model
        self.dtype, self.device = _model_dtype(model), _model_device(model)
        self.background = self._as_tensor(background)
        if self.background.dim() != 2:
            raise ValueError(f"background must be a 2-D table (M, d), got shape {tuple(self.background.shape)}")
        d = self.background.shape[1]
        self.feature_names = [f"x{i}" for i in range(d)] if feature_names is None else [str(n) for n in feature_names]
        if len(self.feature_names) != d:
            raise ValueError(f"{len(self.feature_names)} feature names for {d} background columns")
        self.target = target
        self.samples, self.steps, self.path_samples = samples, steps, path_samples
        self.smoothing, self.seed, self.internal_batch_size = smoothing, seed, internal_batch_size

    def _as_tensor(self, values) -> torch.Tensor:
        if isinstance(values, torch.Tensor):
            return values.detach().to(dtype=self.dtype, device=self.device)
        return torch.as_tensor(np.asarray(values, dtype=np.float64), dtype=self.dtype, device=self.device)

    def scalar_function(self, model=None) -> Callable[[torch.Tensor], torch.Tensor]:
        """``f(X) -> (B,)``: the explained output of ``model`` (default the explainer's)."""
        target = self.target
        model = self.model if model is None else model

        def f(X: torch.Tensor) -> torch.Tensor:
            y = model(X)
            if y.dim() == 2 and target is not None:
                return y[:, target]
            if y.dim() == 2 and y.shape[1] == 1:
                return y[:, 0]
            if y.dim() != 1:
                raise ValueError(f"the model returns shape {tuple(y.shape)}; pass target=k to explain output column k")
            return y

        return f

    def __call__(
        self,
        X,
        *,
        interactions: bool = True,
        feature_values=None,
        samples: int | None = None,
        seed: Any = "default",
        progress=None,
    ) -> TabularExplanation:
        """Explain rows ``X`` (``(N, d)`` tensor or array; one row ``(d,)`` is treated as ``N = 1``).

        Args:
            interactions: Expected Hessians (default; ``(N, d, d)`` interactions and attributions) or, with
                ``False``, Expected Gradients only (``d`` times cheaper).
            feature_values: ``(N, d)`` values to show in the views instead of ``X`` (e.g. before standardising).
            samples, seed: override the explainer's settings for this call.
            progress: optional object with ``update(n)`` (Hessian-vector products done).
        """
        X = self._as_tensor(X)
        if X.dim() == 1:
            X = X[None]
        if X.dim() != 2 or X.shape[1] != len(self.feature_names):
            raise ValueError(f"X has shape {tuple(X.shape)}; expected (N, {len(self.feature_names)})")
        shown = X.detach().cpu().double().numpy() if feature_values is None else np.asarray(feature_values, float)
        if shown.ndim == 1:
            shown = shown[None]
        if shown.shape != tuple(X.shape):
            raise ValueError(f"feature_values has shape {shown.shape}, expected {tuple(X.shape)}")
        seed = self.seed if seed == "default" else seed
        module = isinstance(self.model, torch.nn.Module)
        # the user's module as it is (or, in training mode, a private eval copy): never changed
        f = self.scalar_function(explainable_model(self.model) if isinstance(self.model, torch.nn.Module) else None)
        with differentiable_attention(module), torch.enable_grad():
            smooth, smoothing_desc = smoothing_for(self.smoothing, lambda: f(X[:1]))
            kwargs = dict(
                samples=self.samples if samples is None else samples,
                steps=self.steps,
                path_samples=self.path_samples,
                seed=seed,
                internal_batch_size=self.internal_batch_size,
            )
            with smooth:
                if interactions:
                    r = expected_hessians(f, X, self.background, progress=progress, **kwargs)
                else:
                    r = expected_gradients(f, X, self.background, **kwargs)
        return TabularExplanation(
            feature_names=list(self.feature_names),
            features=X.detach().cpu().double().numpy(),
            feature_values=shown,
            attributions=r.attributions,
            attributions_se=r.attributions_se,
            interactions=r.interactions,
            interactions_se=r.interactions_se,
            f_input=r.f_input,
            f_baseline=r.f_baseline,
            f_background=r.f_background,
            completeness_gap=r.completeness_gap,
            completeness_se=r.completeness_se,
            quadrature_error=r.quadrature_error,
            method="expected_hessians" if interactions else "expected_gradients",
            target="output" if self.target is None else f"output[{self.target}]",
            samples=r.samples,
            steps=float(r.steps),
            path_samples=r.path_samples,
            replace=r.replace,
            exact=r.exact,
            background_size=r.background_size,
            seed=r.seed,
            model_evaluations=r.model_evaluations,
            smoothing=smoothing_desc,
            meta={"model": type(self.model).__name__},
        )
