"""The app as benchmarks/load.py runs it: HEATMAP_TIMED_APP (a checkout's streamlit_app.py) run unchanged, each run's
server time appended to HEATMAP_RUN_TIMES as a JSON line: from the script's start to its end in the server, so
what the benchmark's browsers cost the machine is not in it (with --nice-browsers they do not take the server's
cores either). load.py copies this file next to a link to the checkout's pages/ (Streamlit finds a page's file
from the main script's folder) and puts the checkout first on sys.path.
"""

import json
import os
import sys
import time
from pathlib import Path

from streamlit.runtime.scriptrunner import get_script_run_ctx

_app = Path(os.environ["HEATMAP_TIMED_APP"])
if sys.path[:1] != [str(_app.parent)]:
    sys.path.insert(0, str(_app.parent))
_began, _started, _finished = time.perf_counter(), time.time(), False
try:
    exec(compile(_app.read_text(encoding="utf-8"), str(_app), "exec"), {"__name__": "__main__", "__file__": str(_app)})
    _finished = True
finally:
    _ctx = get_script_run_ctx()
    _line = {
        "session": _ctx.session_id if _ctx else None,
        "started": round(_started, 3),
        "seconds": round(time.perf_counter() - _began, 4),
        "finished": _finished,  # False: interrupted by a newer run of the session, or st.rerun
    }
    with open(os.environ["HEATMAP_RUN_TIMES"], "a", encoding="utf-8") as _out:
        _out.write(json.dumps(_line) + "\n")
