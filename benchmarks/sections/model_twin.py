"""Section of ``bench_model_twin.py``: the cost of the per-call twin of the user's model."""

from __future__ import annotations

from .base import NO_RESULTS, Section, fs, table


def render(d: dict, out=None) -> Section:
    title = "The model's twin: what each call's copy of the module tree costs"
    cases = d.get("cases") or []
    if not cases:
        return Section(title, NO_RESULTS)
    rows = [
        [
            c["model"],
            f"{c['parameters'] / 1e9:.2f} B" if c["parameters"] >= 1e8 else f"{c['parameters'] / 1e6:.1f} M",
            c["modules"],
            fs(c["median_s"]),
            fs(c["max_s"]),
            "-" if "rss_added_mb" not in c else f"{c['rss_added_mb']:.1f}",
            "-" if "parameters_share_storage" not in c else ("yes" if c["parameters_share_storage"] else "NO"),
        ]
        for c in cases
    ]
    text = "\n".join(
        [
            f"Each explanation call builds a twin of the model (parameters aliased, frozen; eval mode; its own config) so "
            f"that nothing about the user's model changes, also under threads. Median and max of {d['settings']['repeats']} "
            f"builds; 7B-scale trees built on the meta device (the real module tree; their weights take no memory).",
            "",
            table(
                [
                    "model",
                    "parameters",
                    "modules",
                    "twin (median)",
                    "twin (max)",
                    "RSS added MiB",
                    "parameters share storage",
                ],
                rows,
            ),
            "",
        ]
    )
    return Section(title, text)
