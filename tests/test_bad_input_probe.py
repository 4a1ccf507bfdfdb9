"""Odd inputs found by a reliability probe: each gets a clear error that names the problem and the fix, never a
raw traceback from deep inside the model or silent NaN; and a property test over random Unicode texts."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from task_helpers import check_axioms

from transformers_ih import PairClassificationInteractionExplainer, SequenceClassificationInteractionExplainer
from transformers_ih.text.encoding import max_input_tokens

TEXT = "this film is not bad at all"


def test_limit_is_the_smaller_of_tokenizer_and_position_embeddings(tiny_task_model):
    """A model configured with 64 positions and a tokenizer allowing more: 72 tokens are refused with the limit, not
    a size mismatch deep in the embeddings; tokenizers with the huge "unset" sentinel too."""
    model, tok = tiny_task_model("bert")
    assert model.config.max_position_embeddings == 64
    for limit in (512, int(1e30)):
        wide = copy.deepcopy(tok)
        wide.model_max_length = limit
        assert max_input_tokens(wide, model) == 64
        ex = SequenceClassificationInteractionExplainer(model, wide)
        with pytest.raises(ValueError, match=r"72 tokens long, over the model's limit of 64 tokens.*shorten"):
            ex("good " * 70)
    roberta, rtok = tiny_task_model("roberta")  # 66 positions, of which padding_idx + 1 = 2 unusable
    assert max_input_tokens(copy.deepcopy(rtok), roberta) == 64


def test_baseline_tensor_of_the_wrong_shape_or_not_finite(tiny_task_model):
    model, tok = tiny_task_model("bert")
    ex = SequenceClassificationInteractionExplainer(model, tok)
    e = model.config.hidden_size
    n = len(tok(TEXT)["input_ids"])
    with pytest.raises(ValueError, match=rf"baseline tensor has shape \(16,\); expected \({e},\).*or \({n}, {e}\)"):
        ex(TEXT, baseline=torch.zeros(16))
    with pytest.raises(ValueError, match=rf"expected \({e},\).*\({n}, {e}\)"):
        ex(TEXT, baseline=torch.zeros(n + 1, e))
    for bad in (torch.full((e,), float("nan")), torch.zeros(n, e).index_fill_(0, torch.tensor([2]), float("inf"))):
        with pytest.raises(ValueError, match="non-finite entries.*finite baseline"):
            ex(TEXT, baseline=bad)
    # a right-shaped (L, e) tensor works and equals the pad baseline given as that tensor
    pad = model.get_input_embeddings()(torch.full((n,), tok.pad_token_id))
    a = ex(TEXT, baseline=pad.detach(), steps=6)
    b = ex(TEXT, baseline="pad", steps=6)
    np.testing.assert_allclose(a.interactions, b.interactions, atol=1e-6)
    assert a.baseline == "tensor"


def test_non_finite_model_output_is_refused(tiny_task_model):
    ex = SequenceClassificationInteractionExplainer(*tiny_task_model("bert"))
    with pytest.raises(ValueError, match="not finite"):
        ex(TEXT, output=lambda out: torch.log(out.logits[:, 0] - out.logits[:, 0] - 1.0), steps=4)


def test_mixed_and_unequal_inputs(tiny_task_model):
    ex = PairClassificationInteractionExplainer(*tiny_task_model("bert"))
    with pytest.raises(
        TypeError, match=r"all be strings \(one input\) or all sequences.*got text: list, text_pair: str"
    ):
        ex(["a", "b"], "c")
    with pytest.raises(ValueError, match="same length.*lengths"):
        ex(["a", "b"], ["c"])
    with pytest.raises(TypeError, match=r"text_pair\[1\] is int .* not a string"):
        ex(["a", "b"], ["c", 3])
    with pytest.raises(TypeError, match="missing a required argument: 'text_pair'"):
        ex("a")
    with pytest.raises(ValueError, match="steps must be a positive number of path points or None"):
        ex("a", "b", steps=0.5)
    with pytest.raises(TypeError, match="interactions must be True or False"):
        ex("a", "b", interactions="yes")


# ------------------------------------------------------------------------------------------------------------------
UNICODE = st.lists(
    st.one_of(
        st.characters(codec="utf-8"),  # anything, control characters and NUL included
        st.sampled_from(
            [
                "\u200b",
                "\u200d",
                "\u200f",
                "\u202e",
                "\u0301",
                "\u0308",
                "\x00",
                "\t",
                "\n",
                "\U0001f600",
                "\U0001f44d\U0001f3fd",
                "é",
                "ß",
                "中",
                "ا",
                "good",
                " not ",
                "bad",
            ]
        ),
    ),
    min_size=0,
    max_size=12,  # up to ~12 words a text: each random text costs one full explanation
).map("".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=UNICODE)
def test_any_unicode_text_explains_or_names_the_problem(tiny_task_model, text):
    """Emoji, combining marks, zero-width and control characters, RTL marks, NUL: every call returns an explanation
    whose words are ``text[a:b]`` of their offsets and that satisfies the axioms, or raises a ``ValueError`` that
    names the problem."""
    ex = SequenceClassificationInteractionExplainer(*tiny_task_model("bert"))
    try:
        e = ex(text)
    except ValueError as err:
        message = str(err)
        assert any(key in message for key in ("empty", "no words to explain", "over the model's limit")), message
        return
    assert e.words and [text[s:t] for s, t in e.offsets] == e.words
    assert np.isfinite(e.interactions).all()
    check_axioms(e)
