"""The task protocol and the explainer base every task builds on: :class:`TextInteractionExplainer`.

A task module (see :mod:`.sequence_classification`) declares:

* ``head``: the model head it needs (``(task in words, transformers mapping name)``), checked once here;
* ``texts``: the names of its text arguments (``("text",)``, ``("question", "context")``, ...), and
  ``per_input``: task arguments that may be given once per input (a causal LM's ``target``);
* ``outputs``: the explained-output names it accepts (the first is its default);
* ``requests(run, ...)``: its arguments for ONE input -> the :class:`~transformers_ih.text.requests.Request` s to
  explain (tokenized input, what to explain, meta), computed with the call's
  :class:`~transformers_ih.text.run.ExplainRun` (its model twin, options and device);
* ``__call__``: written in the task's module with the task's real signature, calling :meth:`explain`;
* optionally ``shape(explanations, requests)``: one input's result (default: the Explanation, or
  ``{request.key: Explanation}``), and for replaying a call (:mod:`transformers_ih.text.replay`)
  ``record_call``, ``replay_features`` and ``is_request_of``.

The base parses the options once, builds the call's run, takes one input or many (:func:`~.requests.as_rows`)
and hands every request to the runner (:mod:`transformers_ih.text.runner`), which batches them, calls the engine
and builds each :class:`Explanation`. The user's model is never changed (:mod:`transformers_ih.text.model_state`).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import torch

from ..engine.path import PathSettings
from ..engine.smoothing import smoothing_for
from ..results.explanation import Explanation
from ..results.validation import INTEGRATED_HESSIANS
from ..text import replay
from ..text.architectures import check_head
from ..text.baselines import BASELINE_TOKENS, make_baseline
from ..text.encoding import EncodedText, check_fast_tokenizer, encode_text, max_input_tokens
from ..text.model_state import check_compute_dtype, differentiable_attention, warn_compute_copy
from ..text.options import DEFAULT, OUTPUT_NAMES, ExplainOptions, function_name
from ..text.removal import attach_removal_checks, check_pairs
from ..text.requests import Request, Selector, as_rows
from ..text.run import ExplainerSettings, ExplainRun
from ..text.runner import explain_requests, multi_function
from ..text.shapley import explain_shapley

__all__ = ["BASELINE_TOKENS", "TextInteractionExplainer", "by_key"]


class TextInteractionExplainer:
    """Base of the task explainers.

    Args:
        model: a Hugging Face model (``get_input_embeddings()`` and ``inputs_embeds=`` are used).
        tokenizer: its fast tokenizer.
        baseline: default baseline: ``"pad"`` (the pad token's embedding at every non-special position; special
            tokens such as [CLS]/[SEP] stay as they are and so get zero), ``"mask"``, ``"unk"``, ``"eos"``,
            ``"bos"``, ``"zero"`` (zero vectors), a token id, or a tensor of shape ``(e,)`` or ``(L, e)``.
            Models without a pad token (GPT-2) default to their EOS token. ``"expected"``: Integrated Hessians
            averaged over the baselines of ``background`` (see :mod:`transformers_ih.text.baselines`).
        background: for ``baseline="expected"``: ``None`` (16 random-token baselines), a number of random-token
            baselines, or a list of texts whose tokens fill the input's word positions (padded with pad).
        smoothing: ``"auto"`` (softplus(beta=20) for ReLU-family activations if the model uses any), a beta,
            or ``None``.
        rtol, atol, max_nodes: the adaptive path rule's tolerance on completeness and node cap.
        internal_batch_size: the most sequences passed through the model at once.
        text_batch_size: for many inputs, how many are explained together (their model calls shared).
        progress: ``None`` (a progress bar for long calls), ``True`` or ``False``.
        features: what a feature is, by default (see :mod:`.features`): ``"word"``, ``"token"``, ``"sentence"``,
            character spans, or a callable ``text -> spans``.
        compute_dtype: ``None`` (run in the model's own dtype), or ``torch.float32`` to explain a float16 / bfloat16
            model: each call runs on a float32 copy of its half-precision weights (4 bytes per parameter while the
            call runs, stated in a :class:`~.model_state.ComputeCopyWarning`); the model is not changed.
            ``torch.float64`` runs a float32 model on a float64 copy (past float32's noise floor).
    """

    #: the head a task needs: (task in words, transformers' MODEL_FOR_..._MAPPING_NAMES); None: any model
    head: ClassVar[tuple[str, str] | None] = None
    #: names of the text arguments of ``requests``: one string each per input
    texts: ClassVar[tuple[str, ...]] = ("text",)
    #: task arguments that may be given once per input (a sequence) or once for all
    per_input: ClassVar[tuple[str, ...]] = ()
    #: the explained-output names the task accepts; the first is its default
    outputs: ClassVar[tuple[str, ...]] = OUTPUT_NAMES
    #: for many inputs: the most padding a batch may add, as a fraction of its real tokens (see
    #: :func:`~transformers_ih.text.requests.length_buckets`); inputs of more different lengths are explained in
    #: separate batches
    max_padding: float = 0.1

    def __init__(
        self,
        model,
        tokenizer,
        *,
        baseline: str | int | torch.Tensor = "pad",
        smoothing: str | float | None = "auto",
        rtol: float = 1e-3,
        atol: float = 1e-4,
        max_nodes: int = 512,
        internal_batch_size: int = 64,
        text_batch_size: int = 16,
        progress: bool | None = None,
        background=None,
        features="word",
        compute_dtype=None,
    ):
        get_embeddings = getattr(model, "get_input_embeddings", None)
        embeddings = get_embeddings() if callable(get_embeddings) else None
        if not isinstance(embeddings, torch.nn.Module):
            raise TypeError(
                f"{type(model).__name__} has no input embeddings (get_input_embeddings() returned "
                f"{type(embeddings).__name__}): word attributions need a model whose first layer is a token "
                f"embedding that can be bypassed with inputs_embeds=, e.g. an AutoModelFor... from transformers."
            )
        check_fast_tokenizer(tokenizer)
        if self.head is not None:
            check_head(model, *self.head)
        self.model = model
        self.tokenizer = tokenizer
        self.baseline = baseline
        self.smoothing = smoothing
        self.rtol, self.atol, self.max_nodes = rtol, atol, max_nodes
        self.internal_batch_size = internal_batch_size
        self.text_batch_size = text_batch_size
        self.progress = progress
        self.background = background
        self.features = features
        self.compute_dtype = check_compute_dtype(compute_dtype)
        warn_compute_copy(model, self.compute_dtype)

    # ------------------------------------------------------------------ the call
    def requests(self, run: ExplainRun, text: str) -> list[Request]:  # pragma: no cover - each task's own
        """The requests for one input (a task's own method)."""
        raise NotImplementedError

    def shape(self, explanations: list[Explanation], requests: list[Request]) -> Any:
        """One input's result from its requests' explanations: the Explanation, or ``{request.key: Explanation}``."""
        return by_key(explanations, requests)

    def settings(self) -> ExplainerSettings:
        """The explainer's settings as a call reads them (its attributes, read once per call)."""
        return ExplainerSettings(
            baseline=self.baseline,
            smoothing=self.smoothing,
            features=self.features,
            background=self.background,
            path=PathSettings(rtol=self.rtol, atol=self.atol, max_nodes=self.max_nodes),
            internal_batch_size=self.internal_batch_size,
            text_batch_size=self.text_batch_size,
            max_padding=self.max_padding,
            progress=self.progress,
            compute_dtype=self.compute_dtype,
            moe_routing=getattr(self, "moe_routing", "path"),
        )

    def start_run(self, options: ExplainOptions) -> ExplainRun:
        """A run for one call with resolved ``options``: a fresh twin of the model and the explainer's settings."""
        return ExplainRun.start(self.model, self.tokenizer, options, self.settings(), type(self).__name__)

    def explain(self, *args, **kwargs) -> Any:
        """What every task's ``__call__`` calls: one input or many, any task (see :data:`OPTIONS_DOC`)."""
        options = self.resolve(ExplainOptions.pop_from(kwargs))
        signature = inspect.signature(self.requests)
        bound = signature.bind(None, *args, **kwargs).arguments
        # arguments left at their default are not recorded (meta["call"] holds what the user chose)
        arguments = {
            name: value
            for name, value in bound.items()
            if name != "run" and value is not signature.parameters[name].default
        }
        texts = {name: arguments.pop(name, None) for name in self.texts}
        per_input = {name: arguments.pop(name) for name in self.per_input if name in arguments}
        many, inputs = as_rows(texts, per_input)
        run = self.start_run(options)
        request_lists = [
            self.recorded(self.requests_of(replace(run, options=opts), one, arguments), one, arguments, opts)
            for one, opts in zip(inputs, _options_per_input(options, many, len(inputs)))
        ]
        flat = [r for requests in request_lists for r in requests]
        explain = explain_requests if options.estimator == INTEGRATED_HESSIANS else explain_shapley
        explanations = explain(run, flat)
        pairs = check_pairs(options.check)
        if pairs is not None:  # the removal check: model rows without gradients, nothing computed above changes
            attach_removal_checks(run, flat, explanations, pairs)
        shape = by_key if options.custom else self.shape  # a user's output: {key: Explanation} when inputs differ
        results, start = [], 0
        for requests in request_lists:
            results.append(shape(explanations[start : start + len(requests)], requests))
            start += len(requests)
        return results if many else results[0]

    def resolve(self, options: ExplainOptions) -> ExplainOptions:
        """``options`` with every ``DEFAULT`` replaced by the explainer's (or the task's) setting, checked."""
        return replace(
            options,
            output=self.outputs[0] if options.output is DEFAULT else options.output,
            baseline=self.baseline if options.baseline is DEFAULT else options.baseline,
            smoothing=self.smoothing if options.smoothing is DEFAULT else options.smoothing,
            features=self.features if options.features is DEFAULT else options.features,
        ).checked(self.outputs)

    def requests_of(self, run: ExplainRun, one: dict, arguments: dict) -> list[Request]:
        """The requests of one input (``one``: its text and per-input arguments; ``arguments``: the rest). With a
        user's output function, one request per distinct model input of the task, explaining that function."""
        output = run.options.output
        if not callable(output):  # not run.options.custom
            return self.requests(run, **one, **arguments)
        # tasks see their default output; the user's function replaces what each request explains
        requests = self.requests(replace(run, options=replace(run.options, output=self.outputs[0])), **one, **arguments)
        name = function_name(output)
        distinct: dict[int, Request] = {}
        for request in requests:
            distinct.setdefault(id(request.encoded), request)
        custom = [
            replace(
                r,
                explained=replace(r.explained, select=output, name=name, kind="custom", index=None),
                meta={**r.meta, "output_function": name},
            )
            for r in distinct.values()
        ]
        if len(custom) == 1:
            custom[0].key = None
        return custom

    def recorded(self, requests: list[Request], one: dict, arguments: dict, options: ExplainOptions) -> list[Request]:
        """``requests`` with ``meta["call"]``: what :meth:`coalition_values` needs to evaluate the explained output
        again (:func:`~transformers_ih.text.replay.call_record`, adjusted per request by :meth:`record_call`)."""
        record = replay.call_record(one, arguments, options, self.background)
        for request in requests:
            request.meta = {**request.meta, "call": self.record_call(request, record)}
        return requests

    # ------------------------------------------------------------------ replaying a call (text.replay)
    def record_call(self, request: Request, call: dict) -> dict:
        """The call record stored with ``request``'s explanation (a task may rewrite it, e.g. a generated target as
        its token ids); default ``call`` unchanged."""
        return call

    def replay_features(self, explanation: Explanation, call: dict) -> Any:
        """The ``features=`` that rebuild ``explanation``'s features from its recorded ``call``."""
        features = call.get("features", DEFAULT)
        if features is None:  # a callable made the spans: they are the explanation's own
            spans = [(int(a), int(b)) for a, b in explanation.offsets]
            if explanation.word_groups is None:
                return spans
            # two texts joined by the separator: each text's spans, in its own characters
            first = call.get("inputs", {}).get(self.texts[0])
            if not isinstance(first, str):
                return DEFAULT
            second = len(first) + len(explanation.separator)
            per_text: list[list[tuple[int, int]]] = [[], []]
            for (a, b), group in zip(spans, explanation.word_groups):
                shift = second if group else 0
                per_text[1 if group else 0].append((a - shift, b - shift))
            return per_text
        return features

    def is_request_of(self, request: Request, explanation: Explanation, custom: bool) -> bool:
        """Whether ``request`` (rebuilt from the recorded call) is the one ``explanation`` explains: the same input
        and words, and the same target unless the output is a user's function (``custom``)."""
        enc, explained = request.encoded, request.explained
        if enc.text != explanation.text or list(enc.words) != list(explanation.words):
            return False
        return custom or (explained.name, explained.index, explained.kind) == (
            explanation.target,
            explanation.target_index,
            explanation.target_kind,
        )

    def coalition_values(
        self, explanation: Explanation, coalitions, *, output=None, baseline=None, smoothing=DEFAULT
    ) -> np.ndarray:
        """The explained output with only some features present, ``(M, W)`` -> ``(M,)``: see
        :func:`transformers_ih.text.replay.coalition_values`."""
        return replay.coalition_values(
            self, explanation, coalitions, output=output, baseline=baseline, smoothing=smoothing
        )

    # ------------------------------------------------------------------ the model outside a call (custom uses)
    def standalone_run(self, interactions: bool = False, **options) -> ExplainRun:
        """A run outside any call (for custom uses of the engine, e.g. benchmarks): default options."""
        return self.start_run(self.resolve(ExplainOptions(interactions=interactions, **options)))

    def encode(self, segments: list[str], **kwargs) -> EncodedText:
        """Tokenize (see :func:`~transformers_ih.text.encoding.encode_text`) with this model's length limit and
        device."""
        device = self.model.get_input_embeddings().weight.device
        limit = max_input_tokens(self.tokenizer, self.model)
        return encode_text(self.tokenizer, segments, device=device, limit=limit, **kwargs)

    def forward(self, enc: EncodedText):
        """The model's own forward pass on the tokenized input (no gradients, its own kernels, the model
        unchanged)."""
        return self.standalone_run().forward(enc)

    def baseline_embeddings(self, enc: EncodedText, baseline, length: int | None = None):
        """``(x, x', description)``: input embeddings ``(L, e)`` and one baseline's embeddings ``(L, e)`` of
        ``enc`` (``length``: its real tokens when ``enc`` is padded). Special tokens (and any token that is not a
        feature) stay at their input embedding in ``x'``."""
        chosen = make_baseline(baseline, self.tokenizer, self.background)
        x, bases = chosen.embeddings(self.standalone_run(), enc, length)
        return x, bases[0], chosen.description

    def scalar_function(self, enc: EncodedText, select: Selector) -> Callable[[torch.Tensor], torch.Tensor]:
        """``f(E) -> (B,)`` for token embeddings ``E`` of shape ``(B, L, e)``: the explained output of the model on
        ``enc``, as explanations compute it, on a twin of the model (for custom uses of the engine, e.g.
        benchmarks; wrap Hessians in :meth:`engine_context`)."""
        f = multi_function(self.standalone_run().model, dict(enc.inputs), [select])
        return lambda embeds: f(embeds, torch.zeros(embeds.shape[0], dtype=torch.long, device=embeds.device))

    def engine_context(
        self, enc: EncodedText, select: Selector, *, interactions: bool = True, smoothing=DEFAULT, function=None
    ):
        """``(context, description)``: what explanations run the engine in for ``select`` on ``enc``:
        differentiable attention (for ``interactions``) and the ReLU smoothing that ``smoothing`` (default the
        explainer's) resolves to on this model, e.g. ``"softplus(beta=20)"``; ``description`` is ``None`` without
        smoothing. ``function``: the caller's :meth:`scalar_function` of the same ``enc`` and ``select``, if it has
        one (its twin finds the model's activations; otherwise one is made)."""
        f = self.scalar_function(enc, select) if function is None else function
        x = self.baseline_embeddings(enc, "zero")[0]
        smooth, desc = smoothing_for(self.smoothing if smoothing is DEFAULT else smoothing, lambda: f(x[None]))

        @contextlib.contextmanager
        def context():  # entered only by the caller's ``with``: nothing is switched on before
            with smooth, differentiable_attention(interactions):
                yield

        return context(), desc


def by_key(explanations: list[Explanation], requests: list[Request]) -> Any:
    """The default shape of one input's result: its Explanation, or ``{request.key: Explanation}`` for several."""
    if len(requests) == 1 and requests[0].key is None:
        return explanations[0]
    return {request.key: e for request, e in zip(requests, explanations)}


def _options_per_input(options: ExplainOptions, many: bool, n: int) -> list[ExplainOptions]:
    """For many inputs, ``features`` given as a list holds one entry per input (character spans differ from text
    to text); otherwise every input shares ``options``."""
    features = options.features
    if not many or features is None or isinstance(features, str) or callable(features):
        return [options] * n
    features = list(features)
    if len(features) != n:
        raise ValueError(
            f"features for {n} inputs must be a level ('word', 'token', 'sentence'), a callable "
            f"text -> spans, or a list with one entry (spans) per input; got {len(features)} entries"
        )
    return [replace(options, features=f) for f in features]
