"""Benchmark: long documents the way the README recommends them, with the real SST-2 DistilBERT.

* A review of ~57 words (SST-2 dev sentences concatenated): the full word matrix against ``rows=10`` (the 10 words
  with the largest |attribution|): time, Hessian-vector products, and how many of the exact matrix's 20 strongest
  pairs the selected rows hold, with their exact values; next to the oracle choice (the 10 rows of largest norm),
  more rows by |attribution|, and the random-sketch screen (``Gamma Z``, simulated on the exact matrix).
* A 512-token document (SST-2 dev sentences cut at a token boundary, the model's limit): the sentence-level
  matrix (``features="sentence"``) and ``rows=16`` at word level: time, path points, peak memory.
* Screens on many exact matrices, with no model call: the dev-set corpus run's explanations
  (``bench_corpus_dev_set.py``'s committed shards) of every sentence of at least ``--screen-min-words`` words, with
  ``k = round(W / 7.5)`` rows (the review's 10 of 75) and the ``2k`` strongest pairs (its 20): the share held by
  the |attribution| rows, the oracle's rows, a two-stage residual screen and the random sketch.

Each measurement runs in a fresh subprocess (its own peak RSS, ``ru_maxrss``) under an address-space cap.

    python benchmarks/bench_long_document.py [--quick]      # --quick: a 20-word review and a 128-token document
    python benchmarks/bench_long_document.py --only review   # re-run a part; the file keeps the others, marked
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

NAME = "long_document"
PARTS = ("review", "sentences", "rows", "screens")
THIS = Path(__file__).resolve()


def review(tok, words: int) -> str:
    """Dev sentences concatenated until the text has at least ``words`` whitespace-separated words."""
    text = ""
    for _, s in common.dev_sentences():
        text = (text + " " + s).strip()
        if len(text.split()) >= words:
            return text
    return text


def top_pairs(gamma, k: int) -> list[tuple[int, int]]:
    import numpy as np

    iu, ju = np.triu_indices(len(gamma), 1)
    order = np.argsort(-np.abs(gamma[iu, ju]), kind="stable")[:k]
    return [(int(iu[o]), int(ju[o])) for o in order]


def held(truth: list[tuple[int, int]], rows) -> int:
    """How many of the pairs ``truth`` have a feature among ``rows``."""
    rows = set(int(r) for r in rows)
    return sum(1 for i, j in truth if i in rows or j in rows)


def sketch_screens(gamma, truth, k: int, probes=(4, 8, 16), draws: int = 200, seed: int = 0) -> list[dict]:
    """The random-sketch screen the issue proposed, simulated on the exact matrix: ``p`` Rademacher probes ``Z``
    give ``Gamma Z`` (what ``p`` more Hessian-vector products per path point would compute); each row's
    off-diagonal norm is estimated as ``mean((Gamma z)_i^2) - diag_i^2`` with Hutchinson's diagonal
    ``mean(z_i (Gamma z)_i)``, and the ``k`` largest are selected. Over ``draws`` random sketches: the pairs held."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for p in probes:
        counts = []
        for _ in range(draws):
            Z = rng.choice([-1.0, 1.0], size=(len(gamma), p))
            Y = gamma @ Z
            score = (Y**2).mean(axis=1) - ((Y * Z).mean(axis=1)) ** 2
            counts.append(held(truth, np.argsort(-score, kind="stable")[:k]))
        out.append(
            {
                "probes": p,
                "extra_products_per_point": p,
                "mean": float(np.mean(counts)),
                "min": int(np.min(counts)),
                "max": int(np.max(counts)),
            }
        )
    return out


def residual_screen(gamma, attributions, k: int):
    """A two-stage screen: the ``ceil(k/2)`` rows of largest |attribution| first; then, their exact rows known, the
    rest by the |residual| of each other feature's row sum, ``|phi_j - sum_{i in S} Gamma_ij|`` (its attribution
    without the part those rows explain: what cancels there no longer hides a strong row). It would need a second
    pass over the path points."""
    import numpy as np

    first = [int(i) for i in np.argsort(-np.abs(attributions), kind="stable")[: (k + 1) // 2]]
    rest = [j for j in range(len(gamma)) if j not in first]
    residual = np.abs(np.asarray(attributions)[rest] - gamma[first][:, rest].sum(axis=0))
    return first + [rest[i] for i in np.argsort(-residual, kind="stable")[: k - len(first)]]


def dev_set_screens(min_words: int, folder: Path) -> dict:
    """Screens for ``rows=k`` on the exact matrices of the dev-set corpus run (no model call): per sentence of at
    least ``min_words`` features, ``k = round(W / 7.5)`` rows and the ``2k`` strongest pairs; the share of those
    pairs each screen's rows hold (mean, min, and how many sentences reach 90%, the review's 18 of 20)."""
    import numpy as np

    from transformers_ih.corpus import explanations, read_output

    found = [e for e in explanations(read_output(folder)) if len(e.words) >= min_words]
    shares = {"attribution": [], "residual": [], "sketch_8": [], "oracle": []}
    for e in found:
        gamma, phi = np.asarray(e.interactions, float), np.asarray(e.attributions, float)
        k = max(2, round(len(gamma) / 7.5))
        truth = top_pairs(gamma, 2 * k)
        norms = np.linalg.norm(gamma - np.diag(np.diag(gamma)), axis=1)
        rows = {
            "attribution": np.argsort(-np.abs(phi), kind="stable")[:k],
            "residual": residual_screen(gamma, phi, k),
            "oracle": np.argsort(-norms, kind="stable")[:k],
        }
        for name, chosen in rows.items():
            shares[name].append(held(truth, chosen) / len(truth))
        shares["sketch_8"].append(sketch_screens(gamma, truth, k, probes=(8,), draws=50)[0]["mean"] / len(truth))
    return {
        "what": "screens",
        "sentences": len(found),
        "min_words": min_words,
        "mean_words": float(np.mean([len(e.words) for e in found])) if found else None,
        "screens": {
            name: {
                "mean": float(np.mean(v)),
                "min": float(np.min(v)),
                "at_least_90_percent": int(np.sum(np.asarray(v) >= 0.9 - 1e-12)),
            }
            for name, v in shares.items()
            if v
        },
    }


def child(payload: dict) -> dict:
    if payload["what"] == "screens":
        return dev_set_screens(payload["min_words"], Path(payload["folder"]))
    import numpy as np
    import torch

    from transformers_ih import SequenceClassificationInteractionExplainer

    model, tok = common.load_real_model()
    explainer = SequenceClassificationInteractionExplainer(model, tok, progress=False)
    out = {"what": payload["what"], "torch_threads": torch.get_num_threads()}
    try:
        if payload["what"] == "review":
            text = review(tok, payload["words"])
            t0 = time.perf_counter()
            full = explainer(text)
            t_full = time.perf_counter() - t0
            t0 = time.perf_counter()
            part = explainer(text, rows=payload["rows"])
            t_rows = time.perf_counter() - t0
            k = payload["top"]
            truth = top_pairs(full.interactions, k)
            got = set(map(tuple, np.argwhere(part.computed)))
            in_rows = [p for p in truth if p in got]
            exact = [
                p
                for p in in_rows
                if abs(part.interactions[p] - full.interactions[p]) <= 1e-3 * abs(full.interactions[p]) + 1e-6
            ]
            norms = np.linalg.norm(full.interactions - np.diag(np.diag(full.interactions)), axis=1)
            oracle = np.argsort(-norms)[: payload["rows"]].tolist()
            by_attribution = np.argsort(-np.abs(full.attributions), kind="stable")
            out["screens"] = {
                "attribution": [
                    {"rows": r, "held": held(truth, by_attribution[:r])}
                    for r in range(payload["rows"], 2 * payload["rows"] + 1, 2)
                ],
                "sketch": sketch_screens(full.interactions, truth, payload["rows"]),
            }
            out.update(
                words=len(full.words),
                tokens=len(full.tokens),
                full_s=t_full,
                rows_s=t_rows,
                full_steps=full.steps,
                rows_steps=part.steps,
                rows=part.meta["rows"],
                full_hvps=full.steps * len(full.words),
                rows_hvps=part.steps * (len(part.meta["rows"]) + 1),
                top=k,
                top_pairs_in_rows=len(in_rows),
                top_pairs_exact=len(exact),
                top_pairs_in_oracle_rows=held(truth, oracle),
                relative_completeness_error=part.completeness_error / abs(part.f_input - part.f_baseline),
            )
        else:
            text = common.long_text(tok, [s for _, s in common.dev_sentences()], payload["tokens"])
            t0 = time.perf_counter()
            if payload["what"] == "sentences":
                e = explainer(text, features="sentence")
            else:
                e = explainer(text, rows=payload["rows"])
            out.update(
                time_s=time.perf_counter() - t0,
                tokens=len(e.tokens),
                features=len(e.words),
                level=e.level,
                steps=e.steps,
                rows=e.meta.get("rows"),
                relative_completeness_error=e.completeness_error / abs(e.f_input - e.f_baseline),
            )
    except Exception as exc:  # noqa: BLE001 - an allocation failure is a result here
        out["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
    out["peak_rss_mb"] = common.peak_rss_mb()
    return out


def main(argv=None):
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(child(json.loads(sys.argv[2]))))
        return
    args = common.parse_args(__doc__.splitlines()[0], argv, parts=PARTS)
    quick = args.quick
    cfg = dict(
        review_words=20 if quick else 57,
        review_rows=4 if quick else 10,
        top=8 if quick else 20,
        tokens=128 if quick else 512,
        document_rows=4 if quick else 16,
        address_space_cap_gb=12.0,
        screen_min_words=22,
    )
    rec = common.Recorder(NAME, args, **cfg)
    go = common.ChildRuns(rec, THIS, address_space_gb=cfg["address_space_cap_gb"])
    go.keep_earlier(args.only)
    for payload in (
        {"what": "review", "words": cfg["review_words"], "rows": cfg["review_rows"], "top": cfg["top"]},
        {"what": "sentences", "tokens": cfg["tokens"]},
        {"what": "rows", "tokens": cfg["tokens"], "rows": cfg["document_rows"]},
        {
            "what": "screens",
            "min_words": cfg["screen_min_words"],
            "folder": str(common.RESULTS / "corpus" / "dev-set-shards"),
        },
    ):
        if payload["what"] in args.only:
            go(payload)


if __name__ == "__main__":
    main()
