"""Mixture-of-experts models: the experts held at the input's choice along the path.

A top-k router (Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE, ...) picks each token's experts with ``torch.topk``. Along the
straight path from the baseline to the input the picks change, and the model's output *jumps* where they do (one
expert's output swapped for another's), so Integrated Gradients / Hessians, which integrate derivatives, miss the
jumps: completeness fails by their sum (measured on a tiny random Mixtral: 1.06 of 1.06 missed).

With ``moe_routing="input"`` (the default for models whose config has ``num_experts_per_tok``) the explained function
keeps, at every point of the path, the experts the router picked *for the input* (their weights still follow the
router's softmax along the path): it is smooth, equals the model at the input (so ``f_input`` and ``model_value``
are the model's own values) and completeness holds; ``f_baseline`` is the baseline's value with the input's experts.
``moe_routing="model"`` integrates the model as it is, jumps included (completeness then reports them).

Mechanism: one forward pass at the input records every ``torch.topk`` call's indices (per thread, through a
:class:`~torch.overrides.TorchFunctionMode`); during the explanation the same calls, in the same order, return the
recorded indices (tiled over the batch of path points) and the router's values at them. Inputs are explained in
groups of one distinct input at a time, so every row of a model call shares the input's routing.
"""

from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode

_TOPK = (torch.topk, torch.Tensor.topk)
ROUTINGS = ("input", "model")


def is_moe(model) -> bool:
    """Whether ``model``'s config describes top-k expert routing (``num_experts_per_tok`` below the number of
    experts)."""
    config = getattr(model, "config", None)
    config = getattr(config, "text_config", None) or config  # multimodal wrappers
    k = getattr(config, "num_experts_per_tok", None)
    n = next(
        (
            getattr(config, a)
            for a in ("num_local_experts", "num_experts", "n_routed_experts")
            if isinstance(getattr(config, a, None), int)
        ),
        None,
    )
    return isinstance(k, int) and k > 0 and (n is None or k < n)


def check_routing(routing) -> str:
    if routing not in ROUTINGS:
        raise ValueError(
            f"moe_routing={routing!r}: expected 'input' (the experts picked for the input, held along the "
            f"path: completeness holds) or 'model' (the router's own picks at every path point: the output "
            f"jumps where they change)"
        )
    return routing


def _call(func, args, kwargs):
    tensor = args[0]
    k = args[1] if len(args) > 1 else kwargs.get("k")
    dim = args[2] if len(args) > 2 else kwargs.get("dim", -1)
    largest = args[3] if len(args) > 3 else kwargs.get("largest", True)
    return tensor, k, dim, largest


class RoutingRecorder(TorchFunctionMode):
    """Records the indices of every ``torch.topk`` call (in call order) of one forward pass at the input."""

    def __init__(self):
        super().__init__()
        self.calls: list[torch.Tensor] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func in _TOPK:
            self.calls.append(out[1].detach())
        return out


class FrozenRouting(TorchFunctionMode):
    """Replays recorded ``torch.topk`` indices: call ``c`` of every forward pass returns the indices of recorded call
    ``c % len(recorded)``, repeated for the batch rows (each a copy of the recorded input's rows), and the values of
    the called tensor at them."""

    def __init__(self, recorded: list[torch.Tensor]):
        super().__init__()
        self.recorded = recorded
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func not in _TOPK or not self.recorded:
            return func(*args, **kwargs)
        tensor, k, dim, _ = _call(func, args, kwargs)
        recorded = self.recorded[self.count % len(self.recorded)]
        dim = dim % tensor.dim()
        rows = tensor.shape[0]
        if (
            tensor.dim() != recorded.dim()
            or dim != tensor.dim() - 1
            or recorded.shape[-1] != k
            or rows % recorded.shape[0]
            or tensor.shape[1:-1] != recorded.shape[1:-1]
        ):
            return func(*args, **kwargs)  # not a routing call of this forward pass
        self.count += 1
        index = recorded.to(tensor.device).repeat(rows // recorded.shape[0], *([1] * (tensor.dim() - 1)))
        return torch.return_types.topk((tensor.gather(dim, index), index))


def record_routing(model, inputs: dict) -> list[torch.Tensor]:
    """The ``torch.topk`` indices of one forward pass of ``model`` on ``inputs`` (batch of one), in call order."""
    recorder = RoutingRecorder()
    with torch.no_grad(), recorder:
        model(**inputs)
    return recorder.calls
