"""The light and dark palettes shared by every view (the tabular views too: public), and the plotly layout built
from them.

Sign convention everywhere: positive values (pushing the explained output up) are blue, negative are red,
zero is the neutral middle of the diverging scale (close to the page background).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._colors import diverging_color, interpolate

__all__ = [
    "Palette",
    "THEMES",
    "palette",
    "plotly_colorscale",
    "sign",
    "sign_color",
    "value_color",
    "base_layout",
    "control_style",
    "FONT",
    "MONOSPACE",
]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"
MONOSPACE = "'DejaVu Sans Mono', Menlo, Consolas, monospace"


@dataclass(frozen=True)
class Palette:
    """Colours of one theme (``"#rrggbb"``); ``diverging`` runs from most negative (0) to most positive (1).

    ``control_bg`` / ``control_fg`` colour plotly buttons and dropdowns; plotly.js paints the active / hovered
    button a fixed near-white, so on dark pages the controls are light chips with dark text. ``unknown`` fills the
    cells of a partial interaction matrix that were not computed: a neutral grey, off the diverging scale."""

    name: str
    background: str
    surface: str
    foreground: str
    muted: str
    grid: str
    border: str
    negative: str
    positive: str
    control_bg: str
    control_fg: str
    diverging: tuple[tuple[float, str], ...]
    unknown: str = "#a3abb5"


THEMES: dict[str, Palette] = {
    "light": Palette(
        name="light",
        background="#ffffff",
        surface="#f6f8fa",
        foreground="#1f2328",
        muted="#59636e",
        grid="#e1e4e8",
        border="#d1d9e0",
        negative="#c0392b",
        positive="#2166ac",
        control_bg="#e3e8ee",
        control_fg="#1f2328",
        diverging=((0.0, "#b2182b"), (0.25, "#ef8a62"), (0.5, "#f7f7f7"), (0.75, "#67a9cf"), (1.0, "#2166ac")),
        unknown="#a3abb5",
    ),
    "dark": Palette(
        name="dark",
        background="#0f1419",
        surface="#1a2029",
        foreground="#e6edf3",
        muted="#9aa5b1",
        grid="#2d3540",
        border="#3d4652",
        negative="#f07167",
        positive="#5aa9f0",
        control_bg="#a9b4c0",
        control_fg="#0f1419",
        diverging=((0.0, "#f07167"), (0.25, "#8f3f3e"), (0.5, "#262d36"), (0.75, "#2f5f8f"), (1.0, "#5aa9f0")),
        unknown="#66707c",
    ),
}


def palette(theme: str | Palette) -> Palette:
    """The :class:`Palette` named ``theme`` (``"light"`` or ``"dark"``), or ``theme`` itself."""
    if isinstance(theme, Palette):
        return theme
    try:
        return THEMES[theme]
    except KeyError:
        raise ValueError(f"unknown theme {theme!r}; use one of {sorted(THEMES)}") from None


def plotly_colorscale(p: Palette, signed: bool = True) -> list[list[Any]]:
    """``p.diverging`` in plotly's ``[[position, colour], ...]`` form (use with ``zmid=0``, ``zmin = -zmax``).

    ``signed=False``: only its positive half, stretched over ``[0, 1]`` (0 -> the neutral middle, 1 -> the most
    positive colour), for values that are never negative (e.g. mean ``|interaction|``, with ``zmin=0``)."""
    if signed:
        return [[pos, color] for pos, color in p.diverging]
    return [[0.0, interpolate(p.diverging, 0.5)]] + [[2 * pos - 1, color] for pos, color in p.diverging if pos > 0.5]


def sign(value: float) -> str:
    """``"+"`` for ``value >= 0`` (zero counts as positive), else ``"-"``: the sign :func:`sign_color` colours by."""
    return "+" if value >= 0 else "-"


def sign_color(value: float, p: Palette) -> str:
    """Bar / arc colour of a signed value: ``p.positive`` when :func:`sign` is ``"+"``, else ``p.negative``."""
    return p.positive if sign(value) == "+" else p.negative


def value_color(value: float, vmax: float, p: Palette) -> str:
    """Background colour of ``value`` on the palette's diverging scale over ``[-vmax, vmax]``."""
    return diverging_color(value, vmax, p.diverging)


def control_style(p: Palette) -> dict[str, Any]:
    """Colours for a plotly ``updatemenus`` entry."""
    return dict(bgcolor=p.control_bg, bordercolor=p.border, font=dict(color=p.control_fg))


def _axis(p: Palette) -> dict[str, Any]:
    return dict(gridcolor=p.grid, zerolinecolor=p.muted, linecolor=p.border, automargin=True)


def base_layout(p: Palette) -> dict[str, Any]:
    """Layout shared by all figures: palette colours, font, margins; views add their own on top."""
    return dict(
        template="none",
        paper_bgcolor=p.background,
        plot_bgcolor=p.background,
        font=dict(family=FONT, size=13, color=p.foreground),
        title=dict(font=dict(size=15), x=0.0, xanchor="left", xref="paper"),
        margin=dict(l=10, r=10, t=60, b=10),
        hoverlabel=dict(font=dict(family=FONT, size=13)),
        xaxis=_axis(p),
        yaxis=_axis(p),
        showlegend=False,
    )


def note_when_empty(fig: Any, text: str, p: Palette) -> None:
    """Write ``text`` (why the figure has no bars: plain text, not HTML) in the middle of an empty ``fig``, in the
    palette's muted colour, so an empty plot says why instead of showing blank axes."""
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font=dict(color=p.muted))
