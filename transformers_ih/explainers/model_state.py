"""Running a user's model for an explanation without changing it, not even for a moment another thread could see.

Nothing about the user's model is set and restored. Each call runs a **twin** (:func:`explainable_model`): a copy
of the model's module tree whose parameters are detached aliases of the model's own parameter storage (no memory
copied; an in-place update of the model's weights is seen by the twin) and whose buffers are the model's own.
The twin is what an explanation may change: its parameters have ``requires_grad=False`` (no weight-gradient graph:
Hessian-vector products measured ~4x faster than with trainable parameters), it is in eval mode (no dropout), and
its attention implementation is one with a double backward. The model's ``requires_grad`` flags, ``.grad``,
training mode and attention implementation are never touched.

Per thread, around the engine's calls:

* twice-differentiable attention: PyTorch's fused SDPA kernels have no double backward on CPU, so
  :class:`MathAttentionMode` (a :class:`~torch.overrides.TorchFunctionMode`, which is per thread) computes
  ``scaled_dot_product_attention`` with the math kernel; torch's global backend flags are left alone;
* ReLU smoothing, likewise a per-thread function mode (:mod:`~transformers_ih.engine.smoothing`).
"""

from __future__ import annotations

import contextlib
import copy

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

# attention implementations whose kernels support double backward (sdpa through MathAttentionMode)
_DIFFERENTIABLE_ATTENTION = ("eager", "sdpa", None)


def attn_implementation(model: torch.nn.Module) -> str | None:
    config = getattr(model, "config", None)
    return getattr(config, "_attn_implementation", None) if config is not None else None


def _math_sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    if attn_mask is not None and attn_mask.dtype == torch.bool:  # as SDPA's dispatcher does before any kernel
        attn_mask = torch.zeros_like(attn_mask, dtype=query.dtype).masked_fill(~attn_mask, float("-inf"))
    return torch.ops.aten._scaled_dot_product_attention_math(query, key, value, attn_mask, dropout_p, is_causal,
                                                             scale=scale, enable_gqa=enable_gqa)[0]


class MathAttentionMode(TorchFunctionMode):
    """Within this mode (in this thread only), ``F.scaled_dot_product_attention`` runs PyTorch's math kernel,
    which is composed of differentiable operations and so has a double backward."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is F.scaled_dot_product_attention:
            return _math_sdpa(*args, **(kwargs or {}))
        return func(*args, **(kwargs or {}))


def explainable_model(model: torch.nn.Module, second_order: bool = True) -> torch.nn.Module:
    """A twin of ``model`` for one explanation (see the module docstring): the same computation on the same
    parameter storage, in eval mode, parameters frozen, and (for Hessians, ``second_order``) an attention
    implementation with a double backward."""
    memo: dict[int, object] = {}
    for p in model.parameters():
        memo[id(p)] = torch.nn.Parameter(p.detach(), requires_grad=False)  # an alias of the storage, frozen
    for b in model.buffers():
        memo[id(b)] = b
    twin = copy.deepcopy(model, memo)
    twin.eval()
    if second_order and attn_implementation(twin) not in _DIFFERENTIABLE_ATTENTION:
        if not hasattr(twin, "set_attn_implementation"):
            raise TypeError(f"{type(model).__name__} uses attn_implementation={attn_implementation(model)!r}, which "
                            f"has no double backward; load it with attn_implementation='sdpa' or 'eager'")
        twin.set_attn_implementation("sdpa")
    return twin


def differentiable_attention(second_order: bool = True) -> contextlib.AbstractContextManager:
    """Twice-differentiable attention in this thread for the block (:class:`MathAttentionMode`); with
    ``second_order=False`` (gradients only, e.g. Integrated Gradients) the model's own fused kernels are kept:
    they have a backward pass."""
    return MathAttentionMode() if second_order else contextlib.nullcontext()
