"""Saving a view as a run, the same from the app and the CLI: what the run records is the link that reopens it."""

from __future__ import annotations

from heatmap.drawing.render import Alignment
from heatmap.images import PictureFile
from heatmap.runs import RunParams
from heatmap.usecases.view import View, view_query


def params_for(view: View, shot: PictureFile | None, name: str = "", note: str = "") -> RunParams:
    """The saved facts of `view`: its selection, how it was drawn on `shot`, and the link parameters that reopen
    it exactly (display settings included), whichever of the app or the CLI saved it."""
    assert view.page is not None and view.start is not None and view.end is not None
    return RunParams(
        page=view.page,
        start=view.start,
        end=view.end,
        where={k: list(v) for k, v in view.where.items()},
        display=view.display.drawing(view.kind),
        alignment=view.display.alignment(shot.width, shot.height) if shot is not None else Alignment(),
        view=view_query(view),
        name=name,
        note=note,
    )
