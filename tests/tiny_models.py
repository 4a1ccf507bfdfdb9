"""Tiny random models and tokenizers for tests, built from configs, saved with ``save_pretrained`` and loaded
back with ``from_pretrained`` (the real loading path), offline.

* WordPiece (BERT family): the real SST-2 model's vocabulary in ``../shared``.
* Byte-level BPE (RoBERTa, GPT-2, BART): trained here with ``tokenizers`` on SST-2 sentences.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch
import transformers
from transformers import AutoModelForSequenceClassification, AutoTokenizer

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REAL_MODEL = SHARED / "models" / "distilbert-mini-sst2"
SST2 = SHARED / "data" / "sst2"

TINY = dict(hidden=32, layers=2, heads=4, intermediate=64)


def sst2_sentences(split: str = "train", n: int = 3000) -> list[str]:
    lines = (SST2 / f"{split}.tsv").read_text(encoding="utf-8").splitlines()[1 : n + 1]
    return [line.split("\t", 1)[1].strip() for line in lines]


@lru_cache(maxsize=None)
def wordpiece_tokenizer_dir() -> str:
    return str(REAL_MODEL)


def bpe_tokenizer(directory: Path, max_length: int = 64, vocab_size: int = 800):
    """A byte-level BPE tokenizer (RoBERTa-style special tokens) trained on SST-2, saved to ``directory``."""
    from tokenizers import ByteLevelBPETokenizer, processors

    bpe = ByteLevelBPETokenizer(trim_offsets=True)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe.train_from_iterator(sst2_sentences(), vocab_size=vocab_size, min_frequency=2, special_tokens=specials,
                            show_progress=False)
    obj = bpe._tokenizer
    obj.post_processor = processors.RobertaProcessing(("</s>", obj.token_to_id("</s>")), ("<s>", obj.token_to_id("<s>")),
                                                      trim_offsets=True)
    tok = transformers.RobertaTokenizer(tokenizer_object=obj, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                        cls_token="<s>", pad_token="<pad>", unk_token="<unk>", mask_token="<mask>",
                                        model_max_length=max_length)
    tok.save_pretrained(directory)
    return AutoTokenizer.from_pretrained(directory)


def _config(arch: str, vocab_size: int, num_labels: int):
    h, n, a, i = TINY["hidden"], TINY["layers"], TINY["heads"], TINY["intermediate"]
    # a wide initialisation so that the random model's outputs vary with the input (non-trivial explanations)
    common = dict(vocab_size=vocab_size, num_labels=num_labels, initializer_range=0.2)
    if arch == "bert":
        return transformers.BertConfig(hidden_size=h, num_hidden_layers=n, num_attention_heads=a,
                                       intermediate_size=i, max_position_embeddings=64, **common)
    if arch == "distilbert":
        return transformers.DistilBertConfig(dim=h, n_layers=n, n_heads=a, hidden_dim=i, max_position_embeddings=64,
                                             **common)
    if arch == "roberta":
        return transformers.RobertaConfig(hidden_size=h, num_hidden_layers=n, num_attention_heads=a,
                                          intermediate_size=i, max_position_embeddings=66, pad_token_id=1,
                                          bos_token_id=0, eos_token_id=2, **common)
    raise ValueError(arch)


def build_sequence_classifier(arch: str, directory: Path, num_labels: int = 2, seed: int = 0):
    """Build, save and reload a tiny random ``arch`` sequence classifier and its tokenizer."""
    directory = Path(directory)
    if arch in ("bert", "distilbert"):
        tok = AutoTokenizer.from_pretrained(wordpiece_tokenizer_dir())
        tok.model_max_length = 64
        tok.save_pretrained(directory)
    else:
        tok = bpe_tokenizer(directory)
    config = _config(arch, len(tok), num_labels)
    config.id2label = {i: f"LABEL_{i}" for i in range(num_labels)} if num_labels != 2 else {0: "NEGATIVE", 1: "POSITIVE"}
    config.label2id = {v: k for k, v in config.id2label.items()}
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config)
    model.save_pretrained(directory)
    return AutoModelForSequenceClassification.from_pretrained(directory), AutoTokenizer.from_pretrained(directory)
