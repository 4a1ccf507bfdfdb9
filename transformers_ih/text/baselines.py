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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..engine.adaptive import AdaptiveInfo
from ..engine.quadrature import PathRule

DEFAULT_RANDOM_BASELINES = 16


def is_expected(baseline) -> bool:
    return isinstance(baseline, str) and baseline == "expected"


def _special_ids(tokenizer) -> set[int]:
    return set(int(i) for i in getattr(tokenizer, "all_special_ids", []) or [])


def expected_baselines(explainer, enc, background, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, str]:
    """``(x, x' (K, L, e), kind)`` for the explainer's ``background`` (see the module docstring)."""
    tok = explainer.tokenizer
    ids = enc.input_ids[0]
    positions = (enc.token_word >= 0).nonzero()[:, 0]
    if background is None or (isinstance(background, int) and not isinstance(background, bool)):
        K = DEFAULT_RANDOM_BASELINES if background is None else int(background)
        if K < 1:
            raise ValueError(f"background={background}: need at least one random baseline")
        vocab = explainer.embeddings.weight.shape[0]
        allowed = torch.tensor(sorted(set(range(vocab)) - _special_ids(tok)), device=ids.device)
        gen = torch.Generator().manual_seed(seed)
        draws = allowed[torch.randint(len(allowed), (K, len(positions)), generator=gen).to(ids.device)]
        kind = "random tokens"
    else:
        texts = list(background)
        if not texts or not all(isinstance(t, str) for t in texts):
            raise ValueError("background must be None, a number of random baselines, or a non-empty list of texts")
        K = len(texts)
        pad_id, _ = explainer._baseline_token_id("pad")
        draws = torch.full((K, len(positions)), pad_id, dtype=ids.dtype, device=ids.device)
        for k, text in enumerate(texts):
            filler = tok(text, add_special_tokens=False)["input_ids"][: len(positions)]
            draws[k, : len(filler)] = torch.as_tensor(filler, dtype=ids.dtype, device=ids.device)
        kind = "texts"
    base_ids = ids.repeat(K, 1)
    base_ids[:, positions] = draws
    with torch.no_grad():
        x = explainer.embeddings(ids[None])[0]
        bases = explainer.embeddings(base_ids)
    keep = (enc.token_word < 0)[None, :, None]
    return x, torch.where(keep, x[None], bases), kind


@dataclass
class AveragedResult:
    """The mean of ``K`` per-baseline engine results, shaped like one (what :class:`Explanation` reads)."""

    attributions: np.ndarray
    interactions: np.ndarray | None
    f_input: float
    f_baseline: float
    completeness_error: float
    rule: PathRule
    adaptive: AdaptiveInfo | None
    meta: dict[str, Any] = field(default_factory=dict)
    computed: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return len(self.rule)


def average_over_baselines(results: list, K: int, kind: str) -> list[AveragedResult]:
    """Group consecutive runs of ``K`` results (one input's baselines) into their averages."""
    out = []
    for j in range(0, len(results), K):
        group = results[j : j + K]
        attr = np.stack([np.asarray(r.attributions) for r in group])
        inter = None if getattr(group[0], "interactions", None) is None else np.stack([r.interactions for r in group])
        f_base = float(np.mean([r.f_baseline for r in group]))
        mean_inter = None if inter is None else inter.mean(0)
        total = float(attr.mean(0).sum())  # = the interactions' total for full matrices
        se = lambda a: (a.std(0, ddof=1) / np.sqrt(K)).tolist() if K > 1 else None
        infos = [r.adaptive for r in group if r.adaptive is not None]
        adaptive = None if not infos else AdaptiveInfo(
            tolerance=max(i.tolerance for i in infos), estimated_error=float(np.mean([i.estimated_error for i in infos])),
            completeness_error=float(np.mean([i.completeness_error for i in infos])),
            converged=all(i.converged for i in infos), scalar_evaluations=sum(i.scalar_evaluations for i in infos))
        rule = PathRule(np.concatenate([r.rule.nodes for r in group]),
                        np.concatenate([r.rule.weights for r in group]) / K, group[0].rule.measure,
                        f"expected({K} x {group[0].rule.name.split('(')[0]})")
        out.append(AveragedResult(
            attributions=attr.mean(0), interactions=mean_inter, f_input=float(group[0].f_input), f_baseline=f_base,
            completeness_error=abs(total - (float(group[0].f_input) - f_base)), rule=rule, adaptive=adaptive,
            computed=getattr(group[0], "computed", None),
            meta={"background": kind, "baseline_samples": K,
                  **({"raw_asymmetry": max(r.meta.get("raw_asymmetry", 0.0) for r in group)} if inter is not None else {}),
                  "baseline_values": [float(r.f_baseline) for r in group],
                  "attributions_se": se(attr), **({"interactions_se": se(inter)} if inter is not None else {})},
        ))
    return out
