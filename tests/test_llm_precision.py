"""Half-precision and sharded models (issue 13.4): ``compute_dtype=torch.float32`` explains a bfloat16 / float16 model
on a per-call float32 copy of its weights, exactly as a float32 model with the same (rounded) weights; models
loaded with ``device_map`` (accelerate: layers on several devices, or offloaded to disk) explain as the model on one
device, and stay as they were."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch
from llm_models import llm_directory, tiny_llm
from optional import require
from task_helpers import check_axioms, restored
from transformers import AutoModelForCausalLM

from transformers_ih import CausalLMInteractionExplainer
from transformers_ih.text.model_state import ComputeCopyWarning

PROMPT, TARGET = "this film is not bad", " at all"
ACCELERATE = "pip install accelerate (transformers loads device_map models through it)"


@pytest.fixture(scope="module")
def half_llama(tmp_path_factory):
    """A bfloat16 Llama, and the float32 model with the same weights (its bfloat16 checkpoint loaded in float32)."""
    _, tok = tiny_llm("llama")
    half = AutoModelForCausalLM.from_pretrained(llm_directory("llama"), dtype=torch.bfloat16)
    directory = tmp_path_factory.mktemp("llama-bf16")
    half.save_pretrained(directory)
    return half, AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32), tok


def test_bf16_with_compute_dtype_equals_the_float32_model(half_llama):
    half, full, tok = half_llama
    with pytest.raises(TypeError, match=r"compute_dtype=torch\.float32"):  # the refusal names the option
        CausalLMInteractionExplainer(half, tok)(PROMPT, target=TARGET)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        explainer = CausalLMInteractionExplainer(half, tok, compute_dtype=torch.float32)
    copies = [w for w in caught if issubclass(w.category, ComputeCopyWarning)]
    n = sum(p.numel() for p in half.parameters())
    assert len(copies) == 1 and f"{4 * n:,} bytes" in str(copies[0].message)  # 4 bytes per bf16 parameter
    before = [p.detach().clone() for p in half.parameters()]
    with restored(half):
        e = explainer(PROMPT, target=TARGET)
    reference = CausalLMInteractionExplainer(full, tok)(PROMPT, target=TARGET)
    assert e.steps == reference.steps
    np.testing.assert_allclose(e.interactions, reference.interactions, atol=1e-5)
    np.testing.assert_allclose([e.f_input, e.f_baseline], [reference.f_input, reference.f_baseline], atol=1e-5)
    check_axioms(e)
    # the user's model is untouched: still bfloat16, the same values
    assert all(p.dtype == torch.bfloat16 and torch.equal(p, q) for p, q in zip(half.parameters(), before))
    # generation runs the model as loaded (bfloat16): the continuation is its own greedy output
    generated = explainer(PROMPT, max_new_tokens=4, steps=4).meta["target_token_ids"]
    ids = tok(PROMPT, return_tensors="pt")
    with torch.no_grad():
        own = half.generate(**ids, max_new_tokens=4, do_sample=False, pad_token_id=tok.eos_token_id)
    assert generated == own[0, ids["input_ids"].shape[1] :].tolist()
    with pytest.raises(ValueError, match="compute_dtype=torch.bfloat16"):
        CausalLMInteractionExplainer(half, tok, compute_dtype=torch.bfloat16)


def test_float16_with_compute_dtype(half_llama):
    _, full, tok = half_llama
    half16 = AutoModelForCausalLM.from_pretrained(llm_directory("llama"), dtype=torch.float16)
    reference = CausalLMInteractionExplainer(copy.deepcopy(half16).float(), tok)(PROMPT, target=TARGET, steps=8)
    with pytest.warns(ComputeCopyWarning):
        e = CausalLMInteractionExplainer(half16, tok, compute_dtype="float32")(PROMPT, target=TARGET, steps=8)
    np.testing.assert_allclose(e.interactions, reference.interactions, atol=1e-5)
    assert next(half16.parameters()).dtype == torch.float16
    with warnings.catch_warnings():  # a float32 model needs no copy: no warning, the same result
        warnings.simplefilter("error")
        same = CausalLMInteractionExplainer(full, tok, compute_dtype=torch.float32)(PROMPT, target=TARGET, steps=8)
    np.testing.assert_allclose(
        same.interactions, CausalLMInteractionExplainer(full, tok)(PROMPT, target=TARGET, steps=8).interactions, atol=0
    )


def _device_maps():
    maps = [("cpu", {})]
    offload = {
        "model.embed_tokens": "cpu",
        "model.rotary_emb": "cpu",
        "model.layers.0": "cpu",
        "model.layers.1": "disk",
        "model.norm": "cpu",
        "lm_head": "cpu",
    }
    maps.append((offload, {"offload": True}))
    if torch.cuda.is_available():  # layers on the GPU and on the CPU: outputs gathered from the last device
        maps.append(
            (
                {
                    "model.embed_tokens": 0,
                    "model.rotary_emb": 0,
                    "model.layers.0": 0,
                    "model.layers.1": "cpu",
                    "model.norm": "cpu",
                    "lm_head": "cpu",
                },
                {},
            )
        )
    return [pytest.param(m, kw, id=("offload" if kw else "cpu" if m == "cpu" else "cuda+cpu")) for m, kw in maps]


@pytest.mark.parametrize("device_map, kw", _device_maps())
def test_device_map(tmp_path, device_map, kw):
    """accelerate's device_map: "cpu", a split with a layer offloaded to disk (its weights on the meta device, loaded
    by hooks at each forward), and on a GPU machine a cuda:0 + cpu split. The explanation equals the single-device
    model's, and the model keeps its hooks and placement (offloaded weights stay on meta)."""
    require("accelerate", ACCELERATE)
    reference_model, tok = tiny_llm("llama")
    reference = CausalLMInteractionExplainer(reference_model, tok)(PROMPT, target=TARGET)
    load = {"offload_folder": str(tmp_path / "offload")} if kw.get("offload") else {}
    model = AutoModelForCausalLM.from_pretrained(
        llm_directory("llama"), dtype=torch.float32, device_map=device_map, **load
    )
    placement = {n: p.device for n, p in model.named_parameters()}
    hooks = {n for n, m in model.named_modules() if hasattr(m, "_hf_hook")}
    if kw.get("offload"):
        assert "meta" in {d.type for d in placement.values()} and hooks
    with restored(model):
        e = CausalLMInteractionExplainer(model, tok)(PROMPT, target=TARGET)
    assert e.steps == reference.steps
    np.testing.assert_allclose(e.interactions, reference.interactions, atol=1e-5)
    assert e.f_input == pytest.approx(reference.f_input, abs=1e-5)
    assert {n: p.device for n, p in model.named_parameters()} == placement
    assert {n for n, m in model.named_modules() if hasattr(m, "_hf_hook")} == hooks
    # generated targets and chat prompts run through the same hooks
    generated = CausalLMInteractionExplainer(model, tok)(PROMPT, max_new_tokens=3, steps=4)
    assert (
        generated.meta["target_token_ids"]
        == CausalLMInteractionExplainer(reference_model, tok)(PROMPT, max_new_tokens=3, steps=4).meta[
            "target_token_ids"
        ]
    )


def test_offloaded_bf16_with_compute_dtype(tmp_path, half_llama):
    """bfloat16 weights offloaded to disk are cast to float32 as the hooks load them into the call's twin."""
    require("accelerate", ACCELERATE)
    half, full, tok = half_llama
    directory = tmp_path / "bf16"
    half.save_pretrained(directory)
    offload = {
        "model.embed_tokens": "cpu",
        "model.rotary_emb": "cpu",
        "model.layers.0": "disk",
        "model.layers.1": "cpu",
        "model.norm": "cpu",
        "lm_head": "cpu",
    }
    model = AutoModelForCausalLM.from_pretrained(
        directory, dtype=torch.bfloat16, device_map=offload, offload_folder=str(tmp_path / "offload")
    )
    with pytest.warns(ComputeCopyWarning):
        explainer = CausalLMInteractionExplainer(model, tok, compute_dtype=torch.float32)
    e = explainer(PROMPT, target=TARGET, steps=8)
    reference = CausalLMInteractionExplainer(full, tok)(PROMPT, target=TARGET, steps=8)
    np.testing.assert_allclose(e.interactions, reference.interactions, atol=1e-5)
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
