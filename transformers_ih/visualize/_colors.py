"""Colour arithmetic: interpolation on a colour scale and WCAG contrast, so text on coloured backgrounds
stays readable. Colours are ``"#rrggbb"`` strings; scale positions are in ``[0, 1]``."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["interpolate", "diverging_color", "contrast_ratio", "readable_text_color", "BLACK", "WHITE"]

BLACK = "#000000"
WHITE = "#ffffff"

ColorScale = Sequence[tuple[float, str]]


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{int(round(min(255.0, max(0.0, c)))):02x}" for c in rgb)


def interpolate(scale: ColorScale, position: float) -> str:
    """The colour at ``position`` (clipped to ``[0, 1]``) of a piecewise-linear ``scale`` of
    ``(position, colour)`` stops sorted by position, interpolated in RGB."""
    position = min(1.0, max(0.0, float(position)))
    for (p0, c0), (p1, c1) in zip(scale, scale[1:]):
        if position <= p1:
            w = 0.0 if p1 == p0 else (position - p0) / (p1 - p0)
            a, b = _rgb(c0), _rgb(c1)
            return _hex([x + w * (y - x) for x, y in zip(a, b)])
    return scale[-1][1]


def diverging_color(value: float, vmax: float, scale: ColorScale) -> str:
    """Colour of ``value`` on a diverging ``scale`` centred at 0 spanning ``[-vmax, vmax]`` (0 -> middle stop)."""
    if not vmax > 0:
        return interpolate(scale, 0.5)
    return interpolate(scale, 0.5 + 0.5 * float(value) / float(vmax))


def _relative_luminance(color: str) -> float:
    def channel(c: int) -> float:
        s = c / 255.0
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours, from 1 (same) to 21 (black on white)."""
    la, lb = sorted((_relative_luminance(a), _relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable_text_color(background: str) -> str:
    """Black or white, whichever contrasts more with ``background`` (always at least 4.58:1)."""
    return BLACK if contrast_ratio(background, BLACK) >= contrast_ratio(background, WHITE) else WHITE
