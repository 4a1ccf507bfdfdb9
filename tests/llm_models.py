"""Tiny random chat LLMs for the LLM tests (tests/test_llm_*.py): configs of hidden 32 and 2 layers, each with its
family's own fast tokenizer class and a small chat template in the family's format, saved with ``save_pretrained``
and loaded with ``from_pretrained`` (the real loading path), offline.

Tokenizers are built from ``vocab=`` / ``merges=`` (transformers 5 silently builds an empty tokenizer from
``vocab_file=`` paths): byte-level BPE (Llama-3, Qwen2) and SentencePiece-style BPE with ``▁`` (Llama-2 / Mistral /
Phi-3's ``LlamaTokenizer``, Gemma's ``GemmaTokenizer``), trained on SST-2 sentences.
"""

from __future__ import annotations

import json
import string
from functools import cache
from pathlib import Path

import torch
import transformers
from tiny_models import DEVICE, sst2_sentences
from transformers import AutoModelForCausalLM, AutoTokenizer

H, LAYERS, HEADS, KV_HEADS, INTERMEDIATE = 32, 2, 4, 2, 64
MAX_TOKENS = 256

LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# Mistral's [INST] format: a system message goes into the first user turn, before its content
MISTRAL_TEMPLATE = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] + '\\n\\n' %}"
    "{% set rest = messages[1:] %}{% else %}{% set system = '' %}{% set rest = messages %}{% endif %}"
    "{% for message in rest %}{% if message['role'] == 'user' %}[INST] {{ system if loop.first else '' }}"
    "{{ message['content'] }} [/INST]{% else %}{{ message['content'] }}{{ eos_token }}{% endif %}{% endfor %}"
)
GEMMA_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% set role = 'model' if message['role'] == 'assistant' else "
    "message['role'] %}<start_of_turn>{{ role }}\n{{ message['content'] | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
PHI3_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% else %}{{ eos_token }}{% endif %}"
)

#: architecture -> (tokenizer kind, chat template, special tokens)
FAMILIES = {
    "llama": (
        "bytelevel-llama3",
        LLAMA3_TEMPLATE,
        ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
    ),
    "qwen2": ("qwen2", CHATML_TEMPLATE, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]),
    "qwen2_moe": ("qwen2", CHATML_TEMPLATE, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]),
    "mistral": ("sentencepiece", MISTRAL_TEMPLATE, ["<unk>", "<s>", "</s>"]),
    "mixtral": ("sentencepiece", MISTRAL_TEMPLATE, ["<unk>", "<s>", "</s>"]),
    "phi3": (
        "sentencepiece",
        PHI3_TEMPLATE,
        ["<unk>", "<s>", "</s>", "<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"],
    ),
    "gemma2": (
        "gemma",
        GEMMA_TEMPLATE,
        ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>"],
    ),
    "gemma3": (
        "gemma",
        GEMMA_TEMPLATE,
        ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>"],
    ),
}
ARCHS = tuple(FAMILIES)


@cache
def _vocab_merges(kind: str, specials: tuple[str, ...], vocab_size: int = 700) -> tuple[dict, list]:
    """(vocabulary, merges) trained on 1,500 SST-2 sentences, ``specials`` first: byte-level BPE, or
    SentencePiece-style BPE (``▁`` for spaces)."""
    from tokenizers import ByteLevelBPETokenizer, SentencePieceBPETokenizer

    if kind == "sentencepiece":  # every printable ASCII character and the newline: no character is unknown
        trainer, alphabet = SentencePieceBPETokenizer(), dict(initial_alphabet=list(string.printable.strip() + "\n"))
    else:
        trainer, alphabet = ByteLevelBPETokenizer(), {}
    trainer.train_from_iterator(
        sst2_sentences(n=1500),
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(specials),
        show_progress=False,
        **alphabet,
    )
    model = json.loads(trainer._tokenizer.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return dict(model["vocab"]), merges


def chat_tokenizer(arch: str, directory: Path):
    """The family's fast tokenizer class with a chat template, saved to ``directory`` and reloaded."""
    from tokenizers import processors

    kind, template, specials = FAMILIES[arch]
    kw = dict(model_max_length=MAX_TOKENS)
    if kind == "bytelevel-llama3":  # Llama 3: a byte-level BPE PreTrainedTokenizerFast that adds <|begin_of_text|>
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers

        vocab, merges = _vocab_merges("bytelevel", tuple(specials))
        obj = Tokenizer(models.BPE(vocab=vocab, merges=merges))
        obj.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        obj.decoder = decoders.ByteLevel()
        obj.post_processor = processors.TemplateProcessing(
            single="<|begin_of_text|> $A", special_tokens=[("<|begin_of_text|>", vocab["<|begin_of_text|>"])]
        )
        obj.add_special_tokens(specials)
        tok = transformers.PreTrainedTokenizerFast(
            tokenizer_object=obj, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>", **kw
        )
    elif kind == "qwen2":
        vocab, merges = _vocab_merges("bytelevel", tuple(specials))
        tok = transformers.Qwen2Tokenizer(
            vocab=vocab, merges=merges, eos_token="<|im_end|>", pad_token="<|endoftext|>", **kw
        )
        tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    elif kind == "sentencepiece":
        vocab, merges = _vocab_merges("sentencepiece", tuple(specials))
        eos = "<|end|>" if arch == "phi3" else "</s>"
        tok = transformers.LlamaTokenizer(
            vocab=vocab, merges=merges, bos_token="<s>", eos_token=eos, add_bos_token=True, **kw
        )
        extra = [s for s in specials if s not in ("<unk>", "<s>", "</s>")]
        if extra:
            tok.add_special_tokens({"additional_special_tokens": extra})
    elif kind == "gemma":
        vocab, merges = _vocab_merges("sentencepiece", tuple(specials))
        tok = transformers.GemmaTokenizer(
            vocab=vocab, merges=merges, eos_token="<end_of_turn>", add_bos_token=True, **kw
        )
        tok.add_special_tokens({"additional_special_tokens": ["<start_of_turn>", "<end_of_turn>"]})
    else:
        raise ValueError(arch)
    tok.chat_template = template
    tok.save_pretrained(directory)
    return AutoTokenizer.from_pretrained(directory)


def llm_config(arch: str, tok):
    """A tiny config (hidden 32, 2 layers, grouped-query attention) for ``arch``, with the tokenizer's ids."""
    common = dict(
        vocab_size=len(tok),
        hidden_size=H,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=INTERMEDIATE,
        max_position_embeddings=MAX_TOKENS,
        initializer_range=0.2,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        tie_word_embeddings=False,
    )
    kv = dict(num_key_value_heads=KV_HEADS)
    if arch == "llama":
        return transformers.LlamaConfig(**common, **kv)
    if arch == "qwen2":
        return transformers.Qwen2Config(**common, **kv)
    if arch == "mistral":
        return transformers.MistralConfig(**common, **kv, sliding_window=None)
    if arch == "phi3":
        return transformers.Phi3Config(**common, **kv)
    if arch == "gemma2":
        return transformers.Gemma2Config(
            **common,
            **kv,
            head_dim=H // HEADS,
            sliding_window=8,
            query_pre_attn_scalar=8,
            final_logit_softcapping=30.0,
            attn_logit_softcapping=50.0,
        )
    if arch == "gemma3":
        return transformers.Gemma3TextConfig(
            **common, **kv, head_dim=H // HEADS, sliding_window=8, query_pre_attn_scalar=8
        )
    if arch == "mixtral":  # top-2 of 4 experts
        return transformers.MixtralConfig(**common, **kv, num_local_experts=4, num_experts_per_tok=2)
    if arch == "qwen2_moe":  # top-2 of 4 experts and a shared expert
        return transformers.Qwen2MoeConfig(
            **common,
            **kv,
            num_experts=4,
            num_experts_per_tok=2,
            moe_intermediate_size=INTERMEDIATE,
            shared_expert_intermediate_size=INTERMEDIATE,
        )
    raise ValueError(arch)


def build_chat_llm(arch: str, directory: Path, *, seed: int = 0, dtype=torch.float32, **load):
    """Build, save and reload a tiny random chat LLM of ``arch`` and its tokenizer (``load``: more
    ``from_pretrained`` arguments, e.g. ``device_map``)."""
    directory = Path(directory)
    tok = chat_tokenizer(arch, directory)
    config = llm_config(arch, tok)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.save_pretrained(directory)
    if "device_map" not in load:
        return AutoModelForCausalLM.from_pretrained(directory, dtype=dtype, **load).to(DEVICE), tok
    return AutoModelForCausalLM.from_pretrained(directory, dtype=dtype, **load), tok


_DIRECTORY = None


def _root() -> Path:
    global _DIRECTORY
    if _DIRECTORY is None:
        import atexit
        import shutil
        import tempfile

        _DIRECTORY = Path(tempfile.mkdtemp(prefix="tiny-llms-"))
        atexit.register(shutil.rmtree, _DIRECTORY, True)
    return _DIRECTORY


@cache
def tiny_llm(arch: str):
    """``(model, tokenizer)`` of :func:`build_chat_llm`, built once per test session (float32, on ``DEVICE``)."""
    return build_chat_llm(arch, _root() / arch)


def llm_directory(arch: str) -> Path:
    """Where :func:`tiny_llm` saved ``arch`` (to load it again, e.g. in another dtype or with a device_map)."""
    tiny_llm(arch)
    return _root() / arch


def own_log_probability(model, prompt_ids: list[int], target_ids: list[int]) -> tuple[float, list[float]]:
    """``log p(target | prompt)`` and each target token's log-probability, from the model's own forward pass on
    the token ids (eval, no gradients, float64 log-softmax)."""
    ids = torch.tensor([list(prompt_ids) + list(target_ids)], device=model.device)
    with torch.no_grad():
        logits = model.eval()(input_ids=ids).logits[0]
    logp = torch.log_softmax(logits.double(), -1)
    n = len(prompt_ids)
    tokens = [float(logp[n - 1 + k, t]) for k, t in enumerate(target_ids)]
    return sum(tokens), tokens
