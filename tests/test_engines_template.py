"""tracking/athena.yaml: the Glue tables, the workgroup and the dashboard's Athena policy (docs/engines.md)."""

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


NAMES = [name for family in sql.FAMILIES.values() for name in (family.table, family.undated_table)]


def tables_of(family: sql.Family) -> list[dict]:
    return [tables()[family.table], tables()[family.undated_table]]


def test_two_tables_per_export_format():
    assert sorted(tables()) == sorted(NAMES) and len(NAMES) == 6
    for family in sql.FAMILIES.values():
        for table in tables_of(family):
            storage = table["StorageDescriptor"]
            parquet = family is not sql.JSON
            assert table["Parameters"]["classification"] == ("parquet" if parquet else "json")
            assert storage["SerdeInfo"]["SerializationLibrary"] == (
                "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe" if parquet
                else "org.openx.data.jsonserde.JsonSerDe"
            )  # fmt: skip
            assert storage["InputFormat"].endswith("MapredParquetInputFormat" if parquet else "TextInputFormat")


def test_parquet_columns_are_what_the_flows_write_under_their_plain_names():
    event_only = [contract.LAYOUT_FIELD, contract.TEMPLATE_FIELD]  # null in the report's rows
    fields = [*contract.REPORT_DIMENSIONS, *contract.REPORT_METRICS, contract.SECONDS_SQ_PARAM, *event_only]
    for table in tables_of(sql.PARQUET):  # what the report flows' maps name (DestinationField), strings
        columns = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
        assert columns == {sql.column_name(f): "string" for f in fields}
    event_route = [c.lower() for c in build.EVENT_COLUMNS]  # what heatmap_daily.sql writes
    assert list(sql.event_columns()) == event_route and set(sql.EVENT_TYPES) <= set(event_route)
    for table in tables_of(sql.EVENTS):
        columns = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
        assert columns == {c: sql.EVENT_TYPES.get(c, "string") for c in event_route}


def test_the_event_tables_types_are_the_demos_event_parquet(tmp_path):
    import polars as pl

    from heatmap.demo import write_demo

    (first, *_rest) = sorted(write_demo(tmp_path).rglob("*.parquet"))
    glue = {pl.Date: "date", pl.Int64: "bigint", pl.Float64: "double", pl.String: "string"}
    schema = {name.lower(): glue[dtype] for name, dtype in pl.read_parquet_schema(first).items()}
    assert schema == {c: sql.EVENT_TYPES.get(c, "string") for c in sql.event_columns()}


def test_glue_columns_are_the_contracts_fields_under_both_spellings_and_the_sql_reads_them():
    fields = [
        *contract.REPORT_DIMENSIONS,
        *contract.REPORT_METRICS,
        contract.SECONDS_SQ_PARAM,
        contract.LAYOUT_FIELD,
        contract.TEMPLATE_FIELD,
    ]  # fmt: skip  (an events flow set to JSON writes both)
    for table in tables_of(sql.JSON):
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
        read = {c for f in sql.role_fields(FieldMap()) for c, _key in sql.spellings(f)}
        assert read <= set(columns)


def test_partitions_are_the_run_date_folders_the_shipped_flows_write():
    for family in sql.FAMILIES.values():
        partitions_of_family(*tables_of(family), family)
    appflow = build.load_template((TEMPLATE.parent / "appflow.yaml").read_text(encoding="utf-8"))["Resources"]
    for name in ("DailyFlow", "BackfillFlow", "EventDailyFlow", "EventBackfillFlow"):
        (destination,) = appflow[name]["Properties"]["DestinationFlowConfigList"]
        prefix = destination["DestinationConnectorProperties"]["S3"]["S3OutputFormatConfig"]["PrefixConfig"]
        # <SourcePrefix>/<flow>/<yyyy>/<mm>/<dd>/<execution id>/: the folders partition_of reads
        assert prefix == {"PrefixType": "PATH", "PrefixFormat": "DAY", "PathPrefixHierarchy": ["EXECUTION_ID"]}
    assert sql.partition_of("ga4-heatmap-daily/2026/01/06/0b7a1c3e-0000-4000-8000-00000000000a/part") == (
        "ga4-heatmap-daily",
        "2026/01/06",
    )


def partitions_of_family(dated: dict, undated: dict, family: sql.Family) -> None:
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
    report = ["${FlowNamePrefix}-daily", "${FlowNamePrefix}-backfill"]
    events = ["${FlowNamePrefix}-events-daily", "${FlowNamePrefix}-events-backfill"]
    expected = {sql.JSON: report + events, sql.PARQUET: report, sql.EVENTS: events}[family]  # who writes each
    for table in (dated, undated):
        flows = table["Parameters"][f"projection.{sql.FLOW}.values"]["Fn::Sub"]
        assert flows.split(",") == expected


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
    assert sorted(named) == sorted(NAMES)
    for statement in statements:
        resource = statement["Resource"]
        assert resource != "*" and "*" not in (resource if isinstance(resource, list) else [resource])


def test_cfn_lint_passes():
    runner = "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())"
    result = subprocess.run([sys.executable, "-c", runner, "--", str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
