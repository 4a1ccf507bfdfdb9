"""``baseline="expected"`` for the text explainers: Integrated Hessians averaged over several baselines
(Expected Hessians with a finite background).

What a baseline is for text must be defined per input: the explained input has ``L`` tokens, of which some are
word tokens (features) and the rest special tokens ([CLS], [SEP], ...), which always keep their embeddings.
A background gives ``K`` baselines, each an ``(L, e)`` embedding matrix:

* ``background=None`` or an integer ``K`` (default 16): **random token baselines**: every word-token position
  gets a token drawn uniformly from the vocabulary without the special tokens, independently per position and
  per baseline (seeded, so results are reproducible). The expectation is over "any other words in these
  positions".
* ``background=[text, ...]``: **background texts**: each text's tokens (no special tokens) fill the explained
  input's word-token positions in order, cut at the input's length and padded with the pad token when
  shorter. One baseline per text.

The explanation is the exact average over the ``K`` baselines of each baseline's Integrated Hessians (each
path by the explainer's adaptive rule): attributions add up to ``f(x) - mean_k f(x'_k)`` (``f_baseline`` is
that mean), and ``Explanation.baseline`` reads ``"expected(n=K)"``. ``meta`` holds the standard errors of the
attributions and interactions over the ``K`` baselines (spread / sqrt(K)): how much the explanation would move
with another draw of baselines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from ..engine.results import PathResult
from ..engine.results import average_over_baselines as average_path_results

if TYPE_CHECKING:
    from .encoding import EncodedText
    from .run import ExplainRun

DEFAULT_RANDOM_BASELINES = 16

#: the baselines named after a token of the tokenizer
BASELINE_TOKENS = ("pad", "mask", "unk", "eos", "bos")


class Baseline:
    """What an explanation integrates from: for a tokenized input, its embeddings ``x`` ``(L, e)`` and ``K``
    baselines ``x'`` ``(K, L, e)``. Tokens that are not features (special tokens, held tokens) keep their input
    embedding in every baseline, so they get zero attribution. ``K`` is 1 but for :class:`ExpectedBaseline`; the
    runner averages the ``K`` explanations of one input in one place (:attr:`averaged`).

    Attributes:
        description: what ``Explanation.baseline`` reads, e.g. ``"pad"``, ``"token:5"``, ``"expected(n=16)"``.
        averaged: whether the explanation is the average over the ``K`` baselines (``baseline="expected"``).
    """

    description: str = ""
    averaged: bool = False

    def embeddings(
        self, run: ExplainRun, enc: EncodedText, length: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x (L, e), x' (K, L, e))`` of ``enc`` (``length``: its real tokens when ``enc`` is padded)."""
        length = enc.num_tokens if length is None else length
        with torch.no_grad():
            x = run.embeddings(enc.input_ids)[0]
            bases = self._bases(run, enc, x, length)
        keep = (enc.token_word < 0)[None, :, None]
        return x, torch.where(keep, x[None], bases)

    def _bases(self, run: ExplainRun, enc: EncodedText, x: torch.Tensor, length: int) -> torch.Tensor:
        raise NotImplementedError


def baseline_token_id(tokenizer, name: str) -> tuple[int, str]:
    """The token id of baseline ``name`` (one of :data:`BASELINE_TOKENS`) and its description; ``"pad"`` falls back
    to the EOS token, then UNK, for tokenizers without a pad token (GPT-2), described as e.g. ``"eos (no pad
    token)"``."""
    order = {"pad": ("pad", "eos", "unk")}.get(name, (name,))
    for candidate in order:
        token_id = getattr(tokenizer, f"{candidate}_token_id", None)
        if token_id is not None:
            return int(token_id), candidate if candidate == name else f"{candidate} (no {name} token)"
    raise ValueError(
        f"baseline={name!r}: the tokenizer has no {name} token. Pass another baseline: one of "
        f"{BASELINE_TOKENS + ('zero',)}, a token id, or a tensor."
    )


@dataclass
class TokenBaseline(Baseline):
    """One token's embedding at every feature position: a named token (``"pad"``, ``"mask"``, ...) or an id."""

    token_id: int
    description: str

    def _bases(self, run, enc, x, length):
        vocab = run.embeddings.weight.shape[0]
        if not 0 <= self.token_id < vocab:
            raise ValueError(f"baseline token id {self.token_id} is outside the vocabulary (0..{vocab - 1})")
        return run.embeddings(torch.full_like(enc.input_ids, self.token_id))


class ZeroBaseline(Baseline):
    """Zero vectors at every feature position."""

    description = "zero"

    def _bases(self, run, enc, x, length):
        return torch.zeros_like(x)[None]


@dataclass
class TensorBaseline(Baseline):
    """A user's embeddings: ``(e,)`` for every position or ``(length, e)``, one per token of the input."""

    tensor: torch.Tensor
    description: str = "tensor"

    def _bases(self, run, enc, x, length):
        e = x.shape[1]
        if tuple(self.tensor.shape) not in ((e,), (length, e)):
            raise ValueError(
                f"baseline tensor has shape {tuple(self.tensor.shape)}; expected ({e},) (one embedding "
                f"for every position) or ({length}, {e}) (one per token of this {length}-token input)"
            )
        if not bool(torch.isfinite(self.tensor).all()):
            bad = int((~torch.isfinite(self.tensor)).sum())
            raise ValueError(f"baseline tensor has {bad} non-finite entries (NaN or inf): pass a finite baseline")
        base = self.tensor.to(device=x.device, dtype=x.dtype)
        if base.dim() == 1:
            return base.expand_as(x)[None]
        return torch.cat([base, x[length:]])[None]  # positions past the input (padding) are held at x anyway


@dataclass
class ExpectedBaseline(Baseline):
    """``baseline="expected"``: ``K`` baselines from a background (see the module docstring), seeded."""

    background: Any = None
    seed: int = 0
    averaged = True

    def __post_init__(self) -> None:
        background = self.background
        if background is None or (isinstance(background, int) and not isinstance(background, bool)):
            self.count = DEFAULT_RANDOM_BASELINES if background is None else int(background)
            if self.count < 1:
                raise ValueError(f"background={background}: need at least one random baseline")
            self.kind = "random tokens"
        else:
            texts = [background] if isinstance(background, str) else list(background)
            if not texts or not all(isinstance(t, str) for t in texts) or isinstance(background, str):
                raise ValueError("background must be None, a number of random baselines, or a non-empty list of texts")
            self.count, self.kind = len(texts), "texts"
        self.description = f"expected(n={self.count})"

    def _bases(self, run, enc, x, length):
        tok = run.tokenizer
        ids = enc.input_ids[0]
        positions = (enc.token_word >= 0).nonzero()[:, 0]
        K = self.count
        if self.kind == "random tokens":
            vocab = run.embeddings.weight.shape[0]
            allowed = torch.tensor(sorted(set(range(vocab)) - _special_ids(tok)), device=ids.device)
            gen = torch.Generator().manual_seed(self.seed)
            draws = allowed[torch.randint(len(allowed), (K, len(positions)), generator=gen).to(ids.device)]
        else:
            pad_id, _ = baseline_token_id(tok, "pad")
            draws = torch.full((K, len(positions)), pad_id, dtype=ids.dtype, device=ids.device)
            for k, text in enumerate(self.background):
                filler = tok(text, add_special_tokens=False)["input_ids"][: len(positions)]
                draws[k, : len(filler)] = torch.as_tensor(filler, dtype=ids.dtype, device=ids.device)
        base_ids = ids.repeat(K, 1)
        base_ids[:, positions] = draws
        return run.embeddings(base_ids)


def make_baseline(spec, tokenizer, background=None) -> Baseline:
    """The :class:`Baseline` a ``baseline=`` value names (see
    :class:`~transformers_ih.tasks.base.TextInteractionExplainer`); ``ValueError`` naming the accepted values
    otherwise."""
    if isinstance(spec, Baseline):
        return spec
    if isinstance(spec, torch.Tensor):
        return TensorBaseline(spec)
    if isinstance(spec, str) and spec == "zero":
        return ZeroBaseline()
    if isinstance(spec, str) and spec == "expected":
        return ExpectedBaseline(background)
    if isinstance(spec, int) and not isinstance(spec, bool):
        return TokenBaseline(spec, f"token:{spec}")
    if isinstance(spec, str) and spec in BASELINE_TOKENS:
        return TokenBaseline(*baseline_token_id(tokenizer, spec))
    raise ValueError(
        f"unknown baseline {spec!r}; expected one of {BASELINE_TOKENS + ('zero', 'expected')}, a token id or a tensor"
    )


def is_expected(baseline) -> bool:
    """Whether a ``baseline=`` value asks for the average over a background (``"expected"``)."""
    return isinstance(baseline, str) and baseline == "expected"


def _special_ids(tokenizer) -> set[int]:
    return set(int(i) for i in getattr(tokenizer, "all_special_ids", []) or [])


def average_over_baselines(results: list[PathResult], K: int, kind: str) -> list[PathResult]:
    """Group consecutive runs of ``K`` results (one input's baselines) into their averages (see
    :func:`~transformers_ih.engine.results.average_over_baselines`; ``kind`` goes to ``meta["background"]``)."""
    return [average_path_results(results[j : j + K], kind) for j in range(0, len(results), K)]
