"""Colour ramps as 256-entry uint8 lookup tables.

- classic: blue → cyan → lime → yellow → red, the heatmap.js / Clarity convention (hot = red): five stops,
  interpolated linearly in sRGB (the convention is the stops themselves).
- viridis, cividis: perceptually uniform and colour-blind safe: matplotlib's exact 256-entry tables, from the
  `cmap` package (numpy only, no matplotlib), rounded to 8 bits.
- difference: ColorBrewer's diverging RdBu reversed (blue: B lower, light grey: equal, red: B higher), from
  `cmap` too, for B − A maps.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

Lut = npt.NDArray[np.uint8]

CLASSIC_STOPS = "0000ff 00ffff 00ff00 ffff00 ff0000"  # hex sRGB stops, cold to hot
#: Ramps read from the `cmap` package's catalogue (the names it knows them by).
CMAP_NAMES: dict[str, str] = {
    "viridis": "bids:viridis",  # matplotlib's viridis (van der Walt & Smith, BIDS)
    "cividis": "cividis",  # Nuñez, Anderton & Renslow (2018), as shipped with matplotlib
    "difference": "colorbrewer:RdBu_r",
}

RAMPS: tuple[str, ...] = ("classic", "viridis", "cividis")
COLOUR_BLIND_SAFE: tuple[str, ...] = ("viridis", "cividis")


def _hex(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _classic() -> npt.NDArray[np.float64]:
    stops = np.array([_hex(c) for c in CLASSIC_STOPS.split()], dtype=np.float64)
    positions = np.linspace(0.0, 1.0, len(stops))
    t = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(t, positions, stops[:, c]) for c in range(3)], axis=1)


def _from_cmap(name: str) -> npt.NDArray[np.float64]:
    from cmap import Colormap

    rgba = np.asarray(Colormap(name).lut(256), dtype=np.float64)
    return rgba[:, :3] * 255.0


@cache
def lut(name: str) -> Lut:
    """The (256, 3) uint8 table of ramp `name`; entry 0 is the cold end, entry 255 the hot end."""
    if name == "classic":
        table = _classic()
    elif name in CMAP_NAMES:
        table = _from_cmap(CMAP_NAMES[name])
    else:
        known = ", ".join((*RAMPS, "difference"))
        raise ValueError(f"unknown colour ramp {name!r}; choose one of {known}")
    out = np.rint(np.clip(table, 0.0, 255.0)).astype(np.uint8)
    out.setflags(write=False)
    return out


def colour_index(t: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Map values in [0, 1] (clipped) to LUT indices 0..255."""
    return np.rint(np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0) * 255.0).astype(np.intp)
