"""An independent brute-force reference for Integrated Hessians of any task explanation, shared by the tests.

Nothing of the package is used but its quadrature nodes (checked against exact moments in test_quadrature.py):
the test tokenizes the input itself, maps tokens to features itself (the tokenizer's ``word_ids`` / ``sequence_ids``),
computes the explained value itself from the model's OWN forward pass on ``input_ids`` (the embedding layer's output
replaced through a forward hook, so every architecture-specific path, e.g. BART's decoder reading the shifted input,
is the model's own), and takes the FULL Hessian over every embedding entry of the feature tokens (never per-feature
Hessian-vector products), in float64 on a copy of the model. The ``(W, W)`` matrix is then the entry-level
Integrated Hessians summed over the entries of each feature.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from transformers_ih.engine.quadrature import fixed_rule


@dataclass
class Reference:
    """What the test states about one explained input: the tokenizer's tensors (batch of one), each token's
    feature (``-1``: held at the input), the baseline token at feature positions, and the explained value of the
    model's outputs, ``outputs -> (1,)``."""

    inputs: dict
    token_feature: list[int]
    baseline_token: int
    value: Callable


def word_features(encoding, held_positions=()) -> list[int]:
    """Each token's feature: the ``(sequence, word)`` of the tokenizer's own ``word_ids`` / ``sequence_ids`` in order
    of first appearance; special tokens and ``held_positions`` get ``-1``."""
    index: dict[tuple[int, int], int] = {}
    out = []
    for pos, (w, s) in enumerate(zip(encoding.word_ids(0), encoding.sequence_ids(0))):
        if w is None or s is None or pos in held_positions:
            out.append(-1)
            continue
        out.append(index.setdefault((s, w), len(index)))
    return out


def _embedding_modules(model) -> list[torch.nn.Module]:
    """Every module that looks tokens up in the input embedding matrix (encoder and decoder copies included)."""
    weight = model.get_input_embeddings().weight
    return [m for m in model.modules() if isinstance(m, torch.nn.Embedding) and m.weight is weight]


def brute_force_interactions(model, ref: Reference, steps: int) -> np.ndarray:
    """``(W, W)`` Integrated Hessians at the ``steps``-node Gauss rule for ``-ln t`` (as ``method="gauss"``)."""
    model = copy.deepcopy(model).double().eval()
    inputs = {k: v.to(model.device) for k, v in ref.inputs.items()}
    ids = inputs["input_ids"]
    modules = _embedding_modules(model)
    feature = torch.tensor(ref.token_feature)
    rows = (feature >= 0).nonzero()[:, 0]
    W = int(feature.max()) + 1
    state: dict = {"embeds": None}

    def hook(module, args, output):
        seen = args[0]
        if state["embeds"] is None:
            return output
        if seen.shape == ids.shape and torch.equal(seen, ids):
            return state["embeds"]
        shifted = torch.cat([seen[:, :1], ids[:, :-1]], dim=1)  # the decoder reading the input shifted by one
        if seen.shape == ids.shape and torch.equal(seen, shifted) and seen.shape[1] > 1:
            return torch.cat([output[:, :1], state["embeds"][:, :-1]], dim=1)
        return output

    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        with torch.no_grad():
            x = modules[0](ids).detach()
            base_ids = ids.clone()
            base_ids[:, rows] = ref.baseline_token
            x_base = torch.where((feature >= 0)[None, :, None].to(x.device), modules[0](base_ids), x).detach()
        delta = (x - x_base)[0, rows].reshape(-1)  # the feature tokens' embedding entries
        e = x.shape[-1]

        def f(u):
            embeds = x_base.clone()
            embeds[0, rows] = embeds[0, rows] + u.reshape(len(rows), e)
            state["embeds"] = embeds
            try:
                return ref.value(model(**inputs))[0]
            finally:
                state["embeds"] = None

        rule = fixed_rule("log", steps, "gauss")
        gamma_entries = torch.zeros(len(delta), len(delta), dtype=torch.float64)
        with sdpa_kernel([SDPBackend.MATH]):
            for t, w in zip(rule.nodes, rule.weights):
                u = (float(t) * delta).detach().requires_grad_(True)
                grad = torch.autograd.grad(f(u), u)[0]
                hess = torch.autograd.functional.hessian(f, u.detach(), vectorize=True)
                gamma_entries += w * (t * hess * delta[:, None] * delta[None, :] + torch.diag(grad * delta))
    finally:
        for h in handles:
            h.remove()
    S = torch.zeros(W, len(delta), dtype=torch.float64)  # sums a feature's entries
    for r, pos in enumerate(rows.tolist()):
        S[ref.token_feature[pos], r * e : (r + 1) * e] = 1.0
    return (S @ gamma_entries @ S.T).numpy()


def assert_matches_reference(
    gamma: np.ndarray, reference: np.ndarray, rel: float = 2e-3, rel_off: float = 2e-2
) -> None:
    """Every entry within ``rel`` of the largest, and the off-diagonal entries within ``rel_off`` of the largest
    off-diagonal one (some tiny random models interact weakly: their pairs must still be right): a wrong sign, a
    factor of two or two swapped features fail."""
    assert gamma.shape == reference.shape, (gamma.shape, reference.shape)
    scale = float(np.abs(reference).max())
    off = ~np.eye(len(reference), dtype=bool)
    off_scale = float(np.abs(reference[off]).max())
    assert scale > 0 and off_scale > 1e-7 * scale, "the reference has no interactions to compare"
    np.testing.assert_allclose(gamma, reference, atol=rel * scale, rtol=0)
    np.testing.assert_allclose(gamma[off], reference[off], atol=rel_off * off_scale, rtol=0)
