"""Tiny random models and tokenizers for tests, built from configs, saved with ``save_pretrained`` and loaded
back with ``from_pretrained`` (the real loading path), offline.

* WordPiece (BERT family): the real SST-2 model's vocabulary in ``../shared``.
* Byte-level BPE (RoBERTa, GPT-2, BART): trained here with ``tokenizers`` on SST-2 sentences.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import torch
import transformers
from transformers import AutoModelForSequenceClassification, AutoTokenizer

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REAL_MODEL = SHARED / "models" / "distilbert-mini-sst2"
SST2 = SHARED / "data" / "sst2"

TINY = dict(hidden=32, layers=2, heads=4, intermediate=64)

#: where the tests run models: ``TRANSFORMERS_IH_TEST_DEVICE=cuda python -m pytest`` runs the suite on a GPU
DEVICE = torch.device(os.environ.get("TRANSFORMERS_IH_TEST_DEVICE", "cpu"))


def sst2_sentences(split: str = "train", n: int = 3000) -> list[str]:
    lines = (SST2 / f"{split}.tsv").read_text(encoding="utf-8").splitlines()[1 : n + 1]
    return [line.split("\t", 1)[1].strip() for line in lines]


@cache
def wordpiece_tokenizer_dir() -> str:
    return str(REAL_MODEL)


def bpe_tokenizer(directory: Path, max_length: int = 64, vocab_size: int = 800):
    """A byte-level BPE tokenizer (RoBERTa-style special tokens) trained on SST-2, saved to ``directory``."""
    from tokenizers import ByteLevelBPETokenizer, processors

    bpe = ByteLevelBPETokenizer(trim_offsets=True)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe.train_from_iterator(
        sst2_sentences(), vocab_size=vocab_size, min_frequency=2, special_tokens=specials, show_progress=False
    )
    obj = bpe._tokenizer
    obj.post_processor = processors.RobertaProcessing(
        ("</s>", obj.token_to_id("</s>")), ("<s>", obj.token_to_id("<s>")), trim_offsets=True
    )
    tok = transformers.RobertaTokenizer(
        tokenizer_object=obj,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        pad_token="<pad>",
        unk_token="<unk>",
        mask_token="<mask>",
        model_max_length=max_length,
    )
    tok.save_pretrained(directory)
    return AutoTokenizer.from_pretrained(directory)


def _config(arch: str, vocab_size: int, num_labels: int):
    h, n, a, i = TINY["hidden"], TINY["layers"], TINY["heads"], TINY["intermediate"]
    # a wide initialisation so that the random model's outputs vary with the input (non-trivial explanations)
    common = dict(vocab_size=vocab_size, num_labels=num_labels, initializer_range=0.2)
    if arch == "bert":
        return transformers.BertConfig(
            hidden_size=h,
            num_hidden_layers=n,
            num_attention_heads=a,
            intermediate_size=i,
            max_position_embeddings=64,
            **common,
        )
    if arch == "distilbert":
        return transformers.DistilBertConfig(
            dim=h, n_layers=n, n_heads=a, hidden_dim=i, max_position_embeddings=64, **common
        )
    if arch == "roberta":
        return transformers.RobertaConfig(
            hidden_size=h,
            num_hidden_layers=n,
            num_attention_heads=a,
            intermediate_size=i,
            max_position_embeddings=66,
            pad_token_id=1,
            bos_token_id=0,
            eos_token_id=2,
            **common,
        )
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
    config.id2label = (
        {i: f"LABEL_{i}" for i in range(num_labels)} if num_labels != 2 else {0: "NEGATIVE", 1: "POSITIVE"}
    )
    config.label2id = {v: k for k, v in config.id2label.items()}
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config, dtype=torch.float32)
    model.save_pretrained(directory)
    return AutoModelForSequenceClassification.from_pretrained(directory, dtype=torch.float32).to(
        DEVICE
    ), AutoTokenizer.from_pretrained(directory)


# ---------------------------------------------------------------------------------------------------------------
# Task heads and more architectures (issue 4): every tokenizer is the architecture's own fast class, built from a
# vocabulary trained here (byte-level BPE, SentencePiece-style Unigram) or the real model's WordPiece vocabulary.

TASK_ARCHS = (
    "bert",
    "distilbert",
    "roberta",
    "xlm-roberta",
    "albert",
    "electra",
    "deberta-v2",
    "mpnet",
    "modernbert",
    "gpt2",
    "bart",
    "t5",
)
HEADS = {
    "sequence-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "masked-lm": "AutoModelForMaskedLM",
    "causal-lm": "AutoModelForCausalLM",
    "seq2seq-lm": "AutoModelForSeq2SeqLM",
}
MAX_TOKENS = 64


@cache
def _bpe_vocab_merges(specials: tuple[str, ...], vocab_size: int = 800) -> tuple[dict, list]:
    """A byte-level BPE (vocabulary, merges) trained on SST-2, specials first."""
    import json

    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        sst2_sentences(), vocab_size=vocab_size, min_frequency=2, special_tokens=list(specials), show_progress=False
    )
    model = json.loads(bpe._tokenizer.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return dict(model["vocab"]), merges


@cache
def _unigram_pieces(lowercase: bool, vocab_size: int = 1000) -> tuple[tuple[str, float], ...]:
    """SentencePiece-style Unigram pieces (with scores) trained on SST-2, without special tokens."""
    import json

    from tokenizers import SentencePieceUnigramTokenizer

    sp = SentencePieceUnigramTokenizer()
    text = [s.lower() for s in sst2_sentences()] if lowercase else sst2_sentences()
    sp.train_from_iterator(
        text, vocab_size=vocab_size, special_tokens=["<unk>"], unk_token="<unk>", show_progress=False
    )
    vocab = json.loads(sp._tokenizer.to_str())["model"]["vocab"]
    return tuple((piece, float(score)) for piece, score in vocab if piece != "<unk>")


def _unigram_vocab(specials: list[str], lowercase: bool = False) -> list[tuple[str, float]]:
    return [(s, 0.0) for s in specials] + list(_unigram_pieces(lowercase))


def task_tokenizer(arch: str, directory: Path):
    """The architecture's own fast tokenizer class, saved to ``directory`` and reloaded with ``AutoTokenizer``."""
    from tokenizers import AddedToken

    directory = Path(directory)
    kw = dict(model_max_length=MAX_TOKENS)
    if arch in ("bert", "distilbert", "electra"):
        tok = AutoTokenizer.from_pretrained(wordpiece_tokenizer_dir())
        tok.model_max_length = MAX_TOKENS
    elif arch == "modernbert":  # the WordPiece vocabulary; ModernBERT takes no token type ids (as its own tokenizer)
        tok = AutoTokenizer.from_pretrained(wordpiece_tokenizer_dir())
        tok.model_max_length = MAX_TOKENS
        tok.model_input_names = ["input_ids", "attention_mask"]
    elif arch == "mpnet":  # MPNet's own tokenizer (RoBERTa-style pair template) on the WordPiece vocabulary
        vocab = AutoTokenizer.from_pretrained(wordpiece_tokenizer_dir()).get_vocab()
        tok = transformers.MPNetTokenizer(
            vocab=vocab,
            bos_token="[CLS]",
            eos_token="[SEP]",
            sep_token="[SEP]",
            cls_token="[CLS]",
            pad_token="[PAD]",
            mask_token="[MASK]",
            unk_token="[UNK]",
            **kw,
        )
    elif arch in ("roberta", "bart"):
        vocab, merges = _bpe_vocab_merges(("<s>", "<pad>", "</s>", "<unk>", "<mask>"))
        cls = transformers.RobertaTokenizer if arch == "roberta" else transformers.BartTokenizer
        # the mask takes the space before it, as in roberta-base / bart-large
        tok = cls(vocab=dict(vocab), merges=list(merges), mask_token=AddedToken("<mask>", lstrip=True), **kw)
    elif arch == "gpt2":  # no pad token, like GPT-2's own
        vocab, merges = _bpe_vocab_merges(("<|endoftext|>",))
        tok = transformers.GPT2Tokenizer(vocab=dict(vocab), merges=list(merges), **kw)
    elif arch == "xlm-roberta":
        tok = transformers.XLMRobertaTokenizer(vocab=_unigram_vocab(["<s>", "<pad>", "</s>", "<unk>", "<mask>"]), **kw)
    elif arch == "albert":
        tok = transformers.AlbertTokenizer(
            vocab=_unigram_vocab(["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"], True), **kw
        )
    elif arch == "deberta-v2":
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        tok = transformers.DebertaV2Tokenizer(vocab=_unigram_vocab(specials), **kw)
    elif arch == "t5":
        tok = transformers.T5Tokenizer(vocab=_unigram_vocab(["<pad>", "</s>", "<unk>"]), extra_ids=0, **kw)
    else:
        raise ValueError(arch)
    tok.save_pretrained(directory)
    return AutoTokenizer.from_pretrained(directory)


def task_config(arch: str, tok, num_labels: int = 2):
    """A tiny config (hidden 32, 2 layers) for ``arch`` with the tokenizer's special token ids."""
    h, n, a, i = TINY["hidden"], TINY["layers"], TINY["heads"], TINY["intermediate"]
    common = dict(vocab_size=len(tok), num_labels=num_labels, initializer_range=0.2)
    ids = dict(pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    bert_like = dict(hidden_size=h, num_hidden_layers=n, num_attention_heads=a, intermediate_size=i, **common)
    if arch in ("bert", "distilbert", "roberta"):
        return _config(arch, len(tok), num_labels)
    if arch == "xlm-roberta":
        return transformers.XLMRobertaConfig(max_position_embeddings=MAX_TOKENS + 2, **ids, **bert_like)
    if arch == "albert":
        return transformers.AlbertConfig(embedding_size=16, max_position_embeddings=MAX_TOKENS, **ids, **bert_like)
    if arch == "electra":
        return transformers.ElectraConfig(embedding_size=16, max_position_embeddings=MAX_TOKENS, **bert_like)
    if arch == "deberta-v2":  # DeBERTa-v3 layout: relative attention only, no token type embeddings
        return transformers.DebertaV2Config(
            max_position_embeddings=MAX_TOKENS,
            relative_attention=True,
            position_buckets=16,
            pos_att_type=["p2c", "c2p"],
            max_relative_positions=-1,
            position_biased_input=False,
            type_vocab_size=0,
            norm_rel_ebd="layer_norm",
            share_att_key=True,
            pad_token_id=tok.pad_token_id,
            **bert_like,
        )
    if arch == "mpnet":
        return transformers.MPNetConfig(max_position_embeddings=MAX_TOKENS + 2, **ids, **bert_like)
    if arch == "modernbert":
        return transformers.ModernBertConfig(
            max_position_embeddings=MAX_TOKENS,
            global_attn_every_n_layers=2,
            local_attention=16,
            cls_token_id=tok.cls_token_id,
            sep_token_id=tok.sep_token_id,
            **ids,
            **bert_like,
        )
    if arch == "gpt2":
        return transformers.GPT2Config(
            n_embd=h,
            n_layer=n,
            n_head=a,
            n_inner=i,
            n_positions=MAX_TOKENS,
            bos_token_id=tok.eos_token_id,
            eos_token_id=tok.eos_token_id,
            **common,
        )
    if arch == "bart":
        return transformers.BartConfig(
            d_model=h,
            encoder_layers=n,
            decoder_layers=n,
            encoder_attention_heads=a,
            decoder_attention_heads=a,
            encoder_ffn_dim=i,
            decoder_ffn_dim=i,
            max_position_embeddings=MAX_TOKENS,
            decoder_start_token_id=tok.eos_token_id,
            forced_eos_token_id=None,
            init_std=0.2,
            **ids,
            **common,
        )
    if arch == "t5":
        return transformers.T5Config(
            d_model=h,
            d_kv=h // a,
            d_ff=i,
            num_layers=n,
            num_decoder_layers=n,
            num_heads=a,
            relative_attention_num_buckets=8,
            feed_forward_proj="gated-gelu",
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
            decoder_start_token_id=tok.pad_token_id,
            **common,
        )
    raise ValueError(arch)


def build_task_model(
    arch: str,
    head: str,
    directory: Path,
    *,
    labels: list[str] | None = None,
    seed: int = 0,
    problem_type: str | None = None,
):
    """Build, save and reload a tiny random ``arch`` model with the ``head`` of :data:`HEADS` and its tokenizer."""
    directory = Path(directory)
    tok = task_tokenizer(arch, directory)
    labels = labels or ["NEGATIVE", "POSITIVE"]
    config = task_config(arch, tok, len(labels))
    config.id2label = dict(enumerate(labels))
    config.label2id = {v: k for k, v in config.id2label.items()}
    if problem_type:
        config.problem_type = problem_type
    torch.manual_seed(seed)
    auto = getattr(transformers, HEADS[head])
    model = auto.from_config(config, dtype=torch.float32)
    model.save_pretrained(directory)
    return auto.from_pretrained(directory, dtype=torch.float32).to(DEVICE), AutoTokenizer.from_pretrained(directory)
