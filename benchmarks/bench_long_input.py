"""Benchmark 5: a long input: a 512-token text (SST-2 dev sentences concatenated and cut at a token boundary to
exactly 512 tokens with [CLS]/[SEP], the model's limit) with the real model: time and peak memory for
attributions, and for interactions with ``internal_batch_size`` settings.

Every configuration runs in a fresh subprocess (its own peak RSS, ``ru_maxrss``) under an address-space cap, so
that an allocation the machine cannot hold fails in that process instead of pushing the shared machine into swap
or the OOM killer.

* Attributions: the explainer's default call (``interactions=False``), to the end.
* Interactions: a full explanation of ~470 words at this length is ~470 Hessian-vector products per path point
  at seconds each on this CPU: hours. So each setting is *probed* through the engine call the explainer makes
  (``integrated_hessians`` on the same function, with a ``progress`` object that stops it): the adaptive rule's
  search runs to the end (giving its time and the number of path points K), then the Hessian-vector products run
  until ``probe_updates`` progress updates; their rate gives the extrapolated full time
  ``search + K * W / rate``. Peak memory is that of the probe (the per-chunk working set; the full call adds
  only the ``K x W x W`` float64 result, given).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

NAME = "long_input"
THIS = Path(__file__).resolve()


class _Stop(Exception):
    pass


class ProbeProgress:
    """A ``progress`` object for the engine: records when Hessian-vector products complete, stops after
    ``updates`` updates (or ``seconds`` after the first)."""

    total = None

    def __init__(self, updates: int, seconds: float):
        self.updates, self.seconds = updates, seconds
        self.events: list[tuple[float, int]] = []
        self.done = 0

    def update(self, n: int) -> None:
        self.done += n
        self.events.append((time.perf_counter(), self.done))
        if len(self.events) >= self.updates or self.events[-1][0] - self.events[0][0] >= self.seconds:
            raise _Stop


def child(payload: dict) -> dict:
    import torch

    from transformers_ih import SequenceClassificationInteractionExplainer, integrated_hessians

    model, tok = common.load_real_model()
    ibs = payload["internal_batch_size"]
    explainer = SequenceClassificationInteractionExplainer(model, tok, internal_batch_size=ibs)
    text = common.long_text(tok, [s for _, s in common.dev_sentences()], payload["tokens"])
    rss0 = common.current_rss_mb()
    out = {
        "what": payload["what"],
        "internal_batch_size": ibs,
        "torch_threads": torch.get_num_threads(),
        "rss_after_load_mb": rss0,
    }
    try:
        if payload["what"] == "attributions":
            t0 = time.perf_counter()
            e = explainer(text, interactions=False)
            out.update(
                time_s=time.perf_counter() - t0,
                tokens=len(e.tokens),
                words=len(e.words),
                steps=e.steps,
                scalar_evaluations=e.meta.get("scalar_evaluations"),
                relative_completeness_error=e.completeness_error / abs(e.f_input - e.f_baseline),
            )
        else:
            case = common.Case(explainer, text)
            probe = ProbeProgress(payload["probe_updates"], payload["probe_seconds"])
            kw = {} if payload["adaptive"] else {"steps": 1, "method": "gauss"}
            with case.engine_context():
                t0 = time.perf_counter()
                try:
                    integrated_hessians(
                        case.f,
                        case.x,
                        case.x_base,
                        groups=case.token_word,
                        internal_batch_size=ibs,
                        progress=probe,
                        **kw,
                    )
                    finished = True
                except _Stop:
                    finished = False
            ev = probe.events
            rate = (ev[-1][1] - ev[0][1]) / (ev[-1][0] - ev[0][0]) if len(ev) >= 2 else None
            first_batch = ev[0][1] if ev else None
            out.update(
                tokens=case.L,
                words=case.W,
                finished=finished,
                hvps_done=probe.done,
                adaptive=payload["adaptive"],
                hvp_per_s=rate,
                seconds_to_first_update=(ev[0][0] - t0) if ev else None,
                first_update_hvps=first_batch,
                probe_seconds=(ev[-1][0] - t0) if ev else None,
            )
            if payload["adaptive"] and probe.total:
                K = probe.total // case.W
                # the search ends before the first chunk's forward/backward and first direction batch
                search = (ev[0][0] - t0) - (first_batch / rate if rate else 0.0)
                out.update(path_points=int(K), total_hvps=int(probe.total), search_s_estimate=search)
    except Exception as exc:  # noqa: BLE001 - an allocation failure is a result here
        out["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
    out["peak_rss_mb"] = common.peak_rss_mb()
    return out


def main(argv=None):
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(child(json.loads(sys.argv[2]))))
        return
    args = common.parse_args(__doc__.splitlines()[0], argv)
    quick = args.quick
    cfg = dict(
        tokens=128 if quick else 512,
        address_space_cap_gb=12.0,
        attributions_batch_sizes=[64],
        interactions_adaptive_batch_size=16,
        interactions_batch_sizes=[4] if quick else [4, 64],
        probe_updates=2 if quick else 3,
        probe_seconds=10.0 if quick else 60.0,
    )
    rec = common.Recorder(NAME, args, **cfg)
    go = common.ChildRuns(rec, THIS, address_space_gb=cfg["address_space_cap_gb"], tokens=cfg["tokens"])
    runs = go.runs
    for ibs in cfg["attributions_batch_sizes"]:
        go({"what": "attributions", "internal_batch_size": ibs})
    adaptive = go(
        {
            "what": "interactions",
            "internal_batch_size": cfg["interactions_adaptive_batch_size"],
            "adaptive": True,
            "probe_updates": cfg["probe_updates"],
            "probe_seconds": cfg["probe_seconds"],
        }
    )
    for ibs in cfg["interactions_batch_sizes"]:
        go(
            {
                "what": "interactions",
                "internal_batch_size": ibs,
                "adaptive": False,
                "probe_updates": cfg["probe_updates"],
                "probe_seconds": cfg["probe_seconds"],
            }
        )
    # extrapolated full interaction time per batch size: search (measured once) + K * W / rate
    K, W = adaptive.get("path_points"), adaptive.get("words")
    search = adaptive.get("search_s_estimate")
    for r in runs:
        if r["what"] == "interactions" and r.get("hvp_per_s") and K and W:
            r["extrapolated_full_s"] = (search or 0.0) + K * W / r["hvp_per_s"]
            r["result_matrix_mb"] = K * W * W * 8 / 2**20
    rec["runs"] = runs
    rec.save()


if __name__ == "__main__":
    main()
