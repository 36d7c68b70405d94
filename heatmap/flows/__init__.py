"""AppFlow operations (docs/operations.md): see every run of the daily and backfill flows, backfill missing days.

- client.py: the boto3 client (botocore's `standard`/`adaptive` retries) and one-sentence errors;
- runs.py: the last runs of a flow, newest first (DescribeFlowExecutionRecords);
- backfill.py: set the on-demand flow's date filter (UpdateFlow), start it (StartFlow), follow the run;
- jobs.py: backfills running in the background of the Streamlit server.

No Streamlit here: the CLI (`python -m heatmap flow-runs` / `backfill`) and the app share all of it. (The
function `backfill` is imported from heatmap.flows.backfill, so that name keeps meaning the module here.)
"""

from heatmap.flows.backfill import MAX_DAYS_PER_RUN, BackfillProgress, BackfillResult, BackfillRun
from heatmap.flows.client import AppFlowOptions, make_client
from heatmap.flows.runs import FlowRun, list_runs

__all__ = [
    "MAX_DAYS_PER_RUN",
    "AppFlowOptions",
    "BackfillProgress",
    "BackfillResult",
    "BackfillRun",
    "FlowRun",
    "list_runs",
    "make_client",
]
