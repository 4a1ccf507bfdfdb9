"""Shared checks for the task explainer tests (tests/test_tasks_*.py)."""

from __future__ import annotations

import collections.abc
import contextlib
import inspect
import sys
import types
import typing

import numpy as np
import pytest
import torch
import transformers
from typing_extensions import get_overloads

from transformers_ih import Explanation

# encoder architectures with every encoder head (sequence / token classification, QA, masked LM)
ENCODERS = ["bert", "distilbert", "roberta", "xlm-roberta", "albert", "electra", "deberta-v2", "mpnet", "modernbert"]


def arch_param(arch: str):
    """``arch`` as a pytest param, skipped when the installed transformers lacks it (ModernBERT before 4.48)."""
    needed = {"modernbert": "ModernBertConfig", "deberta-v2": "DebertaV2Config"}.get(arch)
    marks = (
        [pytest.mark.skip(reason=f"transformers {transformers.__version__} has no {needed}")]
        if needed and not hasattr(transformers, needed)
        else []
    )
    return pytest.param(arch, marks=marks, id=arch)


def params(archs):
    return [arch_param(a) for a in archs]


def check_axioms(e: Explanation, rel: float = 1e-3) -> None:
    """Interactions symmetric, rows sum to attributions, completeness within the adaptive rule's tolerance."""
    gamma = e.interactions
    assert gamma.shape == (len(e.words), len(e.words))
    np.testing.assert_allclose(gamma, gamma.T, atol=1e-12)
    np.testing.assert_allclose(gamma.sum(1), e.attributions, atol=1e-12)
    assert e.completeness_error == pytest.approx(abs(gamma.sum() - (e.f_input - e.f_baseline)), abs=1e-9)
    assert e.completeness_error <= max(rel * abs(e.f_input - e.f_baseline), 1e-4)
    assert np.abs(gamma).max() > 0
    # the matrix before symmetrisation: symmetric to float noise when the Hessian-vector products are right
    assert 0 <= e.meta["raw_asymmetry"] < 1e-4, e.meta["raw_asymmetry"]
    assert [e.text[s:t] for s, t in e.offsets] == e.words
    if e.smoothing is None:  # the explained function is the model's own: f(x) is its output
        assert e.model_value == pytest.approx(e.f_input, abs=1e-5)


def model_state(model):
    return (
        [m.training for m in model.modules()],
        [p.requires_grad for p in model.parameters()],
        getattr(model.config, "_attn_implementation", None),
    )


@contextlib.contextmanager
def restored(model):
    """Asserts that the model's modes, ``requires_grad`` and attention implementation are unchanged by the block."""
    before = model_state(model)
    yield
    assert model_state(model) == before


def own_forward(model, tok, *texts, **kwargs):
    """The model's own forward pass on the tokenizer's own inputs (eval, no gradients)."""
    enc = tok(*texts, return_tensors="pt").to(model.device)
    kwargs = {k: v.to(model.device) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
    with torch.no_grad():
        return model.eval()(**enc, **kwargs), enc


def _conforms(value, hint) -> bool:
    """Whether ``value`` is of the type ``hint`` (the forms the task overloads use: classes, ``None``, unions,
    ``Literal``, ``list``, ``dict``, ``Sequence``, ``Callable``, ``Any``)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is typing.Any:
        return True
    if hint is None or hint is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, a) for a in args)
    if origin is typing.Literal:
        return any(type(value) is type(a) and value == a for a in args)
    if origin is list:
        return isinstance(value, list) and all(_conforms(v, args[0]) for v in value)
    if origin is dict:
        if not isinstance(value, dict):
            return False
        return all(_conforms(k, args[0]) and _conforms(v, args[1]) for k, v in value.items())
    if origin is collections.abc.Sequence:
        return isinstance(value, collections.abc.Sequence) and all(_conforms(v, args[0]) for v in value)
    if origin is not None:  # Callable[...] and the like
        return isinstance(value, origin)
    return isinstance(value, hint)


def declared_return(explainer, args: tuple, kwargs: dict):
    """The return type that the first overload of ``type(explainer).__call__`` matching ``(args, kwargs)`` declares
    (what a type checker shows for that call); every overload's parameters are checked except ``**options``."""
    call = type(explainer).__call__
    overloads = get_overloads(call)
    assert overloads, f"{type(explainer).__name__}.__call__ declares no overloads"
    for overload in overloads:
        hints = typing.get_type_hints(overload, globalns=vars(sys.modules[call.__module__]))
        signature = inspect.signature(overload)
        try:
            bound = signature.bind(explainer, *args, **kwargs)
        except TypeError:
            continue
        bound.apply_defaults()
        params = signature.parameters
        if all(
            params[name].kind is inspect.Parameter.VAR_KEYWORD or _conforms(value, hints[name])
            for name, value in bound.arguments.items()
            if name != "self"
        ):
            return hints["return"]
    raise AssertionError(f"no overload of {type(explainer).__name__}.__call__ takes {args!r}, {kwargs!r}")


def assert_declared_shape(explainer, args: tuple, kwargs: dict, result) -> None:
    """``result`` of ``explainer(*args, **kwargs)`` has the shape the matching overload declares."""
    hint = declared_return(explainer, args, kwargs)
    assert _conforms(result, hint), f"{type(explainer).__name__} returned {type(result).__name__}, declared {hint}"
