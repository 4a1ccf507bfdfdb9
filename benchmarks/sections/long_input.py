"""Section of ``bench_long_input.py``: a 512-token input, attributions measured and interactions extrapolated, each
setting in a fresh subprocess under an address-space cap."""

from __future__ import annotations

from .base import NO_RESULTS, Section, fe, fs, table


def _row(r: dict) -> list:
    if "error" in r and "peak_rss_mb" not in r:
        return [r["what"], r.get("internal_batch_size"), "failed: " + r["error"], "", "", ""]
    if r["what"] == "attributions":
        what = "attributions (IG), default tolerance"
        t = fs(r.get("time_s")) + " (m)" if "time_s" in r else "-"
        detail = (
            (
                f"{r.get('steps')} path points + {r.get('scalar_evaluations')} search evaluations, relative "
                f"error {fe(r.get('relative_completeness_error'))}"
            )
            if "time_s" in r
            else ""
        )
    else:
        what = "interactions (IH), " + ("adaptive (search + probe)" if r.get("adaptive") else "probe (1 point)")
        t = fs(r.get("extrapolated_full_s")) + " (e)" if r.get("extrapolated_full_s") else "-"
        detail = f"{r['hvp_per_s']:.2f} Hessian-vector products/s" if r.get("hvp_per_s") else ""
    return [what, r.get("internal_batch_size"), t, detail, f"{r['peak_rss_mb']:.0f}", r.get("error", "")]


def _limits(runs: list) -> str:
    full = [r["extrapolated_full_s"] for r in runs if r.get("extrapolated_full_s")]
    how_long = "hours" if full and min(full) >= 3600 else fs(min(full)) if full else None
    return (
        "- Long input: attributions measured to the end; interactions extrapolated from the measured adaptive "
        "search, number of path points and Hessian-vector-product rate"
        + (f" (a full run would take {how_long} on this CPU)." if how_long else ".")
    )


def render(d: dict, out=None) -> Section:
    s = d["settings"]
    title = f"Long input ({s.get('tokens')} tokens)"
    runs = d.get("runs", [])
    if not runs:
        return Section(title, NO_RESULTS)
    ad = next((r for r in runs if r["what"] == "interactions" and r.get("adaptive")), {})
    lines = [
        f"Text: SST-2 dev sentences concatenated, cut to exactly {s['tokens']} tokens with [CLS]/[SEP] "
        f"({ad.get('words', '?')} words). Each row is a fresh subprocess under a {s['address_space_cap_gb']:g} "
        f"GB address-space cap.",
        "",
        table(
            ["what", "internal_batch_size", "time: (m) measured, (e) extrapolated", "detail", "peak RSS MiB", "error"],
            [_row(r) for r in runs],
        ),
        "",
    ]
    if any(r.get("error") for r in runs):
        lines += [
            "The failed setting hit the address-space cap: the CPU allocator raises a plain `RuntimeError` "
            "(\"DefaultCPUAllocator: can't allocate memory\"), not `torch.OutOfMemoryError`, so the engine's "
            "halve-the-batch-and-retry did not engage and the call failed. Without the cap it would have gone "
            f"on allocating past {s['address_space_cap_gb']:g} GB of address space on this shared machine.",
            "",
        ]
    if ad.get("path_points"):
        lines.append(
            f"Interactions at the default tolerance need K = {ad['path_points']} path points x W = "
            f"{ad['words']} words = {ad['total_hvps']:,} Hessian-vector products at {s['tokens']} tokens; the "
            f"adaptive search took about {fs(ad.get('search_s_estimate'))} (time to the first batch of "
            f"products, less that batch). The full time is extrapolated as search + K W / (measured products "
            f"per second); the probes ran {s['probe_updates']} progress updates. The full call's result adds "
            f"a K x W x W float64 array ({ad['path_points'] * ad['words'] ** 2 * 8 / 2**20:.0f} MiB) to the "
            f"peak shown."
        )
    return Section(title, "\n".join(lines), limits=(_limits(runs),))
