"""tracking/athena.yaml: the Glue table, the workgroup and the dashboard's Athena policy (DESIGN §13)."""

import subprocess
import sys
from pathlib import Path

from heatmap import contract
from heatmap.engines.sql import column_name
from heatmap.fields import FieldMap
from tracking import build

TEMPLATE = Path(__file__).resolve().parents[1] / "tracking" / "athena.yaml"


def resources() -> dict:
    return build.load_template(TEMPLATE.read_text(encoding="utf-8"))["Resources"]


def test_glue_columns_are_the_contracts_fields_and_the_sql_reads_them():
    table = resources()["ExportsTable"]["Properties"]["TableInput"]
    columns = [c["Name"] for c in table["StorageDescriptor"]["Columns"]]
    fields = [*contract.REPORT_DIMENSIONS, *contract.REPORT_METRICS, contract.SECONDS_SQ_PARAM]
    assert sorted(columns) == sorted({column_name(f) for f in fields})
    assert all(c["Type"] == "string" for c in table["StorageDescriptor"]["Columns"])  # as AppFlow writes them
    mapping = {k.removeprefix("mapping."): v for k, v in table["StorageDescriptor"]["SerdeInfo"]["Parameters"].items()
               if k.startswith("mapping.")}  # fmt: skip
    for field in fields:  # each column reads its export key (GA4 keeps `customEvent:`, the column drops it)
        column = column_name(field)
        assert column_name(mapping.get(column, column)) == column
    roles = FieldMap()
    used = [roles.date, roles.page, roles.event_name, roles.band, roles.x, roles.y, roles.events, roles.seconds,
            roles.seconds_sq, *roles.segments]  # fmt: skip
    assert {column_name(f) for f in used} <= set(columns)
    assert table["StorageDescriptor"]["SerdeInfo"]["Parameters"]["ignore.malformed.json"] == "true"


def test_dashboard_policy_is_exactly_what_the_athena_engine_calls():
    statements = resources()["DashboardAthenaPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    actions = sorted(a for s in statements for a in s["Action"] if isinstance(s["Action"], list)) + sorted(
        s["Action"] for s in statements if isinstance(s["Action"], str)
    )
    assert set(actions) == {
        "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "glue:GetDatabase",
        "glue:GetTable", "glue:GetPartitions", "s3:ListBucket", "s3:GetObject", "s3:GetBucketLocation",
        "s3:PutObject",
    }  # fmt: skip
    assert not any("Delete" in a for a in actions)
    for statement in statements:
        resource = statement["Resource"]
        assert resource != "*" and "*" not in (resource if isinstance(resource, list) else [resource])


def test_cfn_lint_passes():
    runner = "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())"
    result = subprocess.run([sys.executable, "-c", runner, "--", str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
