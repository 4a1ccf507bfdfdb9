"""The per-call options every task explainer takes, parsed once: :class:`ExplainOptions`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal

import torch
from typing_extensions import TypedDict


class _Default:
    """The one "use the explainer's setting" sentinel (``None`` means something for several options)."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()

OUTPUT_NAMES = ("logit", "probability", "log_probability")

OPTIONS_DOC = """
Options (every task, keyword only):
    output: what is explained: ``"logit"``, ``"probability"`` or ``"log_probability"`` of the task's target
        (the tasks whose score is fixed accept only theirs: language models ``"log_probability"``, question
        answering and zero-shot ``"logit"``), or a callable ``model_outputs -> (B,)`` giving one scalar per
        batch row, e.g. ``lambda out: out.logits[:, 1] - out.logits[:, 0]``: then one explanation per distinct
        model input of the task, with ``output == "custom"`` and the callable's name in ``meta["output_function"]``.
    interactions: also compute the ``(W, W)`` Integrated Hessians (default); ``False`` gives Integrated
        Gradients only (cheaper).
    steps, method: ``steps=None`` -> the adaptive path rule to the explainer's tolerance; ``steps=N`` -> a
        fixed rule (``method`` ``"gauss"``, ``"riemann"`` or ``"montecarlo"``).
    baseline, smoothing: override the explainer's defaults for this call.
    rows: ``None`` (the full matrix), a list of features (positions or texts), or a number ``k`` (the ``k`` features
        with the largest ``|attribution|``): only those rows (and columns) are computed, exactly, at ``k + 1``
        Hessian-vector products per path point instead of ``W``; other entries are NaN (``explanation.computed``).
    features: what a feature is (override the explainer's default, ``"word"``): ``"word"``, ``"token"``,
        ``"sentence"`` (pysbd), character spans ``[(start, end), ...]`` (one list per text for two-text tasks; for
        many inputs, one entry per input), or a callable ``text -> spans``. Tokens in no span are held at the input.
    check: the removal check stored in ``explanation.removal_check`` (every explanation with interactions): each
        feature's leave-one-out ``v(N) - v(N\\i)`` and, for the ``k`` strongest pairs, the removal interaction
        ``Delta_ij`` beside the pair's value, at ``1 + W + k`` extra model rows. ``True`` (default, ``k = 10``),
        a number of pairs ``k``, or ``False`` (skip it).
    estimator: ``"integrated-hessians"`` (default: path integrals from the baseline) or a Shapley interaction index
        of shapiq (``"FSII"``, ``"k-SII"``, ``"STII"``, ``"FBII"``, ``"SII"``; ``pip install
        'transformers-ih[shapley]'``) on the same game (features removed = at the explanation's baseline).
    budget, seed: for a shapiq index: the coalitions it may evaluate (``None``: all ``2^W``, exact; at most
        ``2^W``) and its random seed (default 0).

Inputs: a string is one input (one result); a list, tuple, numpy array of strings or a ``datasets`` column is
many (a list of results in input order, explained ``text_batch_size`` at a time with shared model calls; each
equals its single call within the path rule's tolerance). Two-text tasks take two sequences of equal length.
"""


class CallOptions(TypedDict, total=False):
    """The options every task's call takes, as keywords (``**options: Unpack[CallOptions]``): see
    :data:`OPTIONS_DOC` for what each one means."""

    output: Literal["logit", "probability", "log_probability"] | Callable[[Any], torch.Tensor]
    interactions: bool
    steps: int | None
    method: Literal["gauss", "riemann", "montecarlo"] | None
    baseline: str | int | torch.Tensor
    smoothing: str | float | None
    features: Any
    rows: int | list[int | str] | None
    check: bool | int
    estimator: str
    budget: int | None
    seed: int


@dataclass(frozen=True)
class ExplainOptions:
    """How one call explains: see :data:`OPTIONS_DOC`. ``DEFAULT`` fields take the explainer's (or the task's)
    setting when resolved by :meth:`TextInteractionExplainer.options`."""

    output: str | Callable[[Any], torch.Tensor] = DEFAULT
    interactions: bool = True
    steps: int | None = None
    method: str | None = None
    baseline: Any = DEFAULT
    smoothing: Any = DEFAULT
    features: Any = DEFAULT
    rows: Any = None
    check: Any = True
    estimator: str = "integrated-hessians"
    budget: int | None = None
    seed: int = 0

    @classmethod
    def pop_from(cls, kwargs: dict) -> ExplainOptions:
        """Take the option keywords out of ``kwargs`` (the rest are the task's own arguments)."""
        return cls(**{f.name: kwargs.pop(f.name) for f in fields(cls) if f.name in kwargs})

    @property
    def custom(self) -> bool:
        """Whether ``output`` is a user's callable."""
        return callable(self.output)

    @property
    def output_name(self) -> str:
        return "custom" if callable(self.output) else self.output

    def checked(self, allowed: tuple[str, ...]) -> ExplainOptions:
        """``ValueError`` for an output not in ``allowed`` (and not a callable) or a bad option value."""
        if not self.custom and self.output not in allowed:
            raise ValueError(
                f"output must be one of {allowed} for this task, or a callable model_outputs -> (B,); "
                f"got {self.output!r}"
            )
        from .features import check_features_setting
        from .rows import check_rows

        check_rows(self.rows)
        check_features_setting(self.features)
        if not isinstance(self.interactions, bool):
            raise TypeError(f"interactions must be True or False, got {self.interactions!r}")
        if self.steps is not None and (
            isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1
        ):
            raise ValueError(f"steps must be a positive number of path points or None (adaptive), got {self.steps!r}")
        from .removal import check_pairs
        from .shapley import check_estimator

        check_pairs(self.check)
        check_estimator(self)
        return self


def function_name(fn: Callable) -> str:
    """A readable name for a user's output callable (``"<lambda>"`` for lambdas)."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    return str(name)
