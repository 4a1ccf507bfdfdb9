"""Replaying a recorded call: the model's explained output on coalitions of an explanation's features, for the
evaluation of explanations (:mod:`transformers_ih.evaluate`).

Every call records its inputs in each Explanation's ``meta["call"]`` (:func:`call_record`); from that record
:func:`coalition_values` asks the explainer that made the explanation for the same request again (through the task
protocol's public methods ``requests_of``, ``record_call``, ``replay_features`` and ``is_request_of``) and evaluates
``f(x_S)``, present features at their input embeddings and absent ones at the explanation's baseline.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..engine.reduction import ReducedFunction
from ..engine.smoothing import smoothing_for
from ..results.explanation import Explanation
from .baselines import is_expected, make_baseline
from .options import DEFAULT, ExplainOptions
from .requests import Request
from .run import ExplainRun
from .runner import held_routing, multi_function

if TYPE_CHECKING:
    from ..tasks.base import TextInteractionExplainer


def coalition_values(
    explainer: TextInteractionExplainer,
    explanation: Explanation,
    coalitions,
    *,
    output=None,
    baseline=None,
    smoothing: Any = DEFAULT,
) -> np.ndarray:
    """The explained output of the model when only some features are present: ``(M, W)`` -> ``(M,)``.

    ``coalitions[m, i]`` (bool, or 0/1) says whether feature ``i`` of ``explanation`` (its word ``i``) is present
    in coalition ``m``: present features keep their input embeddings, absent ones take the explanation's own
    baseline (the same ``x'`` the explanation integrated from; special tokens always keep theirs). Row ``m`` of the
    result is ``f(x_S)`` in the explained output's units (float64), so an all-true row gives
    ``explanation.f_input`` and an all-false row ``explanation.f_baseline`` (to float rounding). With
    ``baseline="expected"`` the value is the mean over the explanation's ``K`` baselines (the same seeded draws),
    matching its ``f_baseline``; it costs ``K`` model rows per coalition.

    The model runs under the explanation's smoothing (as ``f_input`` was computed; ``smoothing=None`` evaluates the
    unsmoothed model), without gradients, ``internal_batch_size`` rows at a time.

    The task's inputs are taken from ``explanation.meta["call"]`` (recorded by every call of this version) and
    tokenized again, and each call runs a fresh twin of the model: pass many coalitions per call. ``output``:
    evaluate another output of the same target instead (e.g. ``"probability"`` for an explanation of the logit), or
    the callable an explanation of a custom output was made with (a function cannot be stored in JSON).
    ``baseline``: the tensor, when the explanation's baseline was one.
    """
    call = explanation.meta.get("call") if isinstance(explanation.meta, dict) else None
    if not isinstance(call, dict):
        raise ValueError(
            "this explanation has no meta['call'] (the task inputs of the call that made it): it was "
            "made by an earlier version or built by hand. Explain the text again with this explainer, "
            "then evaluate that explanation."
        )
    task = explanation.meta.get("task")
    if task is not None and task != type(explainer).__name__:
        raise ValueError(
            f"this explanation was made by {task}, not {type(explainer).__name__}: evaluate it with the "
            f"explainer (task) that made it"
        )
    masks = coalition_masks(coalitions, len(explanation.words))
    if not len(masks):
        return np.zeros(0)
    options = _replay_options(explainer, explanation, call, output, baseline, smoothing)
    run = explainer.start_run(options)
    request = _replayed_request(explainer, run, explanation, call)
    return request_values(run, request, masks, call.get("background", explainer.background))


def _replay_options(
    explainer: TextInteractionExplainer, explanation: Explanation, call: dict, output, baseline, smoothing
) -> ExplainOptions:
    if output is None:
        output = call.get("output")
        if output is None:
            raise ValueError(
                f"this explanation explains a custom output function "
                f"({explanation.meta.get('output_function', '?')}), which cannot be recorded: pass "
                f"output=<the same function> to evaluate it"
            )
    if baseline is None:
        baseline = call.get("baseline")
        if baseline is None:
            raise ValueError(
                "this explanation's baseline was a tensor, which is not recorded: pass baseline=<the "
                "same tensor> to evaluate it"
            )
    smoothing = call.get("smoothing", explainer.smoothing) if smoothing is DEFAULT else smoothing
    return explainer.resolve(
        ExplainOptions(
            output=output,
            baseline=baseline,
            smoothing=smoothing,
            interactions=False,
            features=explainer.replay_features(explanation, call),
        )
    )


def _replayed_request(
    explainer: TextInteractionExplainer, run: ExplainRun, explanation: Explanation, call: dict
) -> Request:
    """The request of the recorded call that gives ``explanation`` (its input, and its target unless the output is
    a user's function)."""
    if call.get("unrecorded"):
        raise ValueError(
            f"the call's argument(s) {call['unrecorded']} could not be recorded (not JSON values), so "
            f"the explained output cannot be rebuilt; explain with JSON-serialisable arguments"
        )
    requests = explainer.requests_of(run, dict(call.get("inputs", {})), dict(call.get("arguments", {})))
    for request in requests:
        if explainer.is_request_of(request, explanation, run.options.custom):
            return request
    raise ValueError(
        f"the inputs recorded in meta['call'] no longer give this explanation's input and target "
        f"({explanation.target!r} on {explanation.text[:60]!r}): the explanation was edited, or the "
        f"model or tokenizer differ from the ones that made it"
    )


def request_values(run: ExplainRun, request: Request, masks: np.ndarray, background) -> np.ndarray:
    """``f(x_S)`` of ``request`` for each coalition mask ``(M, W)`` bool, in the explained output's units, averaged
    over the run's baseline's ``K`` draws: ``(M,)`` float64 (``M * K`` model rows, ``internal_batch_size`` at a
    time). The one evaluation of coalitions: :func:`coalition_values` replays a recorded call to get ``run`` and
    ``request``; a call's own removal check and Shapley estimators pass theirs."""
    enc = request.encoded
    chosen = make_baseline(run.options.baseline, run.tokenizer, background)
    x, bases = chosen.embeddings(run, enc)
    K = bases.shape[0]
    xs = x[None].expand_as(bases)
    batch = run.settings.internal_batch_size
    f = multi_function(run.model, dict(enc.inputs), [request.explained.select], K)
    reduced = ReducedFunction(f, xs, bases, [enc.token_word] * K, batch, multi=True)
    zero = torch.zeros(1, dtype=torch.long, device=run.device)
    c = torch.as_tensor(masks, dtype=x.dtype, device=run.device).repeat_interleave(K, 0)
    problems = torch.arange(K, device=run.device).repeat(len(masks))
    values = np.empty(len(c))
    with held_routing(run, enc.inputs):
        smooth, _ = smoothing_for(run.options.smoothing, lambda: f(x[None], zero))
        with smooth, torch.no_grad():
            for lo in range(0, len(c), batch):
                hi = min(len(c), lo + batch)
                values[lo:hi] = reduced(c[lo:hi], problems[lo:hi]).double().cpu().numpy()
    bad = ~np.isfinite(values)
    if bad.any():
        m = int(np.argmax(bad)) // K
        raise ValueError(
            f"the explained output ({request.explained.name}) is not finite on coalition {m} (present "
            f"features {np.flatnonzero(masks[m]).tolist()}): {values[np.argmax(bad)]}"
        )
    return values.reshape(len(masks), K).mean(axis=1)


def _jsonable(value) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _plain(value):
    """numpy scalars as Python numbers (JSON writes those); anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def call_record(row: dict, arguments: dict, options: ExplainOptions, background) -> dict:
    """What one input's call was, as JSON values (an Explanation's ``meta["call"]``): ``inputs`` (its text
    arguments and per-input task arguments), ``arguments`` (the other task arguments), ``output``, ``baseline``
    and ``smoothing`` (``None`` for a callable output or a tensor baseline, which JSON cannot hold), the
    explainer's ``background`` for ``baseline="expected"``, and ``unrecorded``: arguments left out for the same
    reason."""
    inputs = {k: _plain(v) for k, v in row.items()}
    rest = {k: _plain(v) for k, v in arguments.items()}
    unrecorded = sorted(k for k, v in {**inputs, **rest}.items() if not _jsonable(v))
    baseline = _plain(options.baseline)
    record = {
        "inputs": {k: v for k, v in inputs.items() if k not in unrecorded},
        "arguments": {k: v for k, v in rest.items() if k not in unrecorded},
        "output": None if options.custom else options.output,
        "baseline": baseline if isinstance(baseline, (str, int)) and not isinstance(baseline, bool) else None,
        "smoothing": _plain(options.smoothing),
        "features": _plain(options.features) if _jsonable(_plain(options.features)) else None,
        "unrecorded": unrecorded,
    }
    if is_expected(options.baseline) and _jsonable(background):
        record["background"] = background
    return record


def coalition_masks(coalitions, features: int) -> np.ndarray:
    """``coalitions`` checked as an ``(M, features)`` boolean array (bool, or 0/1 numbers); ``ValueError`` naming
    the problem otherwise."""
    try:
        masks = np.asarray(coalitions)
    except ValueError:  # rows of different lengths
        raise ValueError(
            f"coalitions must be an (M, {features}) array of booleans, one row per coalition; its rows have "
            f"different lengths"
        ) from None
    if masks.ndim == 1 and masks.size == features and features:
        raise ValueError(
            f"coalitions has shape {masks.shape}: pass a 2-d array (M, {features}), one row per "
            f"coalition (e.g. mask[None] for one)"
        )
    if masks.ndim != 2 or masks.shape[1] != features:
        raise ValueError(
            f"coalitions has shape {masks.shape}; expected (M, {features}): one row per coalition, one "
            f"column per feature (word) of the explanation"
        )
    if masks.dtype != bool:
        if masks.size and not np.isin(masks, (0, 1)).all():
            raise ValueError(
                "coalitions must be boolean (or 0/1): True where a feature is present, False where it "
                "takes the baseline"
            )
        masks = masks.astype(bool)
    return masks
