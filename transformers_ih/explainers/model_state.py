"""Putting a model in a differentiable, deterministic state for one call, and restoring it exactly."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

# attention implementations whose kernels support double backward / forward-mode AD (sdpa with the math
# backend forced below)
_DIFFERENTIABLE_ATTENTION = ("eager", "sdpa")


def _attn_implementation(model: torch.nn.Module) -> str | None:
    config = getattr(model, "config", None)
    return getattr(config, "_attn_implementation", None) if config is not None else None


@contextlib.contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Within the block the model is in eval mode (no dropout); every module's training flag is restored on
    exit, also after an exception. Nothing else changes: a forward pass here is the model's own."""
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        yield model
    finally:
        for m, training in modes:
            m.training = training


@contextlib.contextmanager
def differentiable_model(model: torch.nn.Module, second_order: bool = True) -> Iterator[torch.nn.Module]:
    """Within the block: eval mode (no dropout), parameters frozen (``requires_grad=False``: no gradient
    work or ``.grad`` for weights), attention through twice-differentiable kernels (SDPA's math backend; other
    implementations such as flash attention switched to ``"sdpa"``). With ``second_order=False`` (gradients
    only, e.g. Integrated Gradients) the attention kernels are left as they are (fused kernels have a backward
    pass; only their double backward is missing).

    On exit, also after an exception, every module's training flag, every parameter's ``requires_grad`` and
    ``.grad``, and the attention implementation are exactly as before.
    """
    params = list(model.parameters())
    saved = [(p, p.requires_grad, p.grad) for p in params]
    attn = _attn_implementation(model)
    switch_attn = (second_order and attn is not None and attn not in _DIFFERENTIABLE_ATTENTION
                   and hasattr(model, "set_attn_implementation"))
    try:
        for p in params:
            p.requires_grad_(False)
        if switch_attn:
            model.set_attn_implementation("sdpa")
        kernels = sdpa_kernel([SDPBackend.MATH]) if second_order else contextlib.nullcontext()
        with eval_mode(model), kernels:
            yield model
    finally:
        if switch_attn:
            model.set_attn_implementation(attn)
        for p, requires_grad, grad in saved:
            p.requires_grad_(requires_grad)
            p.grad = grad
