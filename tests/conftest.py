import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
# Threads per test process: OMP_NUM_THREADS (e.g. 1 on a shared machine, where 2 threads each wait on the other)
# wins over the default of up to 2, shared out among pytest-xdist's workers (pyproject's addopts run one per core),
# so that the workers together never ask for more threads than the machine has.
_THREADS = int(os.environ.get("OMP_NUM_THREADS") or 0) or max(1, min(2, os.cpu_count() or 1))
_PER_WORKER = max(1, _THREADS // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1))
torch.set_num_threads(_PER_WORKER)
# child processes (notebook kernels, the CLI, Ray's workers) inherit the same share: more threads than free cores
# make OpenMP's threads wait on each other (a notebook ran 3x slower beside another worker)
os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(_PER_WORKER)

from tiny_models import DEVICE, REAL_MODEL, build_sequence_classifier, build_task_model  # noqa: E402


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory):
    """Factory: ``tiny_classifier(arch)`` -> (model, tokenizer), cached per architecture."""
    cache = {}

    def make(arch: str = "bert"):
        if arch not in cache:
            cache[arch] = build_sequence_classifier(arch, tmp_path_factory.mktemp(f"tiny-{arch}"))
        return cache[arch]

    return make


@pytest.fixture(scope="session")
def tiny_task_model(tmp_path_factory):
    """Factory: ``tiny_task_model(arch, head, labels=None, problem_type=None)`` -> (model, tokenizer), cached; heads
    as in ``tiny_models.HEADS`` (e.g. ``"question-answering"``)."""
    cache = {}

    def make(arch: str, head: str = "sequence-classification", labels=None, problem_type=None):
        key = (arch, head, tuple(labels or ()), problem_type)
        if key not in cache:
            cache[key] = build_task_model(
                arch, head, tmp_path_factory.mktemp(f"tiny-{arch}-{head}"), labels=labels, problem_type=problem_type
            )
        return cache[key]

    return make


@pytest.fixture(scope="session")
def real_model():
    if not REAL_MODEL.exists():
        pytest.fail(f"the shared SST-2 model is missing at {REAL_MODEL}")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(REAL_MODEL).to(DEVICE)
    return model, AutoTokenizer.from_pretrained(REAL_MODEL)


@pytest.fixture(scope="module")
def float64():
    """torch's default dtype float64 for the tests of one module about the math itself (its module-scoped data
    included); restored after the module, so that models built elsewhere stay float32 as users run them (the tiny
    model builders also ask for float32 explicitly)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)
