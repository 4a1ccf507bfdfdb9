"""The errors of the reduced function when the input, the baseline, ``f`` or a derivative of ``f`` is not finite
(NaN or inf): each names where (input or baseline entry, or path position ``t`` and problem) and what to do."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


def describe_nonfinite(bad: torch.Tensor, values: torch.Tensor, multi: bool) -> str:
    """``"3 non-finite entries (NaN or inf): 2 NaN, 1 inf; first at index (0, 4)"`` for the ``bad`` mask."""
    count = int(bad.sum())
    nan = int((bad & torch.isnan(values)).sum())
    first = tuple(int(i) for i in torch.nonzero(bad)[0])
    if not multi:
        first = first[1:]
    where = f"problem {first[0]}, index {first[1:]}" if multi else f"index {first}"
    kinds = ", ".join(
        part for part in (f"{nan} NaN" if nan else "", f"{count - nan} inf" if count > nan else "") if part
    )
    return f"{count} non-finite {'entry' if count == 1 else 'entries'} (NaN or inf): {kinds}; first at {where}"


def nonfinite_inputs_error(xs: torch.Tensor, bases: torch.Tensor, held: torch.Tensor, multi: bool) -> ValueError:
    """The error for non-finite inputs ``xs`` / baselines ``bases`` (``(N, *shape)``; ``held``: entries held at the
    input, whose baseline is not used), or for ``x - baseline`` overflowing the dtype."""
    fix = (
        "Integrated Gradients/Hessians integrate along the straight path from the baseline to the input, "
        "which needs both finite: replace NaN/inf (e.g. with torch.nan_to_num) or choose another baseline"
    )
    bad_x = ~torch.isfinite(xs)
    if bool(bad_x.any()):
        return ValueError(f"the input x has {describe_nonfinite(bad_x, xs, multi)}. {fix}")
    bad_b = ~torch.isfinite(bases) & ~held
    if bool(bad_b.any()):
        return ValueError(f"the baseline has {describe_nonfinite(bad_b, bases, multi)}. {fix}")
    # both finite, their difference is not: it overflows the dtype
    bad = ~torch.isfinite(xs - bases) & ~held
    return ValueError(
        f"x - baseline overflows {xs.dtype} in {int(bad.sum())} entries: the input and the baseline "
        f"are finite but too far apart for this dtype; use a wider dtype (e.g. x.double()) or rescale "
        f"the input"
    )


def check_finite_on_path(ts: np.ndarray, problems: np.ndarray, checks, where: Callable[[int], str]) -> None:
    """Raise a ``ValueError`` naming the path position and problem where ``f`` or a derivative is not finite.

    ``checks``: ``(what, values)`` pairs, ``values`` float64 arrays with the points along axis 0, the
    function's values first. One vectorised test per array (the arrays are on the CPU already). Derivatives
    at ``t = 0`` exactly are not checked: no rule uses them (Gauss nodes are interior, and the ends enter
    through ``F`` only), and a singularity there (e.g. ``sqrt`` at a zero baseline) is integrable.
    ``where(problem)``: how the error names a problem (e.g. ``" of problem 2"``; ``""`` for one problem).
    """
    for k, (what, values) in enumerate(checks):
        finite = np.isfinite(values)
        if finite.all():
            continue
        bad_points = ~finite.reshape(len(values), -1).all(axis=1)
        if k > 0:
            bad_points &= np.asarray(ts) != 0.0
        if not bad_points.any():
            continue
        p = int(np.argmax(bad_points))
        bad_value = values[p][~np.isfinite(values[p])].flat[0] if np.ndim(values[p]) else values[p]
        raise nonfinite_path_error(
            what, float(ts[p]), where(int(problems[p])), float(bad_value), float(checks[0][1][p]) if k > 0 else None
        )


def nonfinite_path_error(what: str, t: float, which: str, value: float, f_value) -> ValueError:
    """The error for ``what`` (e.g. ``"the gradient of f"``) being ``value`` at path position ``t`` of the problem
    named by ``which``; ``f_value``: ``f`` there (``None`` when ``what`` is ``f`` itself)."""
    end = " (the baseline)" if t == 0.0 else " (the input)" if t == 1.0 else ""
    there = "" if f_value is None else f", where f = {f_value:.6g}"
    return ValueError(
        f"{what} is not finite at t={t:.4g}{end} on the path from the baseline to the input{which} ({value}"
        f"{there}): the attributions would be NaN. Check the model (e.g. log or sqrt of a non-positive value, "
        f"division by zero, overflow in a low-precision dtype) and the baseline (f must be finite and "
        f"differentiable at every point between the baseline and the input)"
    )
