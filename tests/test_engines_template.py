"""tracking/athena.yaml: the Glue tables, the workgroup and the dashboard's Athena policy (DESIGN §13)."""

import subprocess
import sys
from pathlib import Path

from heatmap import contract
from heatmap.engines import sql
from heatmap.fields import FieldMap
from tracking import build

TEMPLATE = Path(__file__).resolve().parents[1] / "tracking" / "athena.yaml"


def resources() -> dict:
    return build.load_template(TEMPLATE.read_text(encoding="utf-8"))["Resources"]


def tables() -> dict[str, dict]:
    found = {}
    for resource in resources().values():
        if resource["Type"] == "AWS::Glue::Table":
            table = resource["Properties"]["TableInput"]
            found[table["Name"]] = table
    return found


def test_glue_columns_are_the_contracts_fields_under_both_spellings_and_the_sql_reads_them():
    assert set(tables()) == {sql.TABLE, sql.UNDATED_TABLE}
    fields = [*contract.REPORT_DIMENSIONS, *contract.REPORT_METRICS, contract.SECONDS_SQ_PARAM]
    for table in tables().values():
        storage = table["StorageDescriptor"]
        columns = [c["Name"] for c in storage["Columns"]]
        assert sorted(columns) == sorted({column for f in fields for column, _key in sql.spellings(f)})
        assert all(c["Type"] == "string" for c in storage["Columns"])  # as AppFlow writes them
        serde = storage["SerdeInfo"]["Parameters"]
        assert serde["ignore.malformed.json"] == "true" and serde["case.insensitive"] == "false"
        mapping = {k.removeprefix("mapping."): v for k, v in serde.items() if k.startswith("mapping.")}
        reads = {column: mapping.get(column, column) for column in columns}  # the JSON key each column reads
        for field in fields:
            plain = field.removeprefix("customEvent:")
            assert plain in reads.values()  # hm_band from other tools, pagePath, ...
            if field.startswith("customEvent:"):
                assert field in reads.values()  # customEvent:hm_band from AppFlow
        assert len(set(reads.values())) == len(reads)
        assert {c for f in sql.role_fields(FieldMap()) for c, _key in sql.spellings(f)} <= set(columns)


def test_partitions_are_the_run_date_folders_the_shipped_flows_write():
    dated, undated = tables()[sql.TABLE], tables()[sql.UNDATED_TABLE]
    assert [k["Name"] for k in dated["PartitionKeys"]] == [sql.FLOW, sql.RUN_DATE]
    assert [k["Name"] for k in undated["PartitionKeys"]] == [sql.FLOW]
    projection = dated["Parameters"]
    assert projection["projection.enabled"] == "true"
    assert projection[f"projection.{sql.RUN_DATE}.type"] == "date"
    assert projection[f"projection.{sql.RUN_DATE}.format"] == sql.RUN_DATE_FORMAT == "yyyy/MM/dd"
    assert projection[f"projection.{sql.RUN_DATE}.range"] == f"{sql.FIRST_RUN_DATE:%Y/%m/%d},NOW+1DAYS"
    assert projection[f"projection.{sql.RUN_DATE}.interval.unit"] == "DAYS"
    template = projection["storage.location.template"]["Fn::Sub"]
    assert template == "s3://${SourceBucketName}/${SourcePrefix}/${!flow}/${!run_date}/"
    assert undated["Parameters"]["storage.location.template"]["Fn::Sub"].endswith("/${!flow}/")
    for table in (dated, undated):
        flows = table["Parameters"][f"projection.{sql.FLOW}.values"]["Fn::Sub"]
        assert flows == "${FlowNamePrefix}-daily,${FlowNamePrefix}-backfill"
    appflow = build.load_template((TEMPLATE.parent / "appflow.yaml").read_text(encoding="utf-8"))["Resources"]
    for name in ("DailyFlow", "BackfillFlow"):
        (destination,) = appflow[name]["Properties"]["DestinationFlowConfigList"]
        prefix = destination["DestinationConnectorProperties"]["S3"]["S3OutputFormatConfig"]["PrefixConfig"]
        # <SourcePrefix>/<flow>/<yyyy>/<mm>/<dd>/<execution id>/: the folders partition_of reads
        assert prefix == {"PrefixType": "PATH", "PrefixFormat": "DAY", "PathPrefixHierarchy": ["EXECUTION_ID"]}
    assert sql.partition_of("ga4-heatmap-daily/2026/01/06/0b7a1c3e-0000-4000-8000-00000000000a/part") == (
        "ga4-heatmap-daily",
        "2026/01/06",
    )


def test_the_tables_are_generated_from_the_contract():
    text = TEMPLATE.read_text(encoding="utf-8")
    assert build.render_athena_yaml(text) == text, "tracking/athena.yaml is stale: run python -m tracking.build"


def test_dashboard_policy_is_exactly_what_the_athena_engine_calls():
    statements = resources()["DashboardAthenaPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    actions = sorted(a for s in statements for a in s["Action"] if isinstance(s["Action"], list)) + sorted(
        s["Action"] for s in statements if isinstance(s["Action"], str)
    )
    assert set(actions) == {
        "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults",
        "athena:StopQueryExecution", "glue:GetDatabase",
        "glue:GetTable", "glue:GetPartitions", "s3:ListBucket", "s3:GetObject", "s3:GetBucketLocation",
        "s3:PutObject",
    }  # fmt: skip
    assert not any("Delete" in a for a in actions)
    (stopping,) = [s for s in statements if "athena:StopQueryExecution" in s["Action"]]
    assert stopping["Resource"]["Fn::Sub"].endswith(":workgroup/${WorkGroup}")  # the workgroup only
    (tables_statement,) = [s for s in statements if s["Sid"] == "ReadTheTable"]
    named = [r["Fn::Sub"].rsplit("/", 1)[-1] for r in tables_statement["Resource"] if "table/" in r["Fn::Sub"]]
    assert sorted(named) == sorted([sql.TABLE, sql.UNDATED_TABLE])
    for statement in statements:
        resource = statement["Resource"]
        assert resource != "*" and "*" not in (resource if isinstance(resource, list) else [resource])


def test_cfn_lint_passes():
    runner = "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())"
    result = subprocess.run([sys.executable, "-c", runner, "--", str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
