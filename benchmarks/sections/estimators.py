"""Section of ``bench_estimators.py``: Integrated Hessians against shapiq's Shapley interaction indices, called
through ``estimator=``, on the explanation's own removal game; the removal check's cost."""

from __future__ import annotations

from .base import NO_RESULTS, Section, fs, median, table

TITLE = "Estimators: Integrated Hessians vs Shapley interaction indices, and the removal check's cost"
ORDER = ("integrated-hessians", "FSII", "k-SII", "STII", "FBII")


def _r2(x: float) -> str:
    """R^2 to 3 decimals; far below 0 (an index fitted on fewer coalitions than it has terms) in powers of ten."""
    return f"{x:+.3f}" if x > -10 else f"{x:.1e}"


def _budgets(budget) -> str:
    if isinstance(budget, dict):
        return ", ".join(f"{n} words: {b}" for n, b in budget.items())
    return str(budget)


def _curve_table(curves: list[dict]) -> str:
    budgets = sorted({c["budget"] for c in curves})
    rows = []
    for words in sorted({c["words"] for c in curves}):
        for estimator in ("FSII", "k-SII"):
            cells = []
            for b in budgets:
                sel = [
                    c["r2"] for c in curves if c["words"] == words and c["estimator"] == estimator and c["budget"] == b
                ]
                exact = any(c["exact"] for c in curves if c["words"] == words and c["budget"] == b)
                cells.append(_r2(median(sel)) + (" (exact)" if exact else "") if sel else "")
            rows.append([words, estimator, *cells])
    return table(["words", "index", *[str(b) for b in budgets]], rows)


def render(d: dict, out=None) -> Section:
    rows = d.get("rows") or []
    if not rows:
        return Section(TITLE, NO_RESULTS)
    s = d["settings"]
    lines = []
    for words in sorted({r["words"] for r in rows}):
        for estimator in ORDER:
            sel = [r for r in rows if r["words"] == words and r["estimator"] == estimator]
            if not sel:
                continue
            share = median([r["check_share"] for r in sel]) if estimator == "integrated-hessians" else None
            lines.append(
                [
                    words,
                    estimator,
                    len(sel),
                    _r2(median([r["r2"] for r in sel])),
                    f"{median([r['pairs_r'] for r in sel]):+.3f}",
                    f"{median([r['sign_agreement'] for r in sel]):.2f}",
                    fs(median([r["seconds"] for r in sel])),
                    "-" if share is None else f"{100 * share:.1f} % ({sel[0]['check_rows']} rows)",
                ]
            )
    text = "\n".join(
        [
            f"The same SST-2 dev sentences ({s['sentences_per_length']} per length) explained by Integrated Hessians "
            f"(the default) and by shapiq's indices through `estimator=` (budget per sentence length "
            f"{_budgets(s['budget'])} coalitions, exact where 2^W is smaller), each call as a user makes it, the removal check included. R^2: the second-order "
            f"surrogate `f(x') + sum_(i,j in S) M_ij` against the model on {s['coalitions']} uniform random coalitions "
            f"(removed words at the pad baseline; the same coalitions for every estimator). Pairs r and signs: the "
            f"removal check of the {s['check_pairs']} strongest pairs (their values against their removal "
            f"interactions). Check share: the removal check's time as a share of the Integrated Hessians call. Medians.",
            "",
            table(["words", "estimator", "sentences", "R^2", "pairs r", "signs agree", "time", "check share"], lines),
            "",
            "R^2 against the budget (coalitions the index evaluates; median over the sentences). A second-order "
            "index has 1 + W + W(W-1)/2 terms (56 at 10 words, 211 at 20, 821 at 40): below that many coalitions "
            "its fit is underdetermined and the surrogate can be far off.",
            "",
            _curve_table(d.get("curves") or []),
            "",
            "Integrated Hessians decomposes the straight path from the baseline; removal coalitions are corners of the "
            "box the path never visits, so its matrix predicts them less well the longer the sentence (see "
            "[Reading an explanation](docs/guide/reading.md)). The indices are fitted to those corners.",
            "",
        ]
    )
    return Section(TITLE, text)
