"""Views of a :class:`~transformers_ih.corpus.CorpusInteractions`: plotly figures and a self-contained HTML corpus
report in the style of the explanation report (same palettes, stylesheet, theme script, inlined plotly.js).

* :func:`plot_corpus_pairs`: the strongest word-type pairs' mean interactions (error bars: standard error).
* :func:`plot_partners`: one word's partners, or a menu over the most connected words.
* :func:`plot_corpus_compare`: two corpora's pair means against each other.
* :func:`corpus_html`: all of them plus example sentences for the strongest pairs (text escaped, the pair's
  words marked).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from ._assets import report_page
from ._ids import element_id, new_report_id
from ._payload import payload_json, themed_figure
from .escape import html_text, plotly_text
from .format import TICK_CHARS, short, truncate, value_text
from .theme import Palette, base_layout, control_style, note_when_empty, palette, sign_color

if TYPE_CHECKING:
    from ..corpus.interactions import CorpusComparison, CorpusInteractions, PairStats

__all__ = ["plot_corpus_pairs", "plot_partners", "plot_corpus_compare", "corpus_html"]


def _units(corpus: CorpusInteractions) -> str:
    outputs = sorted({doc.get("output", "") for doc in corpus.documents})
    return ", ".join(outputs) or "output"


def _pair_label(s: PairStats) -> str:
    return f"{plotly_text(truncate(s.a, TICK_CHARS))} × {plotly_text(truncate(s.b, TICK_CHARS))}"


def _hover(s: PairStats) -> str:
    return (
        f"<b>{plotly_text(s.a)} × {plotly_text(s.b)}</b><br>mean interaction: {value_text(s.mean)}"
        f"<br>mean |interaction|: {short(s.mean_abs)}<br>total: {short(s.total)}"
        f"<br>occurrences: {s.count} in {s.texts} texts<br>std: {short(s.std)}"
    )


def _bars(stats: list[PairStats], p: Palette, labels: list[str]) -> dict[str, Any]:
    values = [s.mean for s in stats]
    return dict(
        x=values,
        y=labels,
        hovertext=[_hover(s) for s in stats],
        error_x=dict(
            type="data", array=[s.stderr if s.count > 1 else 0.0 for s in stats], color=p.muted, thickness=1.2, width=3
        ),
        marker=dict(color=[sign_color(v, p) for v in values]),
    )


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def plot_corpus_pairs(
    corpus: CorpusInteractions,
    k: int = 15,
    *,
    by: str = "mean_abs",
    min_count: int = 2,
    sign: str | None = None,
    theme: str = "light",
    **layout: Any,
) -> go.Figure:
    """Horizontal bars of the ``k`` strongest pairs (:meth:`CorpusInteractions.top_pairs` with ``by``,
    ``min_count``, ``sign``): each bar the pair's mean interaction (signed; blue raises, red lowers the explained
    output), with its standard error; hover for counts and totals. Labels ``"a × b (n)"``."""
    p = palette(theme)
    stats = corpus.top_pairs(k, by=by, min_count=min_count, sign=sign)
    labels = _unique([f"{_pair_label(s)} ({s.count})" for s in stats])
    fig = go.Figure(
        go.Bar(orientation="h", hovertemplate="%{hovertext}<extra></extra>", **_bars(stats, p, labels)),
        layout=base_layout(p),
    )
    fig.update_layout(
        title=dict(text=f"Strongest word pairs across {corpus.num_texts} texts (seen ≥ {min_count} times)"),
        xaxis=dict(
            title=dict(text=f"mean interaction ({plotly_text(_units(corpus))})"), zeroline=True, zerolinewidth=1.5
        ),
        yaxis=dict(type="category", autorange="reversed"),
        height=170 + 26 * max(1, len(stats)),
        bargap=0.25,
    )
    if not stats:
        note_when_empty(fig, f"no pair seen {min_count} times or more", p)
    fig.update_layout(**layout)
    return fig


def _partner_bars(corpus, word, k, min_count, p):
    stats = corpus.partners(word, k, min_count=min_count)
    labels = _unique([f"{plotly_text(truncate(s.b, TICK_CHARS))} ({s.count})" for s in stats])
    return _bars(stats, p, labels), stats


def _partner_title(corpus, word: str) -> str:
    w = corpus.word(word)
    return (
        f"Partners of “{plotly_text(truncate(w.word, 2 * TICK_CHARS))}”: {w.count} occurrences in {w.texts} "
        f"texts<br><sup>mean attribution {short(w.mean_attribution)}, mean main effect "
        f"{short(w.mean_main_effect)}</sup>"
    )


def plot_partners(
    corpus: CorpusInteractions,
    word: str | None = None,
    k: int = 15,
    *,
    min_count: int = 1,
    words: int = 20,
    theme: str = "light",
    **layout: Any,
) -> go.Figure:
    """Bars of ``word``'s ``k`` strongest partners (mean interaction with each partner word, its standard
    error, the count in the label). ``word=None``: the most connected of the ``words`` most frequent word types
    first, with a menu to switch between them."""
    p = palette(theme)
    menu_words: list[str] = []
    if word is None:
        frequent = sorted(corpus.words, key=lambda row: (-row.occurrences, row.word))[:words]
        menu_words = [row.word for row in frequent]
        if not menu_words:
            raise ValueError("the corpus has no words")
        word = max(menu_words, key=lambda w: max((s.mean_abs for s in corpus.partners(w, 1)), default=0.0))
        word = corpus.word(word).word
    bars, stats = _partner_bars(corpus, word, k, min_count, p)
    rows = max([len(stats)] + [len(corpus.partners(w, k, min_count=min_count)) for w in menu_words])
    fig = go.Figure(go.Bar(orientation="h", hovertemplate="%{hovertext}<extra></extra>", **bars), layout=base_layout(p))
    fig.update_layout(
        title=dict(text=_partner_title(corpus, word)),
        xaxis=dict(
            title=dict(text=f"mean interaction ({plotly_text(_units(corpus))})"), zeroline=True, zerolinewidth=1.5
        ),
        yaxis=dict(type="category", autorange="reversed"),
        height=200 + 26 * max(1, rows),
        bargap=0.25,
        margin=dict(t=100),
    )
    if menu_words:
        buttons = []
        for w in menu_words:
            b, _ = _partner_bars(corpus, w, k, min_count, p)
            update = {
                "x": [b["x"]],
                "y": [b["y"]],
                "hovertext": [b["hovertext"]],
                "error_x.array": [b["error_x"]["array"]],
                "marker.color": [b["marker"]["color"]],
            }
            buttons.append(
                dict(
                    label=plotly_text(truncate(w, TICK_CHARS)),
                    method="update",
                    args=[update, {"title.text": _partner_title(corpus, w)}],
                )
            )
        fig.update_layout(
            updatemenus=[
                dict(
                    type="dropdown",
                    buttons=buttons,
                    active=menu_words.index(corpus.word(word).word) if corpus.word(word).word in menu_words else 0,
                    x=1.0,
                    xanchor="right",
                    y=1.0,
                    yanchor="bottom",
                    pad=dict(b=8),
                    **control_style(p),
                )
            ]
        )
    fig.update_layout(**layout)
    return fig


def plot_corpus_compare(comparison: CorpusComparison, k: int = 12, *, theme: str = "light", **layout: Any) -> go.Figure:
    """Each pair seen in both corpora as a point (x: mean in the first, y: mean in the second), the diagonal
    where they agree, and the ``k`` largest differences labelled."""
    p = palette(theme)
    pairs = comparison.pairs
    top = {(q.a, q.b) for q in comparison.top(k)}
    first, second = plotly_text(comparison.first), plotly_text(comparison.second)
    hover = [
        f"<b>{plotly_text(q.a)} × {plotly_text(q.b)}</b><br>{first}: {value_text(q.mean_first)} "
        f"(n={q.count_first})<br>{second}: {value_text(q.mean_second)} (n={q.count_second})"
        f"<br>difference: {short(q.difference)}"
        for q in pairs
    ]
    text = [
        f"{plotly_text(truncate(q.a, 12))} × {plotly_text(truncate(q.b, 12))}" if (q.a, q.b) in top else ""
        for q in pairs
    ]
    values = [v for q in pairs for v in (q.mean_first, q.mean_second)] or [0.0]
    lo, hi = min(values + [0.0]), max(values + [0.0])
    fig = go.Figure(layout=base_layout(p))
    fig.add_trace(
        go.Scatter(
            x=[lo, hi], y=[lo, hi], mode="lines", hoverinfo="skip", line=dict(color=p.muted, dash="dot", width=1)
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[q.mean_first for q in pairs],
            y=[q.mean_second for q in pairs],
            mode="markers+text",
            text=text,
            textposition="top center",
            textfont=dict(size=11, color=p.foreground),
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            marker=dict(size=7, opacity=0.75, color=[sign_color(q.difference, p) for q in pairs]),
        )
    )
    fig.update_layout(
        title=dict(
            text=f"Pair means: {first} vs {second} ({len(pairs)} pairs in both; {comparison.shared_texts} shared texts)"
        ),
        xaxis=dict(title=dict(text=f"mean interaction, {first}"), zeroline=True),
        yaxis=dict(title=dict(text=f"mean interaction, {second}"), zeroline=True),
        height=520,
    )
    fig.update_layout(**layout)
    return fig


# ---------------------------------------------------------------------------------------------------- report
_CORPUS_CSS = """
.ih-report table.ih-examples{border-collapse:collapse;width:100%;margin:.3rem 0 1rem;font-size:.92rem;}
.ih-report table.ih-examples th,.ih-report table.ih-examples td{border-bottom:1px solid var(--ih-border);
  padding:.3rem .5rem;text-align:left;vertical-align:top;}
.ih-report table.ih-examples td.ih-num{font-variant-numeric:tabular-nums;white-space:nowrap;}
.ih-report h3.ih-pair{margin:1rem 0 .2rem;font-size:.98rem;}
.ih-report mark.ih-mark{background:var(--ih-surface);color:var(--ih-fg);border:1px solid var(--ih-fg);
  border-radius:4px;padding:0 .2em;font-weight:600;}
"""


def _marked_text(example) -> str:
    """The example's text, escaped, with the pair's two words in ``<mark>``."""
    text = example.text
    spans = sorted([tuple(example.span_i), tuple(example.span_j)])
    out, cursor = [], 0
    for start, end in spans:
        start = max(start, cursor)
        out.append(html_text(text[cursor:start]))
        out.append(f'<mark class="ih-mark">{html_text(text[start:end])}</mark>')
        cursor = max(cursor, end)
    out.append(html_text(text[cursor:]))
    return "".join(out)


def _examples_html(corpus: CorpusInteractions, pairs: list[PairStats], per_pair: int) -> str:
    parts = []
    for s in pairs:
        rows = "".join(
            f'<tr><td class="ih-num">{html_text(short(ex.value))}</td><td>{_marked_text(ex)}</td>'
            f"<td>{html_text(ex.target)}</td></tr>"
            for ex in corpus.examples(s.a, s.b, per_pair)
        )
        parts.append(
            f'<h3 class="ih-pair">{html_text(s.a)} × {html_text(s.b)}: mean {html_text(short(s.mean))}, '
            f"{s.count} occurrences in {s.texts} texts</h3>"
            f'<table class="ih-examples"><thead><tr><th>interaction</th><th>text</th><th>explained</th></tr>'
            f"</thead><tbody>{rows}</tbody></table>"
        )
    return "".join(parts)


def _facts(corpus: CorpusInteractions) -> str:
    items = [
        ("texts", str(corpus.num_texts)),
        ("word types", str(len(corpus.words))),
        ("word-type pairs", str(corpus.num_pairs)),
        ("explained", ", ".join(f"{t}: {n}" for t, n in sorted(corpus.targets.items()))),
        ("case", "kept" if corpus.case_sensitive else "folded"),
    ]
    if corpus.name:
        items.insert(0, ("model", corpus.name))
    facts = "".join(f'<div class="ih-fact"><dt>{html_text(n)}</dt><dd>{html_text(v)}</dd></div>' for n, v in items)
    return f'<dl class="ih-facts">{facts}</dl>'


def _section(heading: str, note: str, body: str) -> str:
    return f'<h2 class="ih-h">{html_text(heading)}</h2><p class="ih-note">{html_text(note)}</p>{body}'


def corpus_html(
    corpus: CorpusInteractions,
    full_document: bool = True,
    *,
    top_k: int = 15,
    min_count: int = 2,
    word: str | None = None,
    example_pairs: int = 8,
    examples_per_pair: int = 3,
    compare: CorpusComparison | None = None,
    title: str | None = None,
) -> str:
    """The corpus report as HTML: facts, the strongest pairs (seen at least ``min_count`` times), a word's
    partners (``word``, or a menu over frequent words), example sentences for the ``example_pairs`` strongest
    pairs, and optionally a comparison with another corpus. ``full_document=False``: a notebook fragment."""
    report_id = new_report_id()
    figures = {
        "pairs": lambda theme: plot_corpus_pairs(corpus, top_k, min_count=min_count, theme=theme),
        "partners": lambda theme: plot_partners(corpus, word, top_k, theme=theme),
    }
    if compare is not None:
        figures["compare"] = lambda theme: plot_corpus_compare(compare, theme=theme)
    top = corpus.top_pairs(example_pairs, min_count=min_count)
    div = lambda name: f'<div class="ih-figure" id="{element_id(report_id, name)}"></div>'  # noqa: E731
    parts = [
        '<p class="ih-kicker">transformers-ih corpus interactions</p>',
        f'<h1 class="ih-title">Word-pair interactions across {corpus.num_texts} texts</h1>',
        _facts(corpus),
        '<div class="ih-error" role="alert"></div>',
        _section(
            "Strongest pairs",
            "Mean interaction of each word-type pair over its occurrences (the matrix "
            "cell, half the pair's total in a text), with its standard error; blue raises and red lowers the "
            "explained output. The number is how often the pair occurred.",
            div("pairs"),
        ),
        _section(
            "A word's partners",
            "The words a word interacts with most, on average; pick a word in the menu.",
            div("partners"),
        ),
    ]
    if compare is not None:
        parts.append(
            _section(
                "Two corpora",
                "Each pair's mean interaction in one corpus against the other; on the dotted line they agree.",
                div("compare"),
            )
        )
    parts.append(
        _section(
            "Examples",
            "The strongest occurrences of the strongest pairs, with the two words marked.",
            _examples_html(corpus, top, examples_per_pair),
        )
    )
    body = f'<div class="ih-report" id="{report_id}">{"".join(parts)}</div>'
    themed = {
        element_id(report_id, name): {"figure": themed_figure(build), "view": None} for name, build in figures.items()
    }
    return report_page(
        report_id,
        body,
        payload_json(themed),
        extra_css=_CORPUS_CSS,
        full_document=full_document,
        title=title if title is not None else f"Corpus interactions ({corpus.num_texts} texts)",
    )
