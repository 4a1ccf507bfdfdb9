"""The real DistilBERT SST-2 model in ../shared (slow: seconds per explanation)."""

import numpy as np
import pytest
import torch
from tiny_models import sst2_sentences

from transformers_ih import SequenceClassificationInteractionExplainer
from transformers_ih.engine.adaptive import adaptive_rule
from transformers_ih.engine.reduction import ReducedFunction
from transformers_ih.engine.smoothing import SoftplusMode
from transformers_ih.text.model_state import differentiable_attention

pytestmark = pytest.mark.slow


def dev_sentences(n, max_words):
    return [s for s in sst2_sentences("dev", 872) if len(s.split()) <= max_words][:n]


@pytest.fixture(scope="module")
def explainer(real_model):
    return SequenceClassificationInteractionExplainer(*real_model)


def model_prediction(model, tok, text):
    with torch.no_grad():
        probs = torch.softmax(model(**tok(text, return_tensors="pt").to(model.device)).logits[0].double(), -1)
    return model.config.id2label[int(probs.argmax())], float(probs.max())


def test_negation_example(explainer, real_model):
    e = explainer("this film is not bad at all")
    label, prob = model_prediction(*real_model, e.text)
    assert (e.predicted_label, e.predicted_probability) == (label, pytest.approx(prob, abs=1e-9))
    assert e.words == ["this", "film", "is", "not", "bad", "at", "all"]
    assert e.smoothing == "softplus(beta=20)"  # DistilBERT's head has an inline ReLU
    assert abs(e.model_value - e.f_input) < 0.05
    assert e.completeness_error <= 1e-3 * abs(e.delta)
    # before symmetrisation the matrix is symmetric to float32 noise: the Hessian-vector products are consistent
    assert 0 < e.meta["raw_asymmetry"] < 1e-4
    np.testing.assert_allclose(e.interactions.sum(1), e.attributions, atol=1e-10)
    # "not" x "bad" is the pair that flips the sentiment: the strongest interaction, pushing POSITIVE up
    ((a, b, value),) = e.top_interactions(1)
    assert {a, b} == {"not", "bad"} and value > 0 and e.target == "POSITIVE"


@pytest.mark.parametrize("text", dev_sentences(3, 12))
def test_dev_sentences_default_explanations(explainer, real_model, text):
    e = explainer(text)
    label, prob = model_prediction(*real_model, text)
    assert e.predicted_label == label and e.predicted_probability == pytest.approx(prob, abs=1e-9)
    assert e.completeness_error <= 1e-3 * abs(e.delta)
    np.testing.assert_allclose(e.interactions.sum(1), e.attributions, atol=1e-10)


def path_function(explainer, text, beta):
    enc = explainer.encode([text])
    x, xb, _ = explainer.baseline_embeddings(enc, "pad")
    target = int(explainer.forward(enc).logits[0].argmax())
    f = explainer.scalar_function(enc, lambda out: out.logits[:, target])  # on a twin of the model
    return ReducedFunction(f, x, xb, enc.token_word), (SoftplusMode(beta) if beta else None)


def test_adaptive_rule_reaches_tolerance_on_dev_sentences(explainer, real_model):
    """The adaptive rule's completeness (exactly the completeness of the final interactions, see
    test_engine) is within 1e-3 of |f(x) - f(x')| on 10 dev sentences of up to 25 words, or within 1e-4 of the path's
    total variation where f(x) - f(x') is tiny next to it (the float32 noise floor)."""
    model, _ = real_model
    nodes = []
    for text in dev_sentences(10, 25):
        with differentiable_attention():
            reduced, mode = path_function(explainer, text, 20.0)
            with mode:
                rule, info = adaptive_rule(reduced.path_derivatives, "log")
                grid = reduced.path_derivatives(np.linspace(0.0, 1.0, 65), 0)[0]
        delta = float(grid[-1] - grid[0])  # f(x) - f(x') and the path's variation recomputed here, not the rule's
        variation = float(np.abs(np.diff(grid)).sum())
        assert info.converged and info.completeness_error <= max(1e-3 * abs(delta), 1e-4, 1e-4 * variation)
        nodes.append(len(rule))
    assert max(nodes) <= 512


def test_relu_head_biases_completeness_without_smoothing(explainer, real_model):
    """Without smoothing, the autodiff F'' misses the ReLU kinks: int_0^1 F'' dt != F'(1) - F'(0)."""
    model, _ = real_model
    text = "this film is not bad at all"
    gaps = {}
    for beta in (None, 20.0):
        with differentiable_attention():
            reduced, mode = path_function(explainer, text, beta)
            from transformers_ih.engine.quadrature import gauss_legendre

            nodes, weights = gauss_legendre(200)
            with mode if mode else torch.enable_grad():
                d = reduced.path_derivatives(np.concatenate([nodes, [0.0, 1.0]]), order=2)
        integral = weights @ d[2, :-2]
        gaps[beta] = abs(integral - (d[1, -1] - d[1, -2]))
    assert gaps[None] > 0.5  # a fixed bias, whatever the number of points
    assert gaps[20.0] < 0.05 * gaps[None]
