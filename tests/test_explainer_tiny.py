"""SequenceClassificationInteractionExplainer on tiny random models loaded with from_pretrained."""

import copy

import numpy as np
import pytest
import torch

from transformers_ih import Explanation, SequenceClassificationInteractionExplainer
from transformers_ih.engine.quadrature import fixed_rule

ARCHS = ["bert", "distilbert", "roberta"]
TEXT = "this film is not bad at all"


def check_axioms(e: Explanation, rel=1e-3):
    gamma = e.interactions
    np.testing.assert_allclose(gamma, gamma.T, atol=1e-12)
    np.testing.assert_allclose(gamma.sum(1), e.attributions, atol=1e-12)
    assert e.completeness_error == pytest.approx(abs(gamma.sum() - (e.f_input - e.f_baseline)), abs=1e-9)
    assert e.completeness_error <= max(rel * abs(e.f_input - e.f_baseline), 1e-4)


@pytest.mark.parametrize("arch", ARCHS)
def test_prediction_words_and_axioms(tiny_classifier, arch):
    model, tok = tiny_classifier(arch)
    e = SequenceClassificationInteractionExplainer(model, tok)(TEXT)
    assert e.words == TEXT.split()
    assert [e.text[s:t] for s, t in e.offsets] == e.words
    with torch.no_grad():
        probs = torch.softmax(model(**tok(TEXT, return_tensors="pt").to(model.device)).logits[0], -1)
    assert e.predicted_label == model.config.id2label[int(probs.argmax())]
    assert e.predicted_probability == pytest.approx(float(probs.max()), abs=1e-6)
    assert e.target == e.predicted_label
    assert e.interactions.shape == (7, 7) and np.abs(e.interactions).max() > 0
    if arch == "distilbert":  # ReLU in the classification head (inline nn.ReLU()(x))
        assert e.smoothing == "softplus(beta=20)"
        assert e.model_value == pytest.approx(e.f_input, abs=0.1)
    else:  # gelu throughout: nothing to smooth
        assert e.smoothing is None
        assert e.model_value == pytest.approx(e.f_input, abs=1e-5)
    assert abs(e.delta) > 1e-2
    check_axioms(e)


def brute_force_reference(model, tok, text, target, nodes, weights):
    """Integrated Hessians over every embedding entry (full (L*e)^2 Hessian at each node), summed by word."""
    enc = tok(text, return_tensors="pt").to(model.device)
    emb = model.get_input_embeddings()
    ids = enc["input_ids"]
    x = emb(ids)[0].detach()
    word_ids = enc.word_ids(0)
    special = torch.tensor([w is None for w in word_ids])
    base = torch.where(special[:, None], x, emb(torch.full_like(ids, tok.pad_token_id))[0].detach())
    d = (x - base).reshape(-1)
    L, e = x.shape

    def g(flat):
        return model(inputs_embeds=flat.reshape(1, L, e), attention_mask=enc["attention_mask"]).logits[0, target]

    n = L * e
    gamma = torch.zeros(n, n, dtype=torch.float64)
    for t, w in zip(nodes, weights):
        z = (base.reshape(-1) + t * d).requires_grad_(True)
        H = torch.autograd.functional.hessian(g, z)
        gr = torch.autograd.grad(g(z), z)[0]
        gamma += w * (t * torch.outer(d, d) * H + torch.diag(d * gr))
    words = sorted({w for w in word_ids if w is not None})
    S = torch.zeros(len(words), n, dtype=torch.float64)
    for pos, w in enumerate(word_ids):
        if w is not None:
            S[w, pos * e : (pos + 1) * e] = 1
    return (S @ gamma @ S.T).numpy()


@pytest.mark.parametrize("arch", ["bert", "roberta"])
def test_matches_brute_force_full_hessian(tiny_classifier, arch):
    model, tok = tiny_classifier(arch)
    model = copy.deepcopy(model).double().eval()
    text = "not bad at all"
    rule = fixed_rule("log", 8)
    with torch.nn.attention.sdpa_kernel([torch.nn.attention.SDPBackend.MATH]):
        reference = brute_force_reference(model, tok, text, 1, rule.nodes, rule.weights)
    e = SequenceClassificationInteractionExplainer(model, tok)(text, target=1, steps=8)
    np.testing.assert_allclose(e.interactions, reference, rtol=1e-5, atol=1e-5 * np.abs(reference).max())
    # and the adaptive default converges to the exact integral: compare with a 48-point Gauss rule
    exact = SequenceClassificationInteractionExplainer(model, tok)(text, target=1, steps=48)
    tight = SequenceClassificationInteractionExplainer(model, tok, rtol=1e-8, atol=1e-10)(text, target=1)
    np.testing.assert_allclose(tight.interactions, exact.interactions, atol=1e-6 * np.abs(exact.interactions).max())


def test_label_names_indices_and_outputs(tiny_classifier):
    model, tok = tiny_classifier("bert")
    ex = SequenceClassificationInteractionExplainer(model, tok)
    by_name = ex(TEXT, target="negative", steps=8)
    by_index = ex(TEXT, target=0, steps=8)
    assert by_name.target == "NEGATIVE" and by_name.target_index == 0
    np.testing.assert_allclose(by_name.interactions, by_index.interactions)
    prob = ex(TEXT, target=0, output="probability")
    with torch.no_grad():
        p0 = float(torch.softmax(model(**tok(TEXT, return_tensors="pt").to(model.device)).logits[0], -1)[0])
    assert prob.f_input == pytest.approx(p0, abs=1e-6) and prob.output == "probability"
    check_axioms(prob)
    ig = ex(TEXT, interactions=False)
    assert ig.interactions is None and ig.completeness_error <= 1e-3 * abs(ig.delta) + 1e-4
    full = ex(TEXT)
    np.testing.assert_allclose(ig.attributions, full.attributions, atol=2e-3 * np.abs(full.attributions).max())


@pytest.mark.parametrize("baseline", ["pad", "mask", "unk", "zero", 100, "tensor"])
def test_baselines_keep_special_tokens(tiny_classifier, baseline):
    model, tok = tiny_classifier("bert")
    if baseline == "tensor":
        baseline = torch.full((model.config.hidden_size,), 0.1)
    e = SequenceClassificationInteractionExplainer(model, tok)(TEXT, baseline=baseline)
    check_axioms(e)
    assert e.baseline in ("pad", "mask", "unk", "zero", "token:100", "tensor")


def test_pad_baseline_value_is_the_pad_sentence(tiny_classifier):
    model, tok = tiny_classifier("distilbert")
    e = SequenceClassificationInteractionExplainer(model, tok, smoothing=None)(TEXT, target=1, steps=4)
    ids = tok(TEXT, return_tensors="pt").to(model.device)["input_ids"]
    pad_ids = torch.where((ids == tok.cls_token_id) | (ids == tok.sep_token_id), ids, tok.pad_token_id)
    with torch.no_grad():
        expected = float(model(input_ids=pad_ids).logits[0, 1])
    assert e.f_baseline == pytest.approx(expected, abs=1e-5)


def test_subword_tokens_merge_into_words(tiny_classifier):
    model, tok = tiny_classifier("bert")
    text = "an unbelievably overwrought, self-indulgent mess!"
    e = SequenceClassificationInteractionExplainer(model, tok)(text, steps=6)
    assert len(e.tokens) > len(e.words) + 2  # some words are several tokens
    assert [text[s:t] for s, t in e.offsets] == e.words
    assert "unbelievably" in e.words


def model_state(model):
    return (
        [m.training for m in model.modules()],
        [p.requires_grad for p in model.parameters()],
        [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        model.config._attn_implementation,
    )


def test_model_is_restored_after_call_and_after_error(tiny_classifier):
    model, tok = tiny_classifier("bert")
    model.train()
    model.classifier.weight.requires_grad_(False)
    model.bert.embeddings.word_embeddings.weight.grad = torch.ones_like(model.bert.embeddings.word_embeddings.weight)
    before = model_state(model)
    ex = SequenceClassificationInteractionExplainer(model, tok)
    ex(TEXT, steps=4)
    after = model_state(model)
    assert before[:2] == after[:2] and before[3] == after[3]
    assert all((a is None and b is None) or torch.equal(a, b) for a, b in zip(before[2], after[2]))

    calls = []

    def failing(outputs):
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("boom")
        return outputs.logits[:, 0]

    with pytest.raises(RuntimeError, match="boom"):
        ex(TEXT, output=failing)
    after = model_state(model)
    assert before[:2] == after[:2] and before[3] == after[3]
    model.eval()
    model.classifier.weight.requires_grad_(True)
    for p in model.parameters():
        p.grad = None


def test_attention_implementation_is_left_as_it_was(tiny_classifier, tmp_path):
    _, tok = tiny_classifier("bert")
    model, _ = tiny_classifier("bert")
    model.save_pretrained(tmp_path)
    from transformers import AutoModelForSequenceClassification

    eager = AutoModelForSequenceClassification.from_pretrained(tmp_path, attn_implementation="eager")
    e1 = SequenceClassificationInteractionExplainer(eager, tok)(TEXT, target=1, steps=6)
    assert eager.config._attn_implementation == "eager"
    e2 = SequenceClassificationInteractionExplainer(model, tok)(TEXT, target=1, steps=6)
    assert model.config._attn_implementation == "sdpa"
    np.testing.assert_allclose(e1.interactions, e2.interactions, atol=1e-4 * np.abs(e2.interactions).max())


def test_list_of_texts(tiny_classifier):
    model, tok = tiny_classifier("bert")
    out = SequenceClassificationInteractionExplainer(model, tok)(["good", "not good"], steps=4)
    assert [o.words for o in out] == [["good"], ["not", "good"]]


# ---------------------------------------------------------------- bad input
def test_empty_and_whitespace_text(tiny_classifier):
    ex = SequenceClassificationInteractionExplainer(*tiny_classifier("bert"))
    for text in ["", "   \n"]:
        with pytest.raises(ValueError, match="empty"):
            ex(text)
    with pytest.raises(TypeError, match="string"):
        ex(42)


def test_unknown_label_and_index(tiny_classifier):
    ex = SequenceClassificationInteractionExplainer(*tiny_classifier("bert"))
    with pytest.raises(ValueError, match="unknown label 'neutral'.*NEGATIVE.*POSITIVE"):
        ex(TEXT, target="neutral")
    with pytest.raises(ValueError, match="out of range.*2 labels"):
        ex(TEXT, target=5)
    with pytest.raises(ValueError, match="output must be"):
        ex(TEXT, output="odds")


def test_text_over_the_limit_is_not_truncated(tiny_classifier):
    ex = SequenceClassificationInteractionExplainer(*tiny_classifier("bert"))
    with pytest.raises(ValueError, match=r"\d+ tokens long, over the model's limit of 64 tokens.*shorten"):
        ex("good " * 100)


def test_slow_tokenizer_rejected(tiny_classifier):
    model, tok = tiny_classifier("bert")

    class Slow:
        is_fast = False

    with pytest.raises(TypeError, match="use_fast=True"):
        SequenceClassificationInteractionExplainer(model, Slow())


def test_model_without_input_embeddings(tiny_classifier):
    _, tok = tiny_classifier("bert")
    with pytest.raises(TypeError, match="no input embeddings"):
        SequenceClassificationInteractionExplainer(torch.nn.Linear(3, 2), tok)


def test_half_precision_refused(tiny_classifier):
    model, tok = tiny_classifier("bert")
    half = copy.deepcopy(model).half()
    with pytest.raises(TypeError, match=r"half precision.*compute_dtype=torch.float32"):
        SequenceClassificationInteractionExplainer(half, tok)(TEXT)


def test_unknown_baseline(tiny_classifier):
    ex = SequenceClassificationInteractionExplainer(*tiny_classifier("bert"))
    with pytest.raises(ValueError, match="unknown baseline"):
        ex(TEXT, baseline="noise")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        ex(TEXT, baseline=10**9)


@pytest.mark.parametrize("arch", ["bert", "roberta"])
def test_batched_texts_equal_single_texts(tiny_classifier, arch):
    """Texts of different lengths explained together (padded, model calls shared) give each text's own
    explanation: to float32 rounding with a fixed rule, within the tolerance with the adaptive rule."""
    model, tok = tiny_classifier(arch)
    texts = ["good", "this film is not bad at all", "a bad, terrible movie"]
    ex = SequenceClassificationInteractionExplainer(model, tok, text_batch_size=3)
    ex.max_padding = float("inf")  # one padded batch despite the different lengths
    for options in (dict(steps=6), dict()):
        batched = ex(texts, target=1, **options)
        for text, b in zip(texts, batched):
            single = ex(text, target=1, **options)
            assert b.words == single.words and b.tokens == single.tokens and b.offsets == single.offsets
            scale = np.abs(single.interactions).max()
            tol = 1e-4 * scale if options else 2e-3 * abs(single.delta) + 1e-4
            np.testing.assert_allclose(b.interactions, single.interactions, atol=tol)
            assert b.f_input == pytest.approx(single.f_input, abs=1e-5)
            assert b.predicted_probability == pytest.approx(single.predicted_probability, abs=1e-9)
            check_axioms(b)
    ig = ex(texts, interactions=False)
    assert [e.interactions for e in ig] == [None] * 3
    assert [e.words for e in ig] == [t.replace(",", " ,").split() for t in texts]


def test_length_buckets_bound_padding_and_batch_size():
    from transformers_ih.text.requests import length_buckets

    lengths = [5, 30, 5, 6, 31, 5, 5, 12, 30]
    groups = length_buckets(lengths, size=3, max_padding=0.1)
    assert sorted(j for g in groups for j in g) == list(range(len(lengths)))
    assert groups == [[0, 2, 5], [6, 3], [7], [1, 8, 4]]  # 5 and 6 tokens: 12 padded <= 1.1 * 11
    for g in groups:
        padded = max(lengths[j] for j in g) * len(g)
        assert len(g) <= 3 and padded <= 1.1 * sum(lengths[j] for j in g)
    assert length_buckets(lengths, size=16, max_padding=float("inf")) == [[0, 2, 5, 6, 3, 7, 1, 8, 4]]
    assert length_buckets([], size=4) == []


def test_dataset_column_of_texts(tiny_classifier, tmp_path):
    import datasets

    path = tmp_path / "texts.tsv"
    path.write_text("label\tsentence\n1\tgood\n0\tnot good at all\n", encoding="utf-8")
    column = datasets.load_dataset("csv", data_files=str(path), delimiter="\t")["train"]["sentence"]
    out = SequenceClassificationInteractionExplainer(*tiny_classifier("bert"))(column, steps=4)
    assert [e.words for e in out] == [["good"], ["not", "good", "at", "all"]]


def test_pad_baseline_falls_back_to_eos_and_says_so(tiny_classifier):
    model, tok = tiny_classifier("roberta")
    no_pad = copy.deepcopy(tok)
    no_pad.pad_token = None
    assert no_pad.pad_token_id is None
    ex = SequenceClassificationInteractionExplainer(model, no_pad)
    enc = ex.encode([TEXT])
    x, base, desc = ex.baseline_embeddings(enc, "pad")
    assert desc == "eos (no pad token)"
    eos = model.get_input_embeddings().weight[tok.eos_token_id]
    assert torch.equal(base[1], eos) and torch.equal(base[0], x[0])  # <s> kept


def test_no_word_is_empty_with_runs_of_spaces(tiny_classifier):
    model, tok = tiny_classifier("roberta")
    text = "good   film"
    e = SequenceClassificationInteractionExplainer(model, tok)(text, steps=4)
    assert all(w for w in e.words) and [text[s:t] for s, t in e.offsets] == e.words
    assert e.words[0] == "good" and e.words[-1] == "film"


def test_attributions_only_leave_the_attention_kernels_alone(tiny_classifier, monkeypatch):
    """Integrated Gradients need no double backward, so the fused SDPA kernels stay in use; interactions route SDPA
    to the math kernel in this thread (a function mode; torch's global backend flags untouched). Both give the same
    attributions (to float32 rounding)."""
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    import transformers_ih.text.model_state as model_state

    routed = []
    real = model_state._math_sdpa
    monkeypatch.setattr(model_state, "_math_sdpa", lambda *a, **k: routed.append(1) or real(*a, **k))
    flags = (torch.backends.cuda.flash_sdp_enabled(), torch.backends.cuda.math_sdp_enabled())
    ex = SequenceClassificationInteractionExplainer(*tiny_classifier("bert"))
    ig = ex(TEXT, interactions=False, steps=8)
    assert routed == []
    ih = ex(TEXT, steps=8)
    assert len(routed) > 0 and flags == (
        torch.backends.cuda.flash_sdp_enabled(),
        torch.backends.cuda.math_sdp_enabled(),
    )
    with sdpa_kernel([SDPBackend.MATH]):
        ig_math = ex(TEXT, interactions=False, steps=8)
    np.testing.assert_allclose(ig.attributions, ig_math.attributions, atol=1e-5)
    np.testing.assert_allclose(ig.attributions, ih.attributions, atol=1e-4)
    assert ig.completeness_error == pytest.approx(ig_math.completeness_error, abs=1e-5)
    # the routed math kernel is SDPA's own math kernel: equal outputs on a boolean and a float mask
    q, k, v = torch.randn(3, 1, 2, 5, 4).unbind(0)
    mask = torch.rand(1, 1, 5, 5) > 0.3
    mask[..., 0] = True
    with sdpa_kernel([SDPBackend.MATH]):
        for m in (mask, torch.randn(1, 1, 5, 5)):
            np.testing.assert_allclose(
                real(q, k, v, attn_mask=m, scale=0.3),
                F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.3),
                atol=1e-6,
            )
