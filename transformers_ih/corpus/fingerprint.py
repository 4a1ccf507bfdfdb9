"""What a corpus run's results depend on, as JSON (:func:`run_config`), so that a resumed run can refuse a changed
configuration instead of mixing two into one output.

Included: the task, the model's weights (a digest of every parameter and buffer), its class and dtype, the
tokenizer (a digest of its fast tokenizer's JSON), the explainer's settings that change results (baseline,
background, smoothing, rtol, atol, max_nodes, a task's own), the call's options and task arguments, the columns and
the shard size. Not included (they change rounding at most, or nothing): the engine, ``internal_batch_size``,
``text_batch_size``, ``progress``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from typing import Any

import numpy as np

__all__ = ["run_config", "config_digest", "model_digest", "tokenizer_digest", "describe_value", "explainer_settings"]

#: explainer attributes that change rounding at most (batching, memory, display): not part of the configuration
NOT_SETTINGS = ("model", "tokenizer", "internal_batch_size", "text_batch_size", "progress", "max_padding")


def explainer_settings(explainer) -> dict[str, Any]:
    """The explainer's own settings that change what is computed: its public attributes (baseline, background,
    smoothing, rtol, atol, max_nodes, and a task's own such as a causal LM's ``moe_routing``)."""
    return {
        name: value
        for name, value in sorted(vars(explainer).items())
        if not name.startswith("_") and name not in NOT_SETTINGS
    }


def _tensor_digest(t) -> str:
    import torch

    t = t.detach()
    if t.dtype == torch.bfloat16:
        t = t.float()
    data = np.ascontiguousarray(t.cpu().numpy())
    h = hashlib.sha256(str(tuple(data.shape)).encode() + str(data.dtype).encode())
    h.update(data.tobytes())
    return h.hexdigest()[:32]


def model_digest(model) -> str:
    """A digest of every parameter and buffer of ``model`` (names, shapes, dtypes and values)."""
    h = hashlib.sha256()
    for name, tensor in list(model.state_dict(keep_vars=False).items()):
        h.update(name.encode())
        h.update(_tensor_digest(tensor).encode())
    return h.hexdigest()[:32]


def tokenizer_digest(tokenizer) -> str:
    """A digest of the fast tokenizer (its ``tokenizer.json``), its special tokens and length limit."""
    h = hashlib.sha256()
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        spec = json.loads(backend.to_str())
        spec.pop("truncation", None)  # per-call state the tokenizer keeps from its last call, not its definition
        spec.pop("padding", None)
        h.update(json.dumps(spec, sort_keys=True).encode())
    else:
        h.update(repr(tokenizer).encode())
    h.update(json.dumps(getattr(tokenizer, "special_tokens_map", {}), sort_keys=True, default=str).encode())
    h.update(str(getattr(tokenizer, "model_max_length", None)).encode())
    return h.hexdigest()[:32]


def describe_value(value: Any) -> Any:
    """``value`` as JSON that changes when it does: tensors and arrays by digest, callables by name and source."""
    import torch

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Tensor):
        return {"tensor": _tensor_digest(value)}
    if isinstance(value, np.ndarray):
        return {"array": _tensor_digest(torch.from_numpy(np.ascontiguousarray(value)))}
    if isinstance(value, dict):
        return {str(k): describe_value(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [describe_value(v) for v in value]
    if callable(value):
        name = getattr(value, "__qualname__", None) or type(value).__qualname__
        try:
            source = hashlib.sha256(inspect.getsource(value).encode()).hexdigest()[:16]
        except (OSError, TypeError):
            source = None
        return {"callable": f"{getattr(value, '__module__', '')}.{name}", "source": source}
    if hasattr(value, "__len__") and hasattr(value, "__getitem__"):  # a datasets column, a numpy-like sequence
        return [describe_value(v) for v in value]
    return {"repr": repr(value)}


def run_config(
    explainer, *, columns: dict[str, str], call: dict[str, Any], batch_size: int, model_id: str | None = None
) -> dict[str, Any]:
    """The configuration of a corpus run, as JSON (see the module docstring)."""
    model = explainer.model
    params = next(iter(model.parameters()), None)
    return {
        "task": f"{type(explainer).__module__}.{type(explainer).__qualname__}",
        "model": {
            "class": type(model).__name__,
            "name_or_path": model_id or getattr(getattr(model, "config", None), "_name_or_path", None),
            "dtype": str(params.dtype) if params is not None else None,
            "weights": model_digest(model),
        },
        "tokenizer": {"class": type(explainer.tokenizer).__name__, "digest": tokenizer_digest(explainer.tokenizer)},
        "explainer": {name: describe_value(value) for name, value in explainer_settings(explainer).items()},
        "call": {name: describe_value(value) for name, value in sorted(call.items())},
        "columns": dict(columns),
        "batch_size": int(batch_size),
    }


def config_digest(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:32]


def differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of the entries where two configurations differ, e.g. ``["call.steps", "model.weights"]``."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        path = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict) and key not in ("tensor", "array"):
            out += differences(a, b, path + ".")
        elif a != b:
            out.append(path)
    return out
