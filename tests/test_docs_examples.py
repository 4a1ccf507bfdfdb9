"""Every Python block of the documentation (``docs/**/*.md``) runs, on tiny models, in the order of its page.

Each page's blocks run one after the other in one namespace, as a reader would paste them, from a scratch folder
whose ``../shared`` holds the shared SST-2 model and a 4-sentence stand-in of its dev set. The names a page uses
without defining them (``model``, ``tokenizer``, ``text``, ``dataset``, ``explainer``, ``explanation``, ...) come
from the page's setup below: a tiny random model with the task's head (``tests/tiny_models.py``,
``tests/llm_models.py``). A hub id a block loads is replaced by a tiny local stand-in (``STAND_INS``), so that
``from_pretrained(name)`` runs offline. The values a block's comments quote are the real model's; here only
running without an error is checked (``tests/test_readme_numbers.py`` checks the numbers).

A block whose first line is a comment ``# needs <what>`` (a download, a Ray cluster) is not run; ``NEEDS`` lists
what a block may need, so that no block is left out for another reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_models import REAL_MODEL, SST2, build_sequence_classifier, build_task_model

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
NEEDS = ("a download", "a Ray cluster")
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md") if BLOCK.search(p.read_text("utf-8")))
TEXT = "this film is not bad at all"
DEV = [TEXT, "the film is not good , and not funny .", "a bad , terrible , awful movie", "not bad , not bad at all"]


def blocks(page: str) -> list[str]:
    return BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))


def needs(code: str) -> str | None:
    """What a block needs and the test cannot give (its first line ``# needs ...``), else None."""
    first = code.lstrip().split("\n", 1)[0]
    match = re.match(r"#\s*needs (.*)", first)
    return match.group(1) if match else None


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Factory of tiny models, cached for the module: ``models(key)`` -> (model, tokenizer)."""
    cache: dict = {}
    root = tmp_path_factory.mktemp("docs-models")

    def make(key: str):
        if key not in cache:
            arch, head, labels, problem = {
                "classifier": ("bert", None, None, None),
                "other": ("distilbert", None, None, None),
                "multilabel": ("bert", "sequence-classification", ["toxic", "insult", "obscene"], "multi"),
                "nli": ("bert", "sequence-classification", ["contradiction", "neutral", "entailment"], None),
                "token": ("bert", "token-classification", ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], None),
                "qa": ("bert", "question-answering", None, None),
                "causal": ("gpt2", "causal-lm", None, None),
                "masked": ("bert", "masked-lm", None, None),
                "seq2seq": ("t5", "seq2seq-lm", None, None),
            }[key]
            if head is None:
                cache[key] = build_sequence_classifier(arch, root / key)
            else:
                problem_type = "multi_label_classification" if problem else None
                cache[key] = build_task_model(arch, head, root / key, labels=labels, problem_type=problem_type)
        return cache[key]

    return make


_CLASSIFIER: dict = {}  # the default names, made once for the module (their objects are not changed by the blocks)


def classifier_names(models) -> dict:
    if not _CLASSIFIER:
        _CLASSIFIER.update(_classifier_names(models))
    return dict(_CLASSIFIER)


def _classifier_names(models) -> dict:
    from transformers_ih import SequenceClassificationInteractionExplainer

    model, tokenizer = models("classifier")
    explainer = SequenceClassificationInteractionExplainer(model, tokenizer)
    explanation = explainer(TEXT)
    return dict(
        model=model,
        tokenizer=tokenizer,
        text=TEXT,
        review="one long string of cliches . it is not bad at all , though . the actors make it funny .",
        dataset={"sentence": DEV[:2]},
        explainer=explainer,
        explanation=explanation,
        masks=np.array([[True] * len(explanation.words), [i % 2 == 0 for i in range(len(explanation.words))]]),
    )


def task_names(models, key: str, dataset: dict | None = None) -> dict:
    model, tokenizer = models(key)
    return dict(model=model, tokenizer=tokenizer, dataset=dataset or {})


def llm_names() -> dict:
    from llm_models import llm_directory, tiny_llm
    from transformers import AutoModelForCausalLM

    model, tokenizer = tiny_llm("llama")
    bf16 = AutoModelForCausalLM.from_pretrained(llm_directory("llama"), dtype=torch.bfloat16)
    documents = {f"d{i}": f"Document {i}: the capital of country {i} is city {i}." for i in range(1, 6)}
    return dict(model=model, tokenizer=tokenizer, bf16_model=bf16, **documents)


def engine_names() -> dict:
    torch.manual_seed(0)
    relu_net = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1), torch.nn.Flatten(0)
    ).double()
    return dict(W=torch.randn(4, 3, dtype=torch.float64), x=torch.randn(4, dtype=torch.float64),
                baseline=torch.zeros(4, dtype=torch.float64), relu_net=relu_net)  # fmt: skip


def tabular_names() -> dict:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X = torch.tensor((data.data - data.data.mean(0)) / data.data.std(0), dtype=torch.float32)
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(30, 8), torch.nn.Softplus(), torch.nn.Linear(8, 1))
    return dict(f=lambda X: mlp(X).squeeze(-1), X_rows=X[:3], background=X[100:140], model=mlp,
                names=list(data.feature_names), X_train=X[100:], X_test=X[:6])  # fmt: skip


def corpus_names(models) -> dict:
    from transformers_ih import CorpusInteractions, SequenceClassificationInteractionExplainer

    names = classifier_names(models)
    other = SequenceClassificationInteractionExplainer(*models("other"))
    names["other_model_corpus"] = CorpusInteractions.from_explanations(other(DEV, target="POSITIVE"))
    return names


def setup(page: str, models) -> dict:
    """The names ``page`` uses without defining them."""
    tasks = {
        "tasks/pair-classification.md": ("nli", {"premise": DEV[:2], "hypothesis": DEV[2:]}),
        "tasks/multi-label-classification.md": ("multilabel", None),
        "tasks/zero-shot-classification.md": ("nli", None),
        "tasks/token-classification.md": ("token", None),
        "tasks/question-answering.md": ("qa", {"question": ["who is it ?"], "context": ["it is a film ."]}),
        "tasks/causal-lm.md": ("causal", None),
        "tasks/masked-lm.md": ("masked", None),
        "tasks/seq2seq-lm.md": ("seq2seq", None),
    }
    if page in tasks:
        return task_names(models, *tasks[page])
    if page == "llm-prompts.md":
        return llm_names()
    if page == "engine.md":
        return engine_names()
    if page == "tabular.md":
        return tabular_names()
    if page == "corpus.md":
        return corpus_names(models)
    return classifier_names(models)


@pytest.fixture
def scratch(tmp_path, monkeypatch, models):
    """A working folder whose ``../shared`` has the shared model and a 4-sentence dev set."""
    shared = tmp_path / "shared"
    (shared / "models").mkdir(parents=True)
    (shared / "models" / REAL_MODEL.name).symlink_to(REAL_MODEL, target_is_directory=True)
    (shared / "data" / "sst2").mkdir(parents=True)
    header = (SST2 / "dev.tsv").read_text(encoding="utf-8").split("\n", 1)[0]
    rows = "".join(f"{i % 2}\t{sentence}\n" for i, sentence in enumerate(DEV))
    (shared / "data" / "sst2" / "dev.tsv").write_text(f"{header}\n{rows}", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def stand_ins(models) -> dict[str, str]:
    """Hub ids the pages load -> a local folder with a tiny model of the same kind."""
    model, tokenizer = models("classifier")
    return {"distilbert-base-uncased-finetuned-sst-2-english": model.config._name_or_path}


def test_every_block_runs_or_says_what_it_needs():
    assert PAGES, "no Python block found in docs/"
    for page in PAGES:
        for code in blocks(page):
            what = needs(code)
            assert what is None or what.startswith(NEEDS), f"{page}: a block needs {what!r}, not one of {NEEDS}"


@pytest.fixture
def cheap(monkeypatch):
    """Explainers made by a block default to a cheap path rule (4 Gauss points where a call names no rule;
    ``max_nodes=32`` for the adaptive one), generated answers of 4 tokens and no progress bar: the test checks
    that the blocks run, not how accurate a random tiny model's explanation is (an adaptive rule on one can refine
    to hundreds of nodes)."""
    import warnings

    from transformers_ih.engine import NodeCapWarning
    from transformers_ih.tasks import TextInteractionExplainer

    init = TextInteractionExplainer.__init__

    def capped(self, *args, **kwargs):
        kwargs.setdefault("max_nodes", 32)
        kwargs.setdefault("progress", False)
        init(self, *args, **kwargs)

    explain = TextInteractionExplainer.explain

    def fixed_rule(self, *args, **kwargs):  # a call without its own rule: 4 Gauss points
        if not {"steps", "method", "estimator"} & set(kwargs):
            kwargs.update(steps=4, method="gauss")
        if kwargs.get("max_new_tokens") == 32:  # the default: generated answers of 4 tokens
            kwargs["max_new_tokens"] = 4
        return explain(self, *args, **kwargs)

    monkeypatch.setattr(TextInteractionExplainer, "__init__", capped)
    monkeypatch.setattr(TextInteractionExplainer, "explain", fixed_rule)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NodeCapWarning)
        yield


@pytest.mark.parametrize("page", PAGES)
def test_page_blocks_run(page, models, scratch, cheap):
    namespace = {"__name__": f"docs.{page}"} | setup(page, models)
    replaced = stand_ins(models)
    ran = 0
    for number, code in enumerate(blocks(page), 1):
        if needs(code):
            continue
        for hub_id, local in replaced.items():
            code = code.replace(f'"{hub_id}"', repr(local))
        try:
            exec(compile(code, f"{page} (block {number})", "exec"), namespace)
        except Exception as err:
            raise AssertionError(f"{page}, Python block {number} failed: {err!r}\n{code}") from err
        ran += 1
    assert ran or all(needs(code) for code in blocks(page))
