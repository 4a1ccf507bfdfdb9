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

**Half precision** (``compute_dtype=``): Hessians and path gradients in float16 / bfloat16 are too inexact for
completeness, so an explainer given ``compute_dtype=torch.float32`` runs each call on a twin whose half-precision
parameters and buffers are *copies* in that dtype (:func:`explainable_model`, ``compute_dtype``): the model's own
weights stay as they are, and the copy (4 bytes per half-precision parameter for float32, on the parameter's own
device: :func:`compute_copy_bytes`) lives only while the call runs. The results are those of a float32 model with the
model's (rounded) weights. ``compute_dtype=torch.float64`` likewise runs a float32 model in float64 (8 bytes per
parameter), for explanations that reach float32's noise floor (the engine's ``NoiseFloorWarning``).

**Models loaded with** ``device_map`` (accelerate hooks, layers on several devices): the twin keeps each parameter
on its device and copies the hooks with the module tree (so they move activations between devices as in the model's
own forward), sharing read-only offloaded weight maps instead of copying them.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Callable
from typing import cast

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from .last_token import pools_last_token

# attention implementations whose kernels support double backward (sdpa through MathAttentionMode)
_DIFFERENTIABLE_ATTENTION = ("eager", "sdpa", None)


def attn_implementation(model: torch.nn.Module) -> str | None:
    config = getattr(model, "config", None)
    return getattr(config, "_attn_implementation", None) if config is not None else None


def _math_sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    if attn_mask is not None and attn_mask.dtype == torch.bool:  # as SDPA's dispatcher does before any kernel
        attn_mask = torch.zeros_like(attn_mask, dtype=query.dtype).masked_fill(~attn_mask, float("-inf"))
    return torch.ops.aten._scaled_dot_product_attention_math(
        query, key, value, attn_mask, dropout_p, is_causal, scale=scale, enable_gqa=enable_gqa
    )[0]


class MathAttentionMode(TorchFunctionMode):
    """Within this mode (in this thread only), ``F.scaled_dot_product_attention`` runs PyTorch's math kernel,
    which is composed of differentiable operations and so has a double backward."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is F.scaled_dot_product_attention:
            return _math_sdpa(*args, **(kwargs or {}))
        return func(*args, **(kwargs or {}))


HALF_DTYPES = (torch.float16, torch.bfloat16)
COMPUTE_DTYPES = (torch.float32, torch.float64)


class ComputeCopyWarning(UserWarning):
    """An explainer will run each call on a higher-precision copy of a half-precision model's parameters (the
    message says how much memory that takes)."""


def check_compute_dtype(compute_dtype) -> torch.dtype | None:
    """``compute_dtype`` checked: ``None`` or ``torch.float32`` / ``torch.float64`` (the strings ``"float32"`` /
    ``"float64"`` are accepted too)."""
    if compute_dtype is None:
        return None
    if isinstance(compute_dtype, str):
        compute_dtype = getattr(torch, compute_dtype.replace("torch.", ""), compute_dtype)
    if compute_dtype not in COMPUTE_DTYPES:
        raise ValueError(
            f"compute_dtype={compute_dtype!r}: pass torch.float32 (or torch.float64) to explain a half-"
            f"precision model on a copy of its parameters in that dtype, or None to run in the model's "
            f"own dtype"
        )
    return compute_dtype


def _widened(t: torch.Tensor, compute_dtype: torch.dtype | None) -> bool:
    """Whether a call with ``compute_dtype`` holds a copy of ``t`` (a floating tensor of a narrower dtype)."""
    return (
        compute_dtype is not None
        and t.is_floating_point()
        and torch.finfo(t.dtype).bits < torch.finfo(compute_dtype).bits
    )


def _copied_tensors(model: torch.nn.Module, compute_dtype: torch.dtype | None) -> list[torch.Tensor]:
    seen: dict[int, torch.Tensor] = {}
    for t in list(model.parameters()) + list(model.buffers()):
        if _widened(t, compute_dtype):
            seen.setdefault(id(t), t)
    return list(seen.values())


def compute_copy_bytes(model: torch.nn.Module, compute_dtype: torch.dtype | None) -> int:
    """Bytes a call's ``compute_dtype`` copy of ``model``'s narrower parameters and buffers takes (0 when there are
    none, or without ``compute_dtype``); tied parameters are counted once."""
    if compute_dtype is None:
        return 0
    size = torch.empty((), dtype=compute_dtype).element_size()
    return sum(t.numel() * size for t in _copied_tensors(model, compute_dtype))


def warn_compute_copy(model: torch.nn.Module, compute_dtype: torch.dtype | None, stacklevel: int = 3) -> None:
    """:class:`ComputeCopyWarning` stating the memory of the per-call copy, when ``model`` has weights narrower than
    ``compute_dtype``."""
    extra = compute_copy_bytes(model, compute_dtype)
    if not extra:
        return
    copied = _copied_tensors(model, compute_dtype)
    own = sum(t.numel() * t.element_size() for t in copied)
    dtypes = sorted({str(t.dtype).replace("torch.", "") for t in copied})
    warnings.warn(
        f"compute_dtype={compute_dtype}: each call runs on a "
        f"{str(compute_dtype).replace('torch.', '')} copy of the model's {'/'.join(dtypes)} weights, "
        f"{extra / 2**30:.3g} GiB ({extra:,} bytes, on the weights' own devices) on top of the model's "
        f"{own / 2**30:.3g} GiB while the call runs; the model itself is not changed",
        ComputeCopyWarning,
        stacklevel=stacklevel,
    )


def _offloaded_maps(model: torch.nn.Module) -> list[object]:
    """The weight maps of accelerate's offload hooks (read-only dicts of offloaded weights): shared by a twin, never
    copied."""
    maps = []
    for module in model.modules():
        hook = getattr(module, "_hf_hook", None)
        for h in getattr(hook, "hooks", None) or ([hook] if hook is not None else []):
            weights_map = getattr(h, "weights_map", None)
            if weights_map is not None:
                maps.append(weights_map)
    return maps


def explainable_model(
    model: torch.nn.Module, second_order: bool = True, compute_dtype: torch.dtype | None = None
) -> torch.nn.Module:
    """A twin of ``model`` for one explanation (see the module docstring): the same computation on the same
    parameter storage, in eval mode, parameters frozen, and (for Hessians, ``second_order``) an attention
    implementation with a double backward. With ``compute_dtype`` (float32 / float64), parameters and buffers of a
    narrower floating dtype are copies in that dtype instead of aliases (the model's own stay as they are)."""
    memo: dict[int, object] = {}
    for p in model.parameters():
        data = p.detach()
        if _widened(data, compute_dtype):
            data = data.to(compute_dtype)  # a copy on the parameter's own device
        memo[id(p)] = torch.nn.Parameter(data, requires_grad=False)  # an alias of the storage (or its copy), frozen
    for b in model.buffers():
        memo[id(b)] = b.to(compute_dtype) if _widened(b, compute_dtype) else b
    for weights_map in _offloaded_maps(model):
        memo[id(weights_map)] = weights_map
    twin = copy.deepcopy(model, memo)
    twin.eval()
    config = getattr(twin, "config", None)  # the twin's own copy
    if pools_last_token(twin) and config is not None and getattr(config, "pad_token_id", None) is None:
        # a GPT-2-style classifier without a pad token refuses batches ("Cannot handle batch sizes > 1"), and path
        # points come in batches: an id no token has keeps its pooling (the last position) and lets it batch
        config.pad_token_id = -1
    if second_order and attn_implementation(twin) not in _DIFFERENTIABLE_ATTENTION:
        if not hasattr(twin, "set_attn_implementation"):
            raise TypeError(
                f"{type(model).__name__} uses attn_implementation={attn_implementation(model)!r}, which "
                f"has no double backward; load it with attn_implementation='sdpa' or 'eager'"
            )
        cast(Callable[[str], None], twin.set_attn_implementation)("sdpa")  # a Hugging Face method
    return twin


def differentiable_attention(second_order: bool = True) -> contextlib.AbstractContextManager:
    """Twice-differentiable attention in this thread for the block (:class:`MathAttentionMode`); with
    ``second_order=False`` (gradients only, e.g. Integrated Gradients) the model's own fused kernels are kept:
    they have a backward pass."""
    return MathAttentionMode() if second_order else contextlib.nullcontext()
