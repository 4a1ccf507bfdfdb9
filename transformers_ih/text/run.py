"""One explanation call's state, built once per call and passed explicitly: :class:`ExplainRun`.

A call never runs the user's model itself: it runs a *twin* (:func:`~.model_state.explainable_model`), a copy of
the module tree on the same parameter storage, frozen, in eval mode, with a twice-differentiable attention when
interactions are asked for. The run holds that twin, the call's resolved options and the explainer's settings, so
nothing a call needs lives in ambient (thread-local) state: two threads explaining at once each hold their own run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import torch

from ..engine.path import PathSettings
from .encoding import EncodedText, encode_text, max_input_tokens
from .model_state import explainable_model
from .moe import is_moe
from .options import ExplainOptions


@dataclass(frozen=True)
class ExplainerSettings:
    """An explainer's constructor settings, as one call reads them (see
    :class:`~transformers_ih.tasks.base.TextInteractionExplainer` for each one's meaning).

    Attributes:
        baseline, smoothing, features: the explainer's defaults for the per-call options of the same names.
        background: for ``baseline="expected"``: ``None``, a number of random-token baselines, or texts.
        path: the adaptive path rule's tolerance and node cap (``steps`` / ``method`` come per call).
        internal_batch_size: the most sequences passed through the model at once (rows of one model call).
        text_batch_size: how many inputs are explained together (their model calls shared).
        max_padding: for many inputs, the most padding a batch may add, as a fraction of its real tokens.
        progress: ``None`` (a bar for long calls), ``True`` or ``False``.
        compute_dtype: ``None`` (the model's own dtype), ``torch.float32`` or ``torch.float64``.
        moe_routing: ``"input"`` (experts held at the input's choice along the path) or ``"path"``.
    """

    baseline: Any = "pad"
    smoothing: Any = "auto"
    features: Any = "word"
    background: Any = None
    path: PathSettings = field(default_factory=PathSettings)
    internal_batch_size: int = 64
    text_batch_size: int = 16
    max_padding: float = 0.1
    progress: bool | None = None
    compute_dtype: torch.dtype | None = None
    moe_routing: str = "path"


@dataclass
class ExplainRun:
    """The state of one call: the model twin it runs, the resolved options and the explainer's settings.

    Attributes:
        model: the twin this call runs (never the user's model; see the module docstring).
        source: the user's model: read for its config and name, never run or changed.
        tokenizer: the explainer's fast tokenizer.
        options: the call's options, every ``DEFAULT`` resolved (:meth:`ExplainOptions.check` passed).
        settings: the explainer's settings.
        task: the task explainer's class name (recorded in each explanation's ``meta["task"]``).
    """

    model: torch.nn.Module
    source: torch.nn.Module
    tokenizer: Any
    options: ExplainOptions
    settings: ExplainerSettings
    task: str
    _generator: torch.nn.Module | None = field(default=None, repr=False)

    @classmethod
    def start(
        cls, source: torch.nn.Module, tokenizer, options: ExplainOptions, settings: ExplainerSettings, task: str
    ) -> ExplainRun:
        """A run on a fresh twin of ``source``: second-order attention when ``options.interactions``."""
        twin = explainable_model(source, options.interactions, settings.compute_dtype)
        return cls(twin, source, tokenizer, options, settings, task)

    @property
    def embeddings(self) -> torch.nn.Module:
        """The twin's input embedding layer (token ids ``(B, L)`` -> embeddings ``(B, L, e)``)."""
        return cast(Callable[[], torch.nn.Module], self.model.get_input_embeddings)()  # a Hugging Face method

    @property
    def device(self) -> torch.device:
        """Where the embeddings live: every input tensor of the run is put there."""
        return cast(torch.Tensor, self.embeddings.weight).device

    @property
    def path(self) -> PathSettings:
        """The call's path rule: the explainer's tolerance and node cap with the call's ``steps`` / ``method``."""
        return PathSettings(
            steps=self.options.steps,
            method=self.options.method,
            rtol=self.settings.path.rtol,
            atol=self.settings.path.atol,
            max_nodes=self.settings.path.max_nodes,
        )

    @property
    def frozen_routing(self) -> bool:
        """Whether a mixture-of-experts model's routing is held at the input's choice (see :mod:`.moe`)."""
        return self.settings.moe_routing == "input" and is_moe(self.source)

    def encode(self, segments: list[str], **kwargs) -> EncodedText:
        """Tokenize ``segments`` (see :func:`~.encoding.encode_text`) with the model's length limit, on the run's
        device."""
        return encode_text(
            self.tokenizer, segments, device=self.device, limit=max_input_tokens(self.tokenizer, self.source), **kwargs
        )

    def forward(self, enc: EncodedText):
        """The twin's own forward pass on the tokenized input (no gradients, its own kernels)."""
        with torch.no_grad():
            return self.model(**enc.inputs)

    def generator(self) -> torch.nn.Module:
        """The model ``generate()`` runs: as loaded (its own dtype), in eval mode, sharing its weights: the run's
        twin, or (with ``compute_dtype``, whose twin holds copies) a twin in the model's own dtype, made once per
        run."""
        if self.settings.compute_dtype is None:
            return self.model
        if self._generator is None:
            self._generator = explainable_model(self.source, False)
        return self._generator
