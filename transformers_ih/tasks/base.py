"""The base that owns every task explainer's call.

A task (see :mod:`.sequence_classification`) declares only:

* ``head``: the model head it needs (``(task words, transformers mapping name)``), checked once here;
* ``texts``: the names of its text arguments (``("text",)``, ``("question", "context")``, ...), and
  ``per_input``: task arguments that may be given once per input (a causal LM's ``target``);
* ``outputs``: the explained-output names it accepts (the first is its default);
* ``jobs(...)``: its arguments for ONE input -> the :class:`~.jobs.Job` s to explain (tokenized input, what to
  explain, meta). Its signature, plus the options of :class:`~.options.ExplainOptions`, is the explainer's
  ``__call__`` signature;
* optionally ``shape(explanations, jobs)``: one input's result (default: the Explanation, or ``{job.key: ...}``).

The base parses the options once, takes one input or many (:func:`~.jobs.as_rows`), batches every job of every
input (length buckets, shared model calls), runs the engine, and builds each :class:`Explanation` in one place.
The user's model is never changed (:mod:`.model_state`), also when several threads explain at once.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from dataclasses import fields, replace
from typing import Callable, ClassVar

import numpy as np
import torch

from ..engine.integrated_gradients import integrated_gradients_reduced
from ..engine.integrated_hessians import integrated_hessians_reduced
from ..engine.reduction import ReducedFunction
from ..engine.smoothing import piecewise_linear_activations, smoothing_context
from ..results.explanation import Explanation
from ..text.architectures import check_head, forward_embeds
from ..text.replay import CoalitionValues, call_record
from ..text.baselines import average_over_baselines, expected_baselines, is_expected
from ..text.requests import Job, Selector, as_rows, is_many, length_buckets
from ..text.last_token import pools_last_token
from ..text.model_state import check_compute_dtype, differentiable_attention, explainable_model, warn_compute_copy
from ..text.options import DEFAULT, OPTIONS_DOC, OUTPUT_NAMES, ExplainOptions, function_name
from ..text.progress import hvp_progress, text_progress
from ..text.rows import SCREEN, is_screen, select_rows
from ..text.encoding import EncodedText, check_fast_tokenizer, encode_text, max_input_tokens

BASELINE_TOKENS = ("pad", "mask", "unk", "eos", "bos")

is_text_collection = is_many  # the name earlier versions exported


class TextInteractionExplainer(CoalitionValues):
    """Base of the task explainers.

    Args:
        model: a Hugging Face model (``get_input_embeddings()`` and ``inputs_embeds=`` are used).
        tokenizer: its fast tokenizer.
        baseline: default baseline: ``"pad"`` (the pad token's embedding at every non-special position; special
            tokens such as [CLS]/[SEP] stay as they are and so get zero), ``"mask"``, ``"unk"``, ``"eos"``,
            ``"bos"``, ``"zero"`` (zero vectors), a token id, or a tensor of shape ``(e,)`` or ``(L, e)``.
            Models without a pad token (GPT-2) default to their EOS token. ``"expected"``: Integrated Hessians
            averaged over the baselines of ``background`` (see :mod:`.expected_baseline`).
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
    #: names of the text arguments of ``jobs``: one string each per input
    texts: ClassVar[tuple[str, ...]] = ("text",)
    #: task arguments that may be given once per input (a sequence) or once for all
    per_input: ClassVar[tuple[str, ...]] = ()
    #: the explained-output names the task accepts; the first is its default
    outputs: ClassVar[tuple[str, ...]] = OUTPUT_NAMES
    #: for many inputs: the most padding a batch may add, as a fraction of its real tokens (see
    #: :func:`~.jobs.length_buckets`); inputs of more different lengths are explained in separate batches
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
        self._local = threading.local()  # the model this thread's current call runs (the user's, or a private copy)

    # ------------------------------------------------------------------ the call
    def __init_subclass__(cls, **kwargs):
        """Give each task a ``__call__`` whose signature and docstring are its ``jobs``' plus the options."""
        super().__init_subclass__(**kwargs)
        jobs = cls.__dict__.get("jobs")
        if jobs is None:
            return
        own = [p for name, p in inspect.signature(jobs).parameters.items() if name not in ("self", "options")]
        options = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default)
                   for f in fields(ExplainOptions)]
        positional = [p for p in own if p.kind != inspect.Parameter.KEYWORD_ONLY]
        keyword = [p for p in own if p.kind == inspect.Parameter.KEYWORD_ONLY]
        self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)

        def __call__(self, *args, **kwargs):
            return self.explain(*args, **kwargs)

        __call__.__signature__ = inspect.Signature([self_param, *positional, *keyword, *options])
        __call__.__doc__ = (inspect.getdoc(jobs) or "") + "\n" + OPTIONS_DOC
        __call__.__qualname__ = f"{cls.__qualname__}.__call__"
        cls.__call__ = __call__

    def jobs(self, text: str, *, options: ExplainOptions) -> list[Job]:  # pragma: no cover - each task's own
        """The jobs for one input (a task's own method)."""
        raise NotImplementedError

    def shape(self, explanations: list[Explanation], jobs: list[Job]):
        """One input's result from its jobs' explanations: the Explanation, or ``{job.key: Explanation}``."""
        return by_key(explanations, jobs)

    def explain(self, *args, **kwargs):
        """The one entry point (what ``explainer(...)`` calls): one input or many, any task."""
        options = self.resolve(ExplainOptions.pop_from(kwargs))
        arguments = inspect.signature(self.jobs).bind(*args, options=options, **kwargs).arguments
        arguments.pop("options")
        texts = {name: arguments.pop(name) for name in self.texts}
        per_input = {name: arguments.pop(name) for name in self.per_input if name in arguments}
        many, rows = as_rows(texts, per_input)
        row_options = self._options_per_row(options, many, len(rows))
        self._local.model = explainable_model(self.model, options.interactions, self.compute_dtype)
        try:
            job_lists = [self._record_call(self._jobs_of(row, arguments, opts), row, arguments, opts)
                         for row, opts in zip(rows, row_options)]
            explanations = self.explain_jobs([job for jobs in job_lists for job in jobs], options)
        finally:
            self._local.model = None
        # a user's output: the Explanation, or {key: Explanation} when the task's inputs differ (zero-shot labels)
        shape = by_key if options.custom else self.shape
        results, start = [], 0
        for jobs in job_lists:
            results.append(shape(explanations[start : start + len(jobs)], jobs))
            start += len(jobs)
        return results if many else results[0]

    def resolve(self, options: ExplainOptions) -> ExplainOptions:
        """``options`` with every ``DEFAULT`` replaced by the explainer's (or the task's) setting, checked."""
        return replace(
            options,
            output=self.outputs[0] if options.output is DEFAULT else options.output,
            baseline=self.baseline if options.baseline is DEFAULT else options.baseline,
            smoothing=self.smoothing if options.smoothing is DEFAULT else options.smoothing,
            features=self.features if options.features is DEFAULT else options.features,
        ).check(self.outputs)

    @staticmethod
    def _options_per_row(options: ExplainOptions, many: bool, n: int) -> list[ExplainOptions]:
        """For many inputs, ``features`` given as a list holds one entry per input (character spans differ from
        text to text); otherwise every input shares ``options``."""
        features = options.features
        if not many or features is None or isinstance(features, str) or callable(features):
            return [options] * n
        features = list(features)
        if len(features) != n:
            raise ValueError(f"features for {n} inputs must be a level ('word', 'token', 'sentence'), a callable "
                             f"text -> spans, or a list with one entry (spans) per input; got {len(features)} entries")
        return [replace(options, features=f) for f in features]

    def _jobs_of(self, row: dict, arguments: dict, options: ExplainOptions) -> list[Job]:
        if not options.custom:
            return self.jobs(**row, **arguments, options=options)
        # tasks see their default output; the user's function replaces what each job explains
        jobs = self.jobs(**row, **arguments, options=replace(options, output=self.outputs[0]))
        # a user's output: one job per distinct model input (e.g. zero-shot: one per label's pair)
        name = function_name(options.output)
        distinct: dict[int, Job] = {}
        for job in jobs:
            distinct.setdefault(id(job.encoded), job)
        custom = [replace(job, explained=replace(job.explained, select=options.output, name=name, kind="custom",
                                                 index=None),
                          meta={**job.meta, "output_function": name})
                  for job in distinct.values()]
        if len(custom) == 1:
            custom[0].key = None
        return custom

    def _record_call(self, jobs: list[Job], row: dict, arguments: dict, options: ExplainOptions) -> list[Job]:
        """``jobs`` with ``meta["call"]``: what :meth:`coalition_values` needs to evaluate the explained output again
        (see :func:`call_record`)."""
        record = call_record(row, arguments, options, self.background)
        for job in jobs:
            job.meta = {**job.meta, "call": record}
        return jobs

    # ------------------------------------------------------------------ inputs
    @property
    def embeddings(self) -> torch.nn.Module:
        return self.active_model.get_input_embeddings()

    @property
    def active_model(self) -> torch.nn.Module:
        """The model this thread's current call runs: the user's model, or a private copy of it (see
        :mod:`.model_state`)."""
        return getattr(self._local, "model", None) or self.model

    @property
    def device(self) -> torch.device:
        return self.embeddings.weight.device

    def _check_precision(self) -> None:
        dtype = self.embeddings.weight.dtype
        if dtype in (torch.float16, torch.bfloat16):
            raise TypeError(
                f"the model is in {dtype}: Hessians (and path gradients) in half precision are too inexact for "
                f"completeness to hold. Pass compute_dtype=torch.float32 to the explainer (each call then runs on a "
                f"float32 copy of the weights; the model is not changed), or load the model in float32: "
                f"from_pretrained(..., dtype=torch.float32)."
            )

    def encode(self, segments: list[str], **kwargs) -> EncodedText:
        """Tokenize (see :func:`~.text_inputs.encode_text`) with this model's length limit and device."""
        return encode_text(self.tokenizer, segments, device=self.device,
                           limit=max_input_tokens(self.tokenizer, self.model), **kwargs)

    def forward(self, enc: EncodedText):
        """The model's own forward pass on the tokenized input (no gradients, its own kernels)."""
        with torch.no_grad():
            return self.active_model(**enc.inputs)

    def _baseline_token_id(self, name: str) -> tuple[int, str]:
        """The token id of baseline ``name`` and its description; ``"pad"`` falls back to the EOS token, then UNK,
        for tokenizers without a pad token (GPT-2), described as e.g. ``"eos (no pad token)"``."""
        tok = self.tokenizer
        order = {"pad": ("pad", "eos", "unk")}.get(name, (name,))
        for candidate in order:
            token_id = getattr(tok, f"{candidate}_token_id", None)
            if token_id is not None:
                return int(token_id), candidate if candidate == name else f"{candidate} (no {name} token)"
        raise ValueError(
            f"baseline={name!r}: the tokenizer has no {name} token. Pass another baseline: one of "
            f"{BASELINE_TOKENS + ('zero',)}, a token id, or a tensor."
        )

    def _baseline_tensor(self, baseline: torch.Tensor, x: torch.Tensor, length: int) -> torch.Tensor:
        """A user's baseline tensor, ``(e,)`` or ``(length, e)``, checked and laid over ``x`` ``(L >= length, e)``."""
        e = x.shape[1]
        if tuple(baseline.shape) not in ((e,), (length, e)):
            raise ValueError(f"baseline tensor has shape {tuple(baseline.shape)}; expected ({e},) (one embedding for "
                             f"every position) or ({length}, {e}) (one per token of this {length}-token input)")
        if not bool(torch.isfinite(baseline).all()):
            bad = int((~torch.isfinite(baseline)).sum())
            raise ValueError(f"baseline tensor has {bad} non-finite entries (NaN or inf): pass a finite baseline")
        base = baseline.to(device=x.device, dtype=x.dtype)
        if base.dim() == 1:
            return base.expand_as(x)
        return torch.cat([base, x[length:]])  # positions past the input (padding) are held at x anyway

    def baseline_embeddings(self, enc: EncodedText, baseline, length: int | None = None):
        """``(x, x', description)``: input embeddings ``(L, e)`` and baseline embeddings ``(L, e)`` of ``enc``
        (``length``: its real tokens when ``enc`` is padded).

        Special tokens (and any token that is not a feature) stay at their input embedding in ``x'``.
        """
        length = enc.num_tokens if length is None else length
        with torch.no_grad():
            ids = enc.input_ids
            x = self.embeddings(ids)[0]
            keep = (enc.token_word < 0)[:, None]
            if isinstance(baseline, torch.Tensor):
                base, desc = self._baseline_tensor(baseline, x, length), "tensor"
            elif isinstance(baseline, str) and baseline == "zero":
                base, desc = torch.zeros_like(x), "zero"
            elif isinstance(baseline, int) and not isinstance(baseline, bool):
                vocab = self.embeddings.weight.shape[0]
                if not 0 <= baseline < vocab:
                    raise ValueError(f"baseline token id {baseline} is outside the vocabulary (0..{vocab - 1})")
                base = self.embeddings(torch.full_like(ids, baseline))[0]
                desc = f"token:{baseline}"
            elif isinstance(baseline, str) and baseline in BASELINE_TOKENS:
                token_id, desc = self._baseline_token_id(baseline)
                base = self.embeddings(torch.full_like(ids, token_id))[0]
            else:
                raise ValueError(
                    f"unknown baseline {baseline!r}; expected one of {BASELINE_TOKENS + ('zero', 'expected')}, a "
                    f"token id or a tensor"
                )
            return x, torch.where(keep, x, base), desc

    def scalar_function(self, enc: EncodedText, select: Selector) -> Callable[[torch.Tensor], torch.Tensor]:
        """``f(E) -> (B,)`` for word embeddings ``E`` of shape ``(B, L, e)``: the explained output of the model on
        ``enc``, as explanations compute it, on a twin of the model (for custom uses of the engine, e.g.
        benchmarks; wrap Hessians in :meth:`engine_context`)."""
        f = self._multi_function(dict(enc.inputs), [select],
                                 model=explainable_model(self.model, compute_dtype=self.compute_dtype))
        return lambda embeds: f(embeds, torch.zeros(embeds.shape[0], dtype=torch.long, device=embeds.device))

    def engine_context(self, enc: EncodedText, select: Selector, *, interactions: bool = True, smoothing=DEFAULT,
                       function=None):
        """``(context, description)``: what explanations run the engine in for ``select`` on ``enc``:
        differentiable attention (for ``interactions``) and the ReLU smoothing that ``smoothing`` (default the
        explainer's) resolves to on this model, e.g. ``"softplus(beta=20)"``; ``description`` is ``None`` without
        smoothing. ``function``: the caller's :meth:`scalar_function` of the same ``enc`` and ``select``, if it has
        one (its twin finds the model's activations; otherwise one is made)."""
        f = self.scalar_function(enc, select) if function is None else function
        x = self.baseline_embeddings(enc, "zero")[0]
        found = piecewise_linear_activations(lambda: f(x[None]))
        smooth, desc = smoothing_context(self.smoothing if smoothing is DEFAULT else smoothing, lambda: found)

        @contextlib.contextmanager
        def context():  # entered only by the caller's ``with``: nothing is switched on before
            with smooth, differentiable_attention(interactions):
                yield

        return context(), desc

    # ------------------------------------------------------------------ the explanations
    def explain_jobs(self, jobs: list[Job], options: ExplainOptions) -> list[Explanation]:
        """Explain every job, in groups of at most ``text_batch_size`` of (nearly) equal token length (see
        :func:`~.jobs.length_buckets`), returned in the jobs' order. A progress bar counts them when there are
        many (``progress``)."""
        results: list[Explanation | None] = [None] * len(jobs)
        with text_progress(self.progress, len(jobs)) as bar:
            for chunk in self._batches(jobs):
                for j, explanation in zip(chunk, self._explain_group([jobs[j] for j in chunk], options)):
                    results[j] = explanation
                if bar is not None:
                    bar.update(len(chunk))
        return results

    def _batches(self, jobs: list[Job]) -> list[list[int]]:
        """Indices of ``jobs`` in groups that can share model calls: inputs the tokenizer does not pad (e.g. a
        sequence-to-sequence target's ``decoder_input_ids``) of one shape, and token lengths within
        :attr:`max_padding` (equal lengths when the tokenizer has no pad token: nothing is padded by hand)."""
        padded_by_tokenizer = set(getattr(self.tokenizer, "model_input_names", ())) | {"input_ids"}
        padding = getattr(self.tokenizer, "pad_token_id", None) is not None and not pools_last_token(self.model)
        max_padding = self.max_padding if padding else 0.0  # (see .last_token: GPT-2-style classifiers are never padded)
        kinds: dict[tuple, list[int]] = {}
        for j, job in enumerate(jobs):
            key = tuple(sorted((k, tuple(v.shape)) for k, v in job.encoded.inputs.items() if k not in padded_by_tokenizer))
            kinds.setdefault(key, []).append(j)
        groups = []
        for members in kinds.values():
            buckets = length_buckets([jobs[j].encoded.num_tokens for j in members], self.text_batch_size, max_padding)
            groups += [[members[i] for i in bucket] for bucket in buckets]
        return groups

    def _padded(self, encs: list[EncodedText]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The tokenizer's inputs of ``encs`` padded on the right to one length by the tokenizer's own ``pad``
        (attention mask 0 on padding), and ``(N, L)`` token-to-word maps (``-1`` on padding)."""
        if len(encs) == 1:
            return encs[0].inputs, encs[0].token_word[None]
        if len({e.num_tokens for e in encs}) == 1:  # nothing to pad (also for tokenizers without a pad token)
            return ({k: torch.cat([e.inputs[k] for e in encs]) for k in encs[0].inputs},
                    torch.stack([e.token_word for e in encs]))
        length = max(e.num_tokens for e in encs)
        features = [{k: v[0].tolist() for k, v in e.inputs.items()} for e in encs]
        padded = self.tokenizer.pad(features, padding="longest", padding_side="right", return_tensors="pt")
        inputs = {k: torch.as_tensor(v).to(self.device) for k, v in padded.items()}
        token_word = torch.stack([torch.nn.functional.pad(e.token_word, (0, length - e.num_tokens), value=-1)
                                  for e in encs])
        return inputs, token_word

    def _explain_group(self, jobs: list[Job], options: ExplainOptions) -> list[Explanation]:
        """Explain several jobs at once: padded to one length (right side, attention mask 0), their path rules
        refine in lockstep and all model calls (scalar path passes, gradients, Hessian-vector products) are
        shared, ``internal_batch_size`` sequences at a time. Each result equals the one-at-a-time result up to
        floating-point rounding (and, for adaptive rules, within their tolerance)."""
        self._check_precision()
        encs = [job.encoded for job in jobs]
        for enc in encs:
            if not enc.words:
                raise ValueError(f"the input {enc.text!r} has no words to explain (only special tokens)")
        inputs, token_word = self._padded(encs)
        padded = [replace(e, inputs={k: v[j : j + 1] for k, v in inputs.items()}, token_word=token_word[j])
                  for j, e in enumerate(encs)]
        K = 1
        if is_expected(options.baseline):  # K baselines per input: K problems each, averaged below
            sets = [expected_baselines(self, e, self.background) for e in padded]
            K = sets[0][1].shape[0]
            pairs = [(xi, bases, f"expected(n={K})") for xi, bases, _ in sets]
            x = torch.stack([p[0] for p in pairs]).repeat_interleave(K, 0)
            x_base, token_word = torch.cat([p[1] for p in pairs]), token_word.repeat_interleave(K, 0)
        else:
            pairs = [self.baseline_embeddings(p, options.baseline, e.num_tokens) for p, e in zip(padded, encs)]
            x, x_base = torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])
        f = self._multi_function(inputs, [job.explained.select for job in jobs], K)
        everyone = torch.arange(len(encs), device=self.device)
        values = []  # the model's explained values, unsmoothed; the same forward detects ReLU-family ops
        found = piecewise_linear_activations(lambda: values.append(f(x[::K], everyone * K)))
        model_values = values[0].tolist()
        for job, value in zip(jobs, model_values):
            if not np.isfinite(value):
                raise ValueError(f"the explained output ({job.explained.name}) is not finite at the input "
                                 f"{job.encoded.text!r}: {value}. Nothing can be attributed to it.")
        smooth, smoothing_desc = smoothing_context(options.smoothing, lambda: found)
        reduced = ReducedFunction(f, x, x_base, list(token_word), self.internal_batch_size, multi=True)
        path = dict(steps=options.steps, method=options.method, rtol=self.rtol, atol=self.atol,
                    max_nodes=self.max_nodes)
        with smooth, differentiable_attention(options.interactions), torch.enable_grad():
            if options.interactions:
                rows = self._rows(jobs, options, reduced, path, K)
                with hvp_progress(self.progress, sum(len(e.words) for e in encs)) as bar:
                    results = integrated_hessians_reduced(reduced, progress=bar, rows=rows, **path)
            else:
                results = integrated_gradients_reduced(reduced, **path)
        if is_expected(options.baseline):
            results = average_over_baselines(results, K, sets[0][2])
        return [self._explanation(job, result, value, desc, smoothing_desc, options)
                for job, result, value, (_, _, desc) in zip(jobs, results, model_values, pairs)]

    @staticmethod
    def _rows(jobs: list[Job], options: ExplainOptions, reduced: ReducedFunction, path: dict, K: int):
        """The feature rows to compute for each problem (see :mod:`.rows`), or ``None`` for full matrices; a number
        ``k`` is screened by the jobs' own Integrated Gradients at the same path rule."""
        if options.rows is None:
            return None
        screen = None
        if is_screen(options.rows):
            attributions = [r.attributions for r in integrated_gradients_reduced(reduced, **path)]
            screen = [np.mean(attributions[j * K : (j + 1) * K], axis=0) for j in range(len(jobs))]
        chosen = [select_rows(options.rows, job.encoded.words, None if screen is None else screen[j])
                  for j, job in enumerate(jobs)]
        return [rows for rows in chosen for _ in range(K)]

    def _explanation(self, job: Job, result, model_value: float, baseline: str, smoothing: str | None,
                     options: ExplainOptions) -> Explanation:
        """The one place an :class:`Explanation` is built from a job and the engine's result."""
        enc, explained = job.encoded, job.explained
        config = getattr(self.model, "config", None)
        model_name = getattr(config, "_name_or_path", "") or type(self.model).__name__
        return Explanation(
            text=enc.text,
            words=enc.words,
            offsets=enc.offsets,
            tokens=enc.tokens,
            attributions=result.attributions,
            interactions=getattr(result, "interactions", None),
            target=explained.name,
            target_index=explained.index,
            target_kind=explained.kind,
            level=enc.level,
            computed=getattr(result, "computed", None),
            predicted_label=explained.predicted_label,
            predicted_probability=explained.predicted_probability,
            f_input=result.f_input,
            f_baseline=result.f_baseline,
            completeness_error=result.completeness_error,
            steps=result.steps,
            baseline=baseline,
            smoothing=smoothing,
            model_value=model_value,
            output=options.output_name,
            word_groups=enc.word_groups,
            separator=enc.separator,
            method=result.rule.name,
            meta={
                "task": type(self).__name__,
                "model": model_name,
                "scalar_evaluations": result.adaptive.scalar_evaluations if result.adaptive else 0,
                "converged": bool(result.adaptive.converged) if result.adaptive else None,
                **getattr(result, "meta", {}),
                **({"rows": np.flatnonzero(result.computed.all(axis=1)).tolist(),
                    **({"row_screen": SCREEN} if is_screen(options.rows) else {})}
                   if getattr(result, "computed", None) is not None else {}),
                **job.meta,
            },
        )

    def _multi_function(self, inputs: dict[str, torch.Tensor], selects: list[Selector], per_input: int = 1,
                        model: torch.nn.Module | None = None):
        """``f(E, problems) -> (B,)``: row ``b`` is input ``problems[b] // per_input`` (of the padded ``inputs``)
        with word embeddings ``E[b]``, and its value that input's explained output (of ``model``, default the
        current call's twin)."""
        model = self.active_model if model is None else model
        embeddings = model.get_input_embeddings()

        def f(embeds: torch.Tensor, problems: torch.Tensor) -> torch.Tensor:
            problems = problems // per_input
            rows = {k: v[problems] for k, v in inputs.items()}
            ids = rows.pop("input_ids")
            outputs = forward_embeds(model, embeddings, ids, embeds, rows)
            if len(selects) == 1:  # .to: a model split over devices (device_map) answers on its last layer's
                return _scalar_rows(selects[0], outputs, embeds.shape[0]).to(embeds.device)
            y = embeds.new_zeros(embeds.shape[0])
            for j in problems.unique().tolist():
                mask = problems == j
                y = y.index_put((mask.nonzero()[:, 0],), _scalar_rows(selects[j], _rows_of(outputs, mask),
                                                                      int(mask.sum())).to(y.device))
            return y

        return f


def by_key(explanations: list[Explanation], jobs: list[Job]):
    """The default shape of one input's result: its Explanation, or ``{job.key: Explanation}`` for several jobs."""
    if len(jobs) == 1 and jobs[0].key is None:
        return explanations[0]
    return {job.key: e for job, e in zip(jobs, explanations)}


def _scalar_rows(select: Selector, outputs, rows: int) -> torch.Tensor:
    """``select(outputs)``, checked to be one scalar per row: ``(rows,)`` (a ``(rows, 1)`` result is flattened)."""
    y = select(outputs)
    if isinstance(y, torch.Tensor) and y.dim() == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if not isinstance(y, torch.Tensor) or tuple(y.shape) != (rows,):
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"the explained output {function_name(select)} gave {got} for a batch of {rows} rows; it must "
                         f"give one scalar per batch row, shape ({rows},): e.g. lambda out: out.logits[:, 1] - "
                         f"out.logits[:, 0]")
    return y


def _rows_of(outputs, mask: torch.Tensor):
    """The rows ``mask`` of a model output (every tensor field with the batch as first dimension)."""
    batch = mask.shape[0]
    fields_ = {k: v[mask.to(v.device)] for k, v in outputs.items()
               if isinstance(v, torch.Tensor) and v.dim() and v.shape[0] == batch}
    return type(outputs)(**fields_)
