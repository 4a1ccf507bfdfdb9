"""Shared helpers of the benchmark scripts: machine info, result files, models, data, timing, peak memory, and
loading the baselines (path_explain's torch explainer by file path, transformers-interpret, Captum).

Every benchmark script is runnable alone (``python benchmarks/<name>.py [--quick]``) and writes
``benchmarks/results/<name>.json`` (``benchmarks/results/quick/<name>.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
REAL_MODEL = SHARED / "models" / "distilbert-mini-sst2"
SST2_DEV = SHARED / "data" / "sst2" / "dev.tsv"
RESULTS = HERE / "results"
QUICK_RESULTS = RESULTS / "quick"

if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------------------------------------------- machine
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return None


def machine_info() -> dict:
    """CPU model, cores, memory, library versions, load average and thread settings, now."""
    import torch

    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "gpu": "none (no GPU lent to this task; everything runs on the CPU)",
        "cuda_available": bool(torch.cuda.is_available()),
        "transformers": _version("transformers"),
        "captum": _version("captum"),
        "transformers_interpret": _version("transformers-interpret"),
        "path_explain": _version("path-explain"),
        "load_average": list(os.getloadavg()),
        "time": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


# ---------------------------------------------------------------------------------------------------- CLI + results
def parse_args(description: str, argv=None, parts: tuple[str, ...] = ()) -> argparse.Namespace:
    """``--quick``, ``--out``; with ``parts``, also ``--only PART ...`` (see :meth:`ChildRuns.keep_earlier`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny settings (validation, about a minute)")
    parser.add_argument("--out", type=Path, default=None, help="results folder (default benchmarks/results[/quick])")
    if parts:
        parser.add_argument(
            "--only",
            nargs="+",
            choices=parts,
            default=list(parts),
            help="run only these parts; the results file keeps the others' earlier runs, marked",
        )
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = QUICK_RESULTS if args.quick else RESULTS
    return args


class Recorder:
    """Collects a benchmark's results with machine info at start and end; ``save()`` writes the JSON."""

    def __init__(self, name: str, args: argparse.Namespace, **settings):
        self.name = name
        self.path = Path(args.out) / f"{name}.json"
        self.data = {
            "benchmark": name,
            "quick": bool(args.quick),
            "settings": settings,
            "machine_start": machine_info(),
            "notes": [],
        }
        self.t0 = time.perf_counter()

    def __setitem__(self, key, value):
        self.data[key] = value

    def __getitem__(self, key):
        return self.data[key]

    def update(self, values: dict) -> None:
        self.data.update(values)

    def note(self, text: str) -> None:
        print(f"[{self.name}] note: {text}", flush=True)
        self.data["notes"].append(text)

    def save(self) -> Path:
        self.data["machine_end"] = machine_info()
        self.data["wall_s"] = time.perf_counter() - self.t0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.data, indent=1, default=_json_default))
        print(f"[{self.name}] wrote {self.path} ({self.data['wall_s']:.0f} s)", flush=True)
        return self.path


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def log(name: str, text: str) -> None:
    print(f"[{name}] {text}", flush=True)


# ---------------------------------------------------------------------------------------------------- timing
def timed(fn, *args, repeats: int = 1, **kwargs):
    """``(best seconds over repeats, last result)``."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (MiB; ``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def loopback_only(cmd: list[str]) -> tuple[list[str], dict[str, str]]:
    """``cmd`` wrapped to run in a network namespace of its own with only loopback up (``unshare -n``, as root), and
    the environment for a local Ray cluster there: every packet of the cluster stays on 127.0.0.1, no usage
    statistics, no address of another cluster."""
    wrapped = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *cmd]
    return wrapped, {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_ADDRESS": ""}


def run_child(
    module_file: Path, payload: dict, timeout: float | None = None, address_space_gb: float | None = None
) -> dict:
    """Run ``python module_file --child JSON`` in a fresh process (its own peak RSS) and return the JSON it
    prints on its last stdout line. ``address_space_gb`` caps the child's address space (an allocation over it
    fails with an out-of-memory error instead of endangering the shared machine)."""
    cmd = [sys.executable, str(module_file), "--child", json.dumps(payload)]

    def limit():  # pragma: no cover - runs in the child
        if address_space_gb:
            cap = int(address_space_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or "")[-1500:]
        return {"error": f"child exited with {proc.returncode}", "stderr_tail": tail}
    return json.loads(lines[-1])


class ChildRuns:
    """A benchmark's measurements, each in a fresh subprocess (:func:`run_child`: its own peak RSS, an address-space
    cap), recorded in ``rec["runs"]`` as they come and saved at once (a later crash keeps the earlier runs).
    ``shared``: payload entries every run gets."""

    def __init__(self, rec: Recorder, module_file: Path, address_space_gb: float | None = None, **shared):
        self.rec, self.module_file, self.address_space_gb, self.shared = rec, module_file, address_space_gb, shared
        self.runs: list[dict] = []

    def keep_earlier(self, parts: list[str]) -> None:
        """Start from the results file's earlier runs of the parts (``"what"``) not in ``parts``, each marked with
        ``earlier_run``: when that run started and the load average then (a partial re-run, e.g. ``--only``)."""
        try:
            old = json.loads(self.rec.path.read_text())
        except (OSError, ValueError):
            return
        started = old.get("machine_start", {})
        for r in old.get("runs", []):
            if r.get("what") not in parts:
                r.setdefault("earlier_run", {"time": started.get("time"), "load_average": started.get("load_average")})
                self.runs.append(r)

    def __call__(self, payload: dict) -> dict:
        r = run_child(self.module_file, {**self.shared, **payload}, address_space_gb=self.address_space_gb)
        for key in ("what", "internal_batch_size"):
            if key in payload:
                r.setdefault(key, payload[key])
        r["load_average_after"] = list(os.getloadavg())
        self.runs.append(r)
        self.rec["runs"] = self.runs
        self.rec.save()
        log(
            self.rec.name,
            json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items() if k != "stderr_tail"}),
        )
        return r


# ---------------------------------------------------------------------------------------------------- data
def dev_sentences() -> list[tuple[int, str]]:
    """SST-2 dev as ``(label, sentence)``, through ``datasets`` (the documented loader)."""
    from datasets import load_dataset

    ds = load_dataset("csv", data_files=str(SST2_DEV), delimiter="\t", split="train")
    return [(int(r["label"]), str(r["sentence"])) for r in ds]


def dev_dataset():
    from datasets import load_dataset

    return load_dataset("csv", data_files=str(SST2_DEV), delimiter="\t", split="train")


# ---------------------------------------------------------------------------------------------------- models
def load_real_model():
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(REAL_MODEL, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(REAL_MODEL)
    model.eval()
    return model, tokenizer


def tiny_bert(hidden: int, seed: int = 0, layers: int = 2, heads: int = 4, max_positions: int = 64):
    """A tiny random BERT sequence classifier (GELU, tanh pooler: smooth, no ReLU) with embedding size
    ``hidden`` and the real model's WordPiece tokenizer. Built from its config (nothing downloaded)."""
    import torch
    import transformers
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(REAL_MODEL)
    tokenizer.model_max_length = max_positions
    config = transformers.BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=2 * hidden,
        max_position_embeddings=max_positions,
        num_labels=2,
        initializer_range=0.2,
        id2label={0: "NEGATIVE", 1: "POSITIVE"},
        label2id={"NEGATIVE": 0, "POSITIVE": 1},
    )
    torch.manual_seed(seed)
    model = transformers.BertForSequenceClassification(config)
    model.eval()
    return model, tokenizer


# ---------------------------------------------------------------------------------------------------- baselines
def load_path_explainer_torch():
    """path_explain's ``PathExplainerTorch``, loaded by file path (its package ``__init__`` imports TensorFlow)."""
    spec = importlib.util.find_spec("path_explain")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("path-explain is not installed: pip install path-explain")
    path = Path(list(spec.submodule_search_locations)[0]) / "explainers" / "path_explainer_torch.py"
    mod_spec = importlib.util.spec_from_file_location("path_explainer_torch", path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module


#: the negation words whose partners the corpus benchmarks report (the paper's corpus-level finding)
NEGATIONS = ("never", "no", "nor", "not", "nothing", "n't")


def corpus_pairs(
    corpus, *, min_count: int, partner_min_count: int, top: int = 15, signed: int = 10, partners: int = 5
) -> dict:
    """What the corpus benchmarks record of a ``CorpusInteractions``: its size, the ``top`` pairs by mean
    |interaction| and the ``signed`` most positive / negative by mean (pairs seen at least ``min_count`` times), and
    each negation word's ``partners`` strongest partners (seen at least ``partner_min_count`` times), one list."""
    return {
        "corpus_summary": {"texts": corpus.num_texts, "word_types": len(corpus.words), "pairs": corpus.num_pairs},
        "top_pairs": [s.__dict__ for s in corpus.top_pairs(top, min_count=min_count)],
        "top_positive": [s.__dict__ for s in corpus.top_pairs(signed, by="mean", sign="positive", min_count=min_count)],
        "top_negative": [s.__dict__ for s in corpus.top_pairs(signed, by="mean", sign="negative", min_count=min_count)],
        "negation_pairs": [
            s.__dict__
            for w in NEGATIONS
            if w in corpus
            for s in corpus.partners(w, partners, min_count=partner_min_count)
        ],
    }


def word_counts_and_sentences(tokenizer, sentences: list[str]) -> list[tuple[int, int, str]]:
    """``(words, tokens, sentence)`` with words as our explainer counts them (the fast tokenizer's word ids)."""
    out = []
    for s in sentences:
        enc = tokenizer(s)
        words = {w for w in enc.word_ids() if w is not None}
        out.append((len(words), len(enc["input_ids"]), s))
    return out


def sentence_with_words(tokenizer, sentences: list[str], n_words: int) -> str:
    """The first sentence with exactly ``n_words`` words (else the closest)."""
    counted = word_counts_and_sentences(tokenizer, sentences)
    exact = [s for w, _, s in counted if w == n_words]
    if exact:
        return exact[0]
    return min(counted, key=lambda r: abs(r[0] - n_words))[2]


def summary(values) -> dict:
    import numpy as np

    v = np.asarray([x for x in values if x is not None], dtype=float)
    if v.size == 0:
        return {"n": 0}
    return {
        "n": int(v.size),
        "median": float(np.median(v)),
        "mean": float(v.mean()),
        "min": float(v.min()),
        "max": float(v.max()),
        "p90": float(np.percentile(v, 90)),
    }


# ---------------------------------------------------------------------------------------------------- one explained input
class Case:
    """One sentence for one model, as our explainer sees it: word embeddings ``x`` ``(L, e)``, the pad baseline
    ``x'`` (special tokens kept), word ids per token, the explained class (predicted) and the batched scalar
    function ``f(E (B, L, e)) -> (B,)`` (that class's logit): the explainer's own
    (:meth:`~transformers_ih.tasks.base.TextInteractionExplainer.scalar_function`, on a twin of the model),
    run by the engine within :meth:`engine_context`. For path_explain: the same function as its user writes it,
    on flattened embeddings ``(B, L*e) -> (B, 1)`` and on one coordinate per word ``(B, W) -> (B, 1)``."""

    def __init__(self, explainer, sentence: str):
        import torch

        from transformers_ih.text.targets import class_selector

        self.explainer = explainer
        self.model = explainer.model
        self.sentence = sentence
        self.enc = explainer.encode([sentence])
        self.x, self.x_base, _ = explainer.baseline_embeddings(self.enc, "pad")
        self.L, self.e = self.x.shape
        self.words = self.enc.words
        self.W = len(self.words)
        self.token_word = self.enc.token_word
        self.inputs = {k: v for k, v in self.enc.inputs.items() if k != "input_ids"}
        self.target = int(explainer.forward(self.enc).logits[0].argmax())
        self.select = class_selector(self.target, "logit")
        self.f = explainer.scalar_function(self.enc, self.select)
        self.delta_words = torch.stack(
            [
                torch.where((self.token_word == w)[:, None], self.x - self.x_base, torch.zeros_like(self.x))
                for w in range(self.W)
            ]
        )

    @contextlib.contextmanager
    def engine_context(self, interactions: bool = True):
        """What the explainer runs its engine in on this input (differentiable attention for ``interactions``, the
        smoothing its ``smoothing="auto"`` resolves to on this model), entered on ``with``; yields the smoothing's
        description (``None`` without smoothing)."""
        context, smoothing = self.explainer.engine_context(
            self.enc, self.select, interactions=interactions, function=self.f
        )
        with context:
            yield smoothing

    @functools.cached_property
    def peer_f(self):
        """``f`` as a path_explain user writes it: the model's own forward over ``inputs_embeds``, the class's
        logit. On a frozen twin (``explainable_model``: the model's weights with ``requires_grad=False``, as a user
        freezes them with ``model.requires_grad_(False)``, here without changing the model our explainer shares):
        path_explain differentiates twice with respect to its inputs only, and trainable weights would make its
        double backward also build their gradient graph (several times slower), an advantage for us that no
        careful user would give away. Run it in :meth:`engine_context`: CPU's fused attention kernels have no
        double backward, and both sides explain the same (smoothed) function."""
        from transformers_ih.text.model_state import explainable_model

        model = explainable_model(self.model)

        def f(E):
            B = E.shape[0]
            out = model(inputs_embeds=E, **{k: v.expand(B, *v.shape[1:]) for k, v in self.inputs.items()})
            return out.logits[:, self.target]

        return f

    def flat_model(self, X):
        return self.peer_f(X.view(X.shape[0], self.L, self.e))[:, None]

    def word_model(self, C):
        import torch

        return self.peer_f(self.x_base[None] + torch.einsum("bw,wle->ble", C, self.delta_words))[:, None]

    def flat_input(self):
        return self.x.reshape(1, -1), self.x_base.reshape(1, -1)

    def word_input(self):
        import torch

        return torch.ones(1, self.W), torch.zeros(1, self.W)

    def word_sum_matrix(self):
        """``(W, L*e)`` 0/1 matrix summing flattened features into words."""
        import torch

        M = torch.zeros(self.W, self.L, dtype=torch.float64)
        for w in range(self.W):
            M[w, self.token_word == w] = 1.0
        return torch.repeat_interleave(M, self.e, dim=1)

    def reduced(self):
        from transformers_ih.engine import ReducedFunction

        return ReducedFunction(self.f, self.x, self.x_base, groups=self.token_word)

    def completeness_errors(self, rules: dict, measure: str = "log") -> dict:
        """Completeness error of each rule ``{name: (nodes, weights)}`` on this input, from the scalar integrand
        only: for IH ``sum(Gamma) = sum_k w_k (F'(t_k) + t_k F''(t_k))`` (for IG ``sum_k w_k F'(t_k)``), which is
        what the full interaction matrix sums to. Evaluates each distinct node once."""
        import numpy as np

        order = 2 if measure == "log" else 1
        red = self.reduced()
        allt = np.unique(np.concatenate([np.asarray(n, dtype=float) for n, _ in rules.values()] + [[0.0, 1.0]]))
        d = red.path_derivatives(allt, order)
        idx = {float(t): i for i, t in enumerate(allt)}
        delta = d[0, idx[1.0]] - d[0, idx[0.0]]
        out = {}
        for name, (nodes, weights) in rules.items():
            j = [idx[float(t)] for t in nodes]
            integrand = d[1, j] + (np.asarray(nodes) * d[2, j] if order == 2 else 0.0)
            out[name] = abs(float(np.dot(weights, integrand)) - delta)
        return out, float(delta)


def long_text(tokenizer, sentences: list[str], tokens: int = 512) -> str:
    """Dev sentences concatenated and cut at a token boundary so that the text is exactly ``tokens`` tokens long
    with the special tokens (our explainer refuses longer text; nothing is truncated silently)."""
    text = ""
    for s in sentences:
        text = (text + " " + s).strip()
        if len(tokenizer(text)["input_ids"]) > tokens + 8:
            break
    enc = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    specials = len(tokenizer("a")["input_ids"]) - len(tokenizer("a", add_special_tokens=False)["input_ids"])
    keep = tokens - specials
    for cut in range(keep, 0, -1):
        candidate = text[: enc["offset_mapping"][cut - 1][1]]
        if len(tokenizer(candidate)["input_ids"]) == tokens:
            return candidate
    raise ValueError("could not build a text of exactly the requested number of tokens")
