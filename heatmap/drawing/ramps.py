"""Colour ramps as 256-entry uint8 lookup tables, built with numpy (no matplotlib).

- classic: blue → cyan → lime → yellow → red, the heatmap.js / Clarity convention (hot = red).
- viridis, cividis: perceptually uniform and colour-blind safe; stops are matplotlib's (as published by
  plotly.colors.sequential, checked in tests), interpolated linearly in sRGB between 10 stops.
- difference: a diverging blue ← light grey → red ramp (ColorBrewer RdBu, reversed), for B − A maps.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

Lut = npt.NDArray[np.uint8]

_STOPS: dict[str, str] = {  # hex sRGB stops, cold to hot
    "classic": "0000ff 00ffff 00ff00 ffff00 ff0000",
    "viridis": "440154 482878 3e4989 31688e 26828e 1f9e89 35b779 6ece58 b5de2b fde725",
    "cividis": "00224e 123570 3b496c 575d6d 707173 8a8678 a59c74 c3b369 e1cc55 fee838",
    "difference": "053061 2166ac 4393c3 92c5de d1e5f0 f7f7f7 fddbc7 f4a582 d6604d b2182b 67001f",
}

RAMPS: tuple[str, ...] = ("classic", "viridis", "cividis")
COLOUR_BLIND_SAFE: tuple[str, ...] = ("viridis", "cividis")


def _hex(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


@cache
def lut(name: str) -> Lut:
    """The (256, 3) uint8 table of ramp `name`; entry 0 is the cold end, entry 255 the hot end."""
    try:
        stops = np.array([_hex(c) for c in _STOPS[name].split()], dtype=np.float64)
    except KeyError:
        known = ", ".join((*RAMPS, "difference"))
        raise ValueError(f"unknown colour ramp {name!r}; choose one of {known}") from None
    positions = np.linspace(0.0, 1.0, len(stops))
    t = np.linspace(0.0, 1.0, 256)
    channels = [np.interp(t, positions, stops[:, c]) for c in range(3)]
    table = np.rint(np.stack(channels, axis=1)).astype(np.uint8)
    table.setflags(write=False)
    return table


def colour_index(t: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Map values in [0, 1] (clipped) to LUT indices 0..255."""
    return np.rint(np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0) * 255.0).astype(np.intp)
