"""A comparison said plainly: the significant differences big enough to matter, largest first, in the units a
designer reads (reach in points of %, attention and clicks as a relative change), each with one p-value format.

Significance alone makes poor headlines: with a few thousand page views a 1-point change in reach is
"significant" in most bands. A difference is a headline only when it is significant (Benjamini–Hochberg, as the
map colours it) and at least `min_effect`: points of reach, or per cent of A's attention or clicks (defaults in
MIN_EFFECT; the designer can set another).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from heatmap.statistics.compare import Comparison

MIN_EFFECT = {"reach": 2.0, "attention": 10.0, "clicks": 10.0}  # points of reach; % of A for the others
SCALE = {"reach": 100.0, "attention": 1.0, "clicks": 1000.0}  # to %, seconds per page view, per 1,000 page views


@dataclass(frozen=True)
class Difference:
    """One significant difference: where (CSS px of the page, x in % of its width for click regions), A and B in
    display units, the effect (points of reach, or % change from A) and the BH-adjusted p."""

    top_px: int
    bottom_px: int
    x_from: int | None
    x_to: int | None
    a: float
    b: float
    effect: float  # + : B more than A
    p: float


def effect_of(kind: str, a: float, b: float) -> float:
    """Reach: B − A in points of %. Attention, clicks: (B − A) / A in %, infinite when A is 0 and B is not."""
    if kind == "reach":
        return (b - a) * 100.0
    if a == 0:
        return math.copysign(math.inf, b) if b else 0.0
    return (b - a) / a * 100.0


def differences(comparison: Comparison, kind: str, min_effect: float | None = None) -> tuple[list[Difference], int]:
    """The headlines (largest effect first, then top to bottom) and how many significant differences were left
    out for being smaller than `min_effect` (None: MIN_EFFECT of the kind)."""
    family = comparison.family(kind)
    threshold = MIN_EFFECT[kind] if min_effect is None else min_effect
    band_height = comparison.a.band_height_px if comparison.a.band_count else comparison.b.band_height_px
    tops = comparison.table["top_px"].to_numpy()
    step = 100 // family.columns if family.columns > 1 else None
    found, smaller = [], 0
    for unit in np.flatnonzero(family.significant):
        row, column = divmod(int(unit), family.columns)
        a, b = float(family.a[unit]), float(family.b[unit])
        effect = effect_of(kind, a, b)
        if abs(effect) < threshold:
            smaller += 1
            continue
        top = int(tops[row]) if row < len(tops) else row * band_height
        x_from, x_to = (column * step, (column + 1) * step) if step else (None, None)
        scale, p = SCALE[kind], float(family.q[unit])
        found.append(Difference(top, top + band_height, x_from, x_to, a * scale, b * scale, effect, p))
    found.sort(key=lambda d: (-abs(d.effect), d.top_px, d.x_from or 0))
    return found, smaller


def p_text(p: float) -> str:
    """The one p-value format: "p < 0.001" or "p = 0.012"; "–" when not tested."""
    if not math.isfinite(p):
        return "–"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
