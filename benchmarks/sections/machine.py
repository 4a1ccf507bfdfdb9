"""The report's machine section, from the machine info each benchmark recorded (``machine_start`` /
``machine_end``, written by ``common.machine_info()``; a partial re-run also keeps the earlier run's in its kept
cases' ``run``, and its own cases' ``started``)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import fs, table

LOAD_MARGIN = 0.3  # a run's 1-minute load average above its own torch threads plus this: other processes were busy


@dataclass(frozen=True)
class Run:
    """One row of the machine table: a benchmark's run, or the part of it (``cases``) that a partial re-run kept from
    the full run or redid (``rerun``)."""

    benchmark: str
    started: str
    wall_s: float | None
    load_start: float
    load_end: float
    threads: tuple[int, ...]
    cases: str = ""
    rerun: bool = False

    @property
    def label(self) -> str:
        return (
            f"{self.benchmark}: {self.cases} cases ({'re-run' if self.rerun else 'full run'})"
            if self.cases
            else self.benchmark
        )

    @property
    def busy(self) -> bool:
        return max(self.load_start, self.load_end) > max(self.threads) + LOAD_MARGIN


def _load(info: dict) -> float:
    return info["load_average"][0]


def _kinds(cases: list) -> str:
    return ", ".join(sorted({c["kind"] for c in cases}))


def _case_threads(cases: list) -> tuple[int, ...]:
    return tuple(sorted({c["started"]["torch_threads"] for c in cases}))


def runs(name: str, d: dict) -> list[Run]:
    start, end = d["machine_start"], d.get("machine_end", d["machine_start"])
    cases = d.get("cases", [])
    kept = [c for c in cases if c.get("run")]
    if kept:  # a partial re-run: its own cases, and those kept from the earlier run
        mine = [c for c in cases if not c.get("run")]
        first = kept[0]["run"]
        return [
            Run(
                name,
                first["machine_start"]["time"],
                None,
                _load(first["machine_start"]),
                _load(first.get("machine_end") or first["machine_start"]),
                (first["machine_start"]["torch_threads"],),
                _kinds(kept),
            ),
            Run(
                name,
                start["time"],
                d.get("wall_s"),
                _load(start),
                _load(end),
                _case_threads(mine),
                _kinds(mine),
                rerun=True,
            ),
        ]
    threads = _case_threads(cases) if cases and cases[0].get("started") else (start["torch_threads"],)
    earlier = [r for r in d.get("runs", []) if r.get("earlier_run")]
    if earlier:  # a partial re-run (``--only``): the parts it redid, and those kept from the earlier run
        first = earlier[0]["earlier_run"]
        load = (first.get("load_average") or [float("nan")])[0]
        redone = [r["what"] for r in d["runs"] if not r.get("earlier_run")]
        return [
            Run(
                name,
                first.get("time") or "?",
                None,
                load,
                load,
                threads,
                ", ".join(sorted({r["what"] for r in earlier})),
            ),
            Run(
                name,
                start["time"],
                d.get("wall_s"),
                _load(start),
                _load(end),
                threads,
                ", ".join(sorted(set(redone))),
                rerun=True,
            ),
        ]
    return [Run(name, start["time"], d.get("wall_s"), _load(start), _load(end), threads)]


def _listed(values) -> str:
    return ", ".join(str(v) for v in sorted(set(values)))


def gpu(data: dict) -> str:
    """What the runs recorded about a GPU."""
    infos = [d[k] for d in data.values() for k in ("machine_start", "machine_end") if k in d]
    if any(i.get("cuda_available") for i in infos):
        return "CUDA was available to " + ", ".join(
            n for n, d in data.items() if d["machine_start"].get("cuda_available")
        )
    return "; ".join(sorted({i.get("gpu") or "none recorded" for i in infos}))


def _threads(values) -> str:
    values = sorted(set(values))
    return f"{', '.join(str(v) for v in values)} torch thread{'s' if values != [1] else ''}"


def _shared_note(first: dict, rows: list[Run]) -> str:
    busy = [r for r in rows if r.busy]
    peak = max(max(r.load_start, r.load_end) for r in busy)
    threads = [t for r in busy for t in r.threads]
    rerun = ""
    if any(r.rerun for r in rows):
        rerun = (
            ", so "
            + "; ".join(
                f"the {r.cases} cases of {r.benchmark} were re-run with {_threads(r.threads)} (both sides alike)"
                for r in rows
                if r.rerun
            )
            + f"; everything else ran with {_threads(t for r in rows if not r.cases for t in r.threads)}"
        )
    return (
        f"- **Shared CPU**: other processes shared this machine's {first['cores']} cores during "
        f"{', '.join(r.label for r in busy)} (1-minute load average up to {peak:.1f}, where a benchmark's own "
        f"{_threads(threads)} give about {_listed(threads)}; see the table). Absolute times there are inflated "
        f"and noisy: with {_threads(threads)} on a shared {first['cores']}-core CPU, every parallel region stalls "
        f"while another process holds a core, which hits small operations hardest{rerun}. Every comparison runs "
        f"both sides in the same process within seconds of each other, so ratios are more reliable than absolute "
        f"times."
    )


def render(data: dict) -> str:
    if not data:
        return "No results yet: run `python benchmarks/run_all.py`."
    first = next(iter(data.values()))["machine_start"]
    rows = [r for name, d in data.items() for r in runs(name, d)]
    build = "CPU build" if "+cpu" in first["torch"] or not first.get("cuda_available") else "CUDA build"
    text = [
        f"- **CPU**: {first['cpu_model']}, {first['cores']} cores, {first['memory_gb']} GB RAM; {first['platform']}",
        f"- **Software**: Python {first['python']}, torch {first['torch']} ({build}, {first['torch_threads']} "
        f"threads), transformers {first['transformers']}, captum {first['captum']}, transformers-interpret "
        f"{first['transformers_interpret']}, path-explain {first['path_explain']}",
        f"- **GPU**: {gpu(data)}.",
    ]
    if any(r.busy for r in rows):
        text.append(_shared_note(first, rows))
    text += [
        "",
        table(
            ["benchmark", "started", "wall time", "load avg at start", "load avg at end", "torch threads"],
            [
                [
                    r.label,
                    r.started,
                    fs(r.wall_s),
                    f"{r.load_start:.2f}",
                    f"{r.load_end:.2f}",
                    ", ".join(str(t) for t in r.threads),
                ]
                for r in rows
            ],
        ),
    ]
    return "\n".join(text)
