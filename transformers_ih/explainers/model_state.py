"""Running a user's model for an explanation without changing it, not even for a moment another thread could see.

Nothing about the model is set and restored. Input gradients need no parameter flags changed:
``torch.autograd.grad(outputs, inputs)`` differentiates with respect to the input embeddings only and never
writes a parameter's ``.grad``. What an explanation needs beyond that is made thread-locally, around the call:

* twice-differentiable attention: PyTorch's fused SDPA kernels have no double backward on CPU, so
  :class:`MathAttentionMode` (a :class:`~torch.overrides.TorchFunctionMode`, which is per thread) computes
  ``scaled_dot_product_attention`` with the math kernel; torch's global backend flags are left alone;
* ReLU smoothing, likewise a per-thread function mode (:mod:`~transformers_ih.engine.smoothing`).

Two states of a model cannot be worked around per thread: training mode (dropout would make the explained
function random) and attention implementations other than ``"eager"`` / ``"sdpa"`` (flash attention has no
double backward). For such a model the call runs on a private copy (``copy.deepcopy``, in eval mode, with SDPA
attention): the user's model is never touched, at the cost of the copy's memory, which a warning states once
per model. ``model.eval()`` (the state ``from_pretrained`` gives) avoids the copy.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
import weakref
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

# attention implementations whose kernels support double backward (sdpa through MathAttentionMode)
_DIFFERENTIABLE_ATTENTION = ("eager", "sdpa", None)

_warned: "weakref.WeakSet[torch.nn.Module]" = weakref.WeakSet()


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


def needs_private_copy(model: torch.nn.Module, second_order: bool) -> str | None:
    """Why ``model`` cannot be explained as it is (``None`` when it can): training mode, or (for Hessians) an
    attention implementation without double backward."""
    if any(m.training for m in model.modules()):
        return "is in training mode (dropout would make the explained function random)"
    attn = attn_implementation(model)
    if second_order and attn not in _DIFFERENTIABLE_ATTENTION:
        return f"uses attn_implementation={attn!r}, which has no double backward"
    return None


def _private_copy(model: torch.nn.Module, reason: str) -> torch.nn.Module:
    size = sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20
    if model not in _warned:
        _warned.add(model)
        warnings.warn(
            f"{type(model).__name__} {reason}: explaining a private copy in eval mode with SDPA attention "
            f"({size:.0f} MiB of parameters copied per call), so that the model itself is never changed. Call "
            f"model.eval() (and load it with attn_implementation='sdpa' or 'eager') to avoid the copy.",
            stacklevel=5,
        )
    twin = copy.deepcopy(model)
    twin.eval()
    if attn_implementation(twin) not in _DIFFERENTIABLE_ATTENTION and hasattr(twin, "set_attn_implementation"):
        twin.set_attn_implementation("sdpa")
    for p in twin.parameters():
        p.requires_grad_(False)  # a private copy: its flags are ours; no weight-gradient graph
    return twin


def explainable_model(model: torch.nn.Module, second_order: bool = True) -> torch.nn.Module:
    """The model to run for one explanation: ``model`` itself when it is in eval mode with eager / SDPA attention
    (nothing about it is changed), else a private eval-mode copy (see the module docstring)."""
    reason = needs_private_copy(model, second_order)
    return model if reason is None else _private_copy(model, reason)


def differentiable_attention(second_order: bool = True) -> contextlib.AbstractContextManager:
    """Twice-differentiable attention in this thread for the block (:class:`MathAttentionMode`); with
    ``second_order=False`` (gradients only, e.g. Integrated Gradients) the model's own fused kernels are kept:
    they have a backward pass."""
    return MathAttentionMode() if second_order else contextlib.nullcontext()
