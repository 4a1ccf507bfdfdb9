"""The runner: explains a call's requests in batches, calling the engine, and builds each :class:`Explanation`.

Requests of (nearly) equal token length are explained together (:func:`batches`): padded to one length on the
right (attention mask 0), their path rules refine in lockstep and every model call (scalar path passes, gradients,
Hessian-vector products) is shared, ``internal_batch_size`` sequences at a time. Each result equals the
one-at-a-time result up to floating-point rounding (and, for adaptive rules, within their tolerance).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import cast

import numpy as np
import torch

from ..engine.integrated_gradients import integrated_gradients_reduced
from ..engine.integrated_hessians import integrated_hessians_reduced
from ..engine.reduction import ReducedFunction
from ..engine.smoothing import piecewise_linear_activations, smoothing_context
from ..results.explanation import Explanation
from .architectures import forward_embeds
from .baselines import Baseline, ExpectedBaseline, average_over_baselines, make_baseline
from .encoding import EncodedText
from .last_token import pools_last_token
from .model_state import differentiable_attention
from .moe import FrozenRouting, record_routing
from .options import function_name
from .progress import hvp_progress, text_progress
from .requests import Request, Selector, length_buckets
from .rows import SCREEN, is_screen, select_rows
from .run import ExplainRun


def explain_requests(run: ExplainRun, requests: list[Request]) -> list[Explanation]:
    """Explain every request, in groups of (nearly) equal token length (:func:`batches`), returned in the
    requests' order. A progress bar counts them when there are many (``settings.progress``)."""
    results: list[Explanation | None] = [None] * len(requests)
    with text_progress(run.settings.progress, len(requests)) as bar:
        for chunk in batches(run, requests):
            for j, explanation in zip(chunk, explain_group(run, [requests[j] for j in chunk])):
                results[j] = explanation
            if bar is not None:
                bar.update(len(chunk))
    return [r for r in results if r is not None]


def batches(run: ExplainRun, requests: list[Request]) -> list[list[int]]:
    """Indices of ``requests`` in groups that can share model calls.

    Inputs the tokenizer does not pad (e.g. a sequence-to-sequence target's ``decoder_input_ids``) must have one
    shape; token lengths must be within ``max_padding`` (equal lengths when the tokenizer has no pad token, or the
    model pools its last token: nothing is padded by hand). With a mixture-of-experts model's routing held at the
    input (:attr:`ExplainRun.frozen_routing`) each group holds the requests of one input.
    """
    size = max(1, run.settings.text_batch_size)
    if run.frozen_routing:
        inputs: dict[int, list[int]] = {}
        for j, request in enumerate(requests):
            inputs.setdefault(id(request.encoded), []).append(j)
        return [members[i : i + size] for members in inputs.values() for i in range(0, len(members), size)]
    padded_by_tokenizer = set(getattr(run.tokenizer, "model_input_names", ())) | {"input_ids"}
    padding = getattr(run.tokenizer, "pad_token_id", None) is not None and not pools_last_token(run.source)
    max_padding = run.settings.max_padding if padding else 0.0
    kinds: dict[tuple, list[int]] = {}
    for j, request in enumerate(requests):
        key = tuple(
            sorted((k, tuple(v.shape)) for k, v in request.encoded.inputs.items() if k not in padded_by_tokenizer)
        )
        kinds.setdefault(key, []).append(j)
    groups = []
    for members in kinds.values():
        lengths = [requests[j].encoded.num_tokens for j in members]
        groups += [[members[i] for i in bucket] for bucket in length_buckets(lengths, size, max_padding)]
    return groups


def padded_inputs(run: ExplainRun, encs: list[EncodedText]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The tokenizer's inputs of ``encs`` padded on the right to one length ``L`` by the tokenizer's own ``pad``
    (attention mask 0 on padding), and ``(N, L)`` token-to-feature maps (``-1`` on padding)."""
    if len(encs) == 1:
        return encs[0].inputs, encs[0].token_word[None]
    if len({e.num_tokens for e in encs}) == 1:  # nothing to pad (also for tokenizers without a pad token)
        return (
            {k: torch.cat([e.inputs[k] for e in encs]) for k in encs[0].inputs},
            torch.stack([e.token_word for e in encs]),
        )
    length = max(e.num_tokens for e in encs)
    features = [{k: v[0].tolist() for k, v in e.inputs.items()} for e in encs]
    padded = run.tokenizer.pad(features, padding="longest", padding_side="right", return_tensors="pt")
    inputs = {k: torch.as_tensor(v).to(run.device) for k, v in padded.items()}
    token_word = torch.stack(
        [torch.nn.functional.pad(e.token_word, (0, length - e.num_tokens), value=-1) for e in encs]
    )
    return inputs, token_word


@contextlib.contextmanager
def held_routing(run: ExplainRun, inputs: dict[str, torch.Tensor]) -> Iterator[bool]:
    """Within the block, a mixture-of-experts model's experts are held at their choice on ``inputs`` (see
    :mod:`.moe`) when the run asks for it; yields whether they are."""
    routing = record_routing(run.model, dict(inputs)) if run.frozen_routing else []
    if not routing:
        yield False
        return
    with FrozenRouting(routing):
        yield True


def check_precision(run: ExplainRun) -> None:
    """``TypeError`` for a half-precision model: its Hessians are too inexact for completeness to hold."""
    dtype = run.embeddings.weight.dtype
    if dtype in (torch.float16, torch.bfloat16):
        raise TypeError(
            f"the model is in {dtype}: Hessians (and path gradients) in half precision are too inexact for "
            f"completeness to hold. Pass compute_dtype=torch.float32 to the explainer (each call then runs on a "
            f"float32 copy of the weights; the model is not changed), or load the model in float32: "
            f"from_pretrained(..., dtype=torch.float32)."
        )


def explain_group(run: ExplainRun, requests: list[Request]) -> list[Explanation]:
    """Explain several requests at once (see the module docstring)."""
    check_precision(run)
    options = run.options
    encs = [request.encoded for request in requests]
    for enc in encs:
        if not enc.words:
            raise ValueError(f"the input {enc.text!r} has no words to explain (only special tokens)")
    inputs, token_word = padded_inputs(run, encs)
    padded = [
        replace(e, inputs={k: v[j : j + 1] for k, v in inputs.items()}, token_word=token_word[j])
        for j, e in enumerate(encs)
    ]
    baseline = make_baseline(options.baseline, run.tokenizer, run.settings.background)
    pairs = [baseline.embeddings(run, p, e.num_tokens) for p, e in zip(padded, encs)]
    K = pairs[0][1].shape[0]  # baselines per input: K problems each, averaged below
    x = torch.stack([xi for xi, _ in pairs]).repeat_interleave(K, 0)
    x_base = torch.cat([bases for _, bases in pairs])
    token_word = token_word.repeat_interleave(K, 0)
    f = multi_function(run.model, inputs, [request.explained.select for request in requests], K)
    everyone = torch.arange(len(encs), device=run.device)
    values: list[torch.Tensor] = []  # the model's explained values, unsmoothed; this forward finds ReLU-family ops
    with held_routing(run, inputs) as held:
        found = piecewise_linear_activations(lambda: values.append(f(x[::K], everyone * K)))
        model_values = values[0].tolist()
        for request, value in zip(requests, model_values):
            if not np.isfinite(value):
                raise ValueError(
                    f"the explained output ({request.explained.name}) is not finite at the input "
                    f"{request.encoded.text!r}: {value}. Nothing can be attributed to it."
                )
        smooth, smoothing_desc = smoothing_context(options.smoothing, lambda: found)
        reduced = ReducedFunction(f, x, x_base, list(token_word), run.settings.internal_batch_size, multi=True)
        with smooth, differentiable_attention(options.interactions), torch.enable_grad():
            if options.interactions:
                rows = selected_rows(run, requests, reduced, K)
                with hvp_progress(run.settings.progress, sum(len(e.words) for e in encs)) as bar:
                    results = integrated_hessians_reduced(reduced, run.path, rows=rows, progress=bar)
            else:
                results = integrated_gradients_reduced(reduced, run.path)
    if baseline.averaged:
        results = average_over_baselines(results, K, cast(ExpectedBaseline, baseline).kind)  # the averaged one
    explanations = [
        build_explanation(run, request, result, value, baseline, smoothing_desc)
        for request, result, value in zip(requests, results, model_values)
    ]
    if held:
        for explanation in explanations:
            explanation.meta["moe_routing"] = "input"
    return explanations


def selected_rows(run: ExplainRun, requests: list[Request], reduced: ReducedFunction, K: int):
    """The feature rows to compute for each of the ``len(requests) * K`` problems (see :mod:`.rows`), or ``None``
    for full matrices; a number ``k`` is screened by the requests' own Integrated Gradients at the same path
    rule (averaged over the ``K`` baselines)."""
    rows = run.options.rows
    if rows is None:
        return None
    screen = None
    if is_screen(rows):
        attributions = [r.attributions for r in integrated_gradients_reduced(reduced, run.path)]
        screen = [np.mean(attributions[j * K : (j + 1) * K], axis=0) for j in range(len(requests))]
    chosen = [
        select_rows(rows, request.encoded.words, None if screen is None else screen[j])
        for j, request in enumerate(requests)
    ]
    return [features for features in chosen for _ in range(K)]


def build_explanation(
    run: ExplainRun, request: Request, result, model_value: float, baseline: Baseline, smoothing: str | None
) -> Explanation:
    """The one place an :class:`Explanation` is built: from a request and the engine's result for it."""
    enc, explained = request.encoded, request.explained
    config = getattr(run.source, "config", None)
    model_name = getattr(config, "_name_or_path", "") or type(run.source).__name__
    computed = result.computed
    return Explanation(
        text=enc.text,
        words=enc.words,
        offsets=enc.offsets,
        tokens=enc.tokens,
        attributions=result.attributions,
        interactions=result.interactions,
        target=explained.name,
        target_index=explained.index,
        target_kind=explained.kind,
        level=enc.level,
        computed=computed,
        predicted_label=explained.predicted_label,
        predicted_probability=explained.predicted_probability,
        f_input=result.f_input,
        f_baseline=result.f_baseline,
        completeness_error=result.completeness_error,
        steps=result.steps,
        baseline=baseline.description,
        smoothing=smoothing,
        model_value=model_value,
        output=run.options.output_name,
        word_groups=enc.word_groups,
        separator=enc.separator,
        method=result.rule.name,
        meta={
            "task": run.task,
            "model": model_name,
            "scalar_evaluations": result.adaptive.scalar_evaluations if result.adaptive else 0,
            "converged": bool(result.adaptive.converged) if result.adaptive else None,
            **result.meta,
            **(
                {
                    "rows": np.flatnonzero(computed.all(axis=1)).tolist(),
                    **({"row_screen": SCREEN} if is_screen(run.options.rows) else {}),
                }
                if computed is not None
                else {}
            ),
            **request.meta,
        },
    )


def multi_function(
    model: torch.nn.Module, inputs: dict[str, torch.Tensor], selects: list[Selector], per_input: int = 1
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``f(E, problems) -> (B,)``: row ``b`` is input ``problems[b] // per_input`` of the padded ``inputs`` with
    token embeddings ``E[b]`` ``(L, e)``, and its value that input's explained output of ``model``."""
    embeddings = cast(Callable[[], torch.nn.Module], model.get_input_embeddings)()  # a Hugging Face method

    def f(embeds: torch.Tensor, problems: torch.Tensor) -> torch.Tensor:
        problems = problems // per_input
        batch = {k: v[problems] for k, v in inputs.items()}
        ids = batch.pop("input_ids")
        outputs = forward_embeds(model, embeddings, ids, embeds, batch)
        if len(selects) == 1:  # .to: a model split over devices (device_map) answers on its last layer's
            return _one_scalar_per_row(selects[0], outputs, embeds.shape[0]).to(embeds.device)
        y = embeds.new_zeros(embeds.shape[0])
        for j in problems.unique().tolist():
            mask = problems == j
            value = _one_scalar_per_row(selects[j], _output_rows(outputs, mask), int(mask.sum()))
            y = y.index_put((mask.nonzero()[:, 0],), value.to(y.device))
        return y

    return f


def _one_scalar_per_row(select: Selector, outputs, batch: int) -> torch.Tensor:
    """``select(outputs)``, checked to be one scalar per batch row: ``(batch,)`` (``(batch, 1)`` is flattened)."""
    y = select(outputs)
    if isinstance(y, torch.Tensor) and y.dim() == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if not isinstance(y, torch.Tensor) or tuple(y.shape) != (batch,):
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(
            f"the explained output {function_name(select)} gave {got} for a batch of {batch} rows; it "
            f"must give one scalar per batch row, shape ({batch},): e.g. lambda out: out.logits[:, 1] - "
            f"out.logits[:, 0]"
        )
    return y


def _output_rows(outputs, mask: torch.Tensor):
    """The batch rows ``mask`` of a model output (every tensor field with the batch as first dimension)."""
    batch = mask.shape[0]
    kept = {
        k: v[mask.to(v.device)]
        for k, v in outputs.items()
        if isinstance(v, torch.Tensor) and v.dim() and v.shape[0] == batch
    }
    return type(outputs)(**kept)
