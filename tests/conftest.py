import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

from tiny_models import REAL_MODEL, build_sequence_classifier  # noqa: E402


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
def real_model():
    if not REAL_MODEL.exists():
        pytest.fail(f"the shared SST-2 model is missing at {REAL_MODEL}")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    return AutoModelForSequenceClassification.from_pretrained(REAL_MODEL), AutoTokenizer.from_pretrained(REAL_MODEL)
