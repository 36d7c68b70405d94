"""One source of truth: the tag, GTM container, GA4 definitions, AppFlow template and IAM policy all carry the
names of heatmap/contract.py, and the generated files are what tracking/build.py writes."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from heatmap import contract
from tracking import build, ga4_definitions

ROOT = Path(__file__).resolve().parents[1]
Location = tuple[str, str]  # (bucket, prefix)
TRACKING = ROOT / "tracking"


def _template() -> dict[str, Any]:
    return build.load_template((TRACKING / "appflow.yaml").read_text(encoding="utf-8"))


def _container() -> dict[str, Any]:
    return json.loads((TRACKING / "gtm-container.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------ generated files


@pytest.mark.parametrize("path", sorted(build.generated(), key=str), ids=lambda p: p.name)
def test_committed_file_equals_generated(path: Path) -> None:
    expected = build.generated()[path]
    assert path.read_text(encoding="utf-8") == expected, f"{path.name} is stale: run python -m tracking.build"


def test_build_check_cli_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tracking.build", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_render_rewrites_a_drifted_contract_block() -> None:
    source = (TRACKING / "hm_tag.js").read_text(encoding="utf-8")
    drifted = source.replace(f'"{contract.DWELL_EVENT}"', '"renamed_dwell"', 1)
    assert drifted != source
    assert build.render_tag_js(drifted) == source


# ------------------------------------------------------------------------------------------------ the tag


def test_tag_settings_equal_contract() -> None:
    settings = build.read_js_settings((TRACKING / "hm_tag.js").read_text(encoding="utf-8"))
    assert settings["BAND_HEIGHT_PX"] == contract.BAND_HEIGHT_PX
    assert settings["CLICK_Y_STEP_PX"] == contract.CLICK_Y_STEP_PX
    assert settings["DWELL_EVENT"] == contract.DWELL_EVENT
    assert settings["DWELL_MORE_EVENT"] == contract.DWELL_MORE_EVENT
    assert settings["CLICK_EVENT"] == contract.CLICK_EVENT
    assert settings["BAND_PARAM"] == contract.BAND_PARAM
    assert settings["SECONDS_PARAM"] == contract.SECONDS_PARAM
    assert settings["SECONDS_SQ_PARAM"] == contract.SECONDS_SQ_PARAM
    assert settings["X_PARAM"] == contract.X_PARAM
    assert settings["Y_PARAM"] == contract.Y_PARAM
    assert settings["PAGE_PARAM"] == build.PAGE_LOCATION_KEY
    assert settings["IDLE_TIMEOUT_MS"] == 30000
    assert settings["BAND_PAD"] == 3


def test_tag_is_plain_es5_and_safe_inside_gtm() -> None:
    js = (TRACKING / "hm_tag.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", js, flags=re.S)  # comments may say anything
    for token in ("=>", "`", "let ", "const ", "class ", "async ", "await ", "import ", "require("):
        assert token not in code, f"not ES5 / not standalone: {token!r}"
    assert "{{" not in js, "GTM would read {{...}} as a variable"
    assert "</script" not in js.lower()
    assert len(js.encode()) < 20_000, "keep the tag small"  # both modes (v1 per band, v2 hm_view): ~17 KB


def test_gtm_html_wraps_the_tag() -> None:
    js = (TRACKING / "hm_tag.js").read_text(encoding="utf-8")
    html = (TRACKING / "hm_tag.gtm.html").read_text(encoding="utf-8")
    assert html == "<script>\n" + js + "</script>\n"


# ------------------------------------------------------------------------------------------ GTM container


def _param(item: dict[str, Any], key: str) -> Any:
    for p in item.get("parameter", []):
        if p["key"] == key:
            return p.get("value", p.get("list"))
    raise KeyError(key)


def test_container_is_an_importable_export() -> None:
    data = _container()
    assert data["exportFormatVersion"] == 2
    version = data["containerVersion"]
    for kind, id_key in (("tag", "tagId"), ("trigger", "triggerId"), ("variable", "variableId")):
        ids = [item[id_key] for item in version[kind]]
        assert len(ids) == len(set(ids)), f"duplicate {id_key}"
        names = [item["name"] for item in version[kind]]
        assert len(names) == len(set(names)), f"duplicate {kind} name"
    trigger_ids = {t["triggerId"] for t in version["trigger"]}
    for tag in version["tag"]:
        assert set(tag["firingTriggerId"]) <= trigger_ids


def test_container_html_tag_carries_the_tag_on_dom_ready() -> None:
    version = _container()["containerVersion"]
    (html_tag,) = [t for t in version["tag"] if t["type"] == "html"]
    assert _param(html_tag, "html") == (TRACKING / "hm_tag.gtm.html").read_text(encoding="utf-8")
    triggers = {t["triggerId"]: t for t in version["trigger"]}
    assert [triggers[i]["type"] for i in html_tag["firingTriggerId"]] == ["DOM_READY"]


def test_container_forwards_each_event_with_its_parameters() -> None:
    version = _container()["containerVersion"]
    triggers = {t["triggerId"]: t for t in version["trigger"]}
    variables = {v["name"]: v for v in version["variable"]}
    dlv = {_param(v, "name"): name for name, v in variables.items() if v["type"] == "v"}
    for key in (contract.BAND_PARAM, contract.SECONDS_PARAM, contract.SECONDS_SQ_PARAM, contract.X_PARAM):
        assert key in dlv, f"no dataLayer variable for {key}"
    assert contract.Y_PARAM in dlv
    dwell = {contract.BAND_PARAM, contract.SECONDS_PARAM, contract.SECONDS_SQ_PARAM}
    expected = {
        contract.DWELL_EVENT: dwell,
        contract.DWELL_MORE_EVENT: dwell,
        contract.CLICK_EVENT: {contract.X_PARAM, contract.Y_PARAM},
        contract.VIEW_EVENT: set(contract.VIEW_PARAMS),
        contract.RAGE_EVENT: {contract.X_PARAM, contract.Y_PARAM},
        contract.DEAD_EVENT: {contract.X_PARAM, contract.Y_PARAM},
        contract.FIXED_EVENT: {contract.X_PARAM, contract.Y_PARAM},
    }
    ga4_tags = [t for t in version["tag"] if t["type"] == "gaawe"]
    assert sorted(_param(t, "eventName") for t in ga4_tags) == sorted(expected)
    for tag in ga4_tags:
        event = _param(tag, "eventName")
        (trigger,) = [triggers[i] for i in tag["firingTriggerId"]]
        assert trigger["type"] == "CUSTOM_EVENT"
        (flt,) = trigger["customEventFilter"]
        assert flt["type"] == "EQUALS"
        assert [p["value"] for p in flt["parameter"]] == ["{{_event}}", event]
        maps = [{m["key"]: m["value"] for m in row["map"]} for row in _param(tag, "eventSettingsTable")]
        rows = {m["parameter"]: m["parameterValue"] for m in maps}
        assert {k for k in rows if k != "page_location"} == expected[event]
        for name in expected[event]:
            assert rows[name] == "{{" + dlv[name] + "}}"
        assert rows["page_location"] == "{{" + dlv[build.PAGE_LOCATION_KEY] + "}}"
        mid = _param(tag, "measurementIdOverride")
        assert mid.startswith("{{") and mid[2:-2] in variables


def test_tag_pushes_every_contract_event_and_the_container_forwards_each() -> None:
    """hm_dwell_more is one name in contract.py, the tag and the container (trigger, GA4 event name)."""
    js = (TRACKING / "hm_tag.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", js, flags=re.S)
    for var in ("DWELL_EVENT", "DWELL_MORE_EVENT", "CLICK_EVENT", "RAGE_EVENT", "DEAD_EVENT", "FIXED_EVENT"):
        assert re.search(rf"\bevent: [^;]*\b{var}\b", code), f"the tag never pushes {var}"
    version = _container()["containerVersion"]
    trigger_events = {
        t["triggerId"]: [p["value"] for p in t["customEventFilter"][0]["parameter"]][1]
        for t in version["trigger"]
        if t["type"] == "CUSTOM_EVENT"
    }
    sent = {
        _param(t, "eventName"): [trigger_events[i] for i in t["firingTriggerId"]]
        for t in version["tag"]
        if t["type"] == "gaawe"
    }
    events = (contract.DWELL_EVENT, contract.DWELL_MORE_EVENT, contract.CLICK_EVENT, contract.VIEW_EVENT,
              contract.RAGE_EVENT, contract.DEAD_EVENT, contract.FIXED_EVENT)  # fmt: skip
    assert sent == {e: [e] for e in events}
    ids = {t["name"]: t["tagId"] for t in version["tag"]}
    # Earlier imports keep their IDs; new events are appended.
    assert [ids[f"Heatmap - GA4 event - {e}"] for e in events] == ["2", "4", "3", "5", "6", "7", "8"]
    variables = {v["name"]: v["variableId"] for v in version["variable"]}
    assert variables[f"DLV - {contract.BAND_PARAM}"] == "2" and variables[f"DLV - {contract.SECONDS_SQ_PARAM}"] == "7"
    assert [variables[f"DLV - {k}"] for k in contract.VIEW_PARAMS] == [str(n) for n in range(8, 26)]


def _ga4_event_rows(tag: dict[str, Any]) -> dict[str, str]:
    maps = [{m["key"]: m["value"] for m in row["map"]} for row in _param(tag, "eventSettingsTable")]
    rows = {m["parameter"]: m["parameterValue"] for m in maps}
    assert len(rows) == len(maps), "a parameter is sent twice"
    return rows


def test_container_forwards_every_hm_view_parameter_under_its_own_name() -> None:
    """Tag v2's hm_view: each key of contract.VIEW_PARAMS from its own dataLayer variable to the GA4 event
    parameter of the same name (the BigQuery query reads them by these names), plus page_location."""
    version = _container()["containerVersion"]
    variables = {v["name"]: v for v in version["variable"]}
    (tag,) = [t for t in version["tag"] if t["type"] == "gaawe" and _param(t, "eventName") == contract.VIEW_EVENT]
    rows = _ga4_event_rows(tag)
    assert list(rows) == [*contract.VIEW_PARAMS, "page_location"]
    for key in contract.VIEW_PARAMS:
        variable = variables[f"DLV - {key}"]
        assert variable["type"] == "v" and _param(variable, "name") == key
        assert rows[key] == "{{DLV - " + key + "}}"
    assert _param(variables[rows["page_location"][2:-2]], "name") == build.PAGE_LOCATION_KEY
    assert tag["tagFiringOption"] == "ONCE_PER_EVENT"


def test_every_ga4_event_tag_is_within_ga4_parameter_limits() -> None:
    """GA4: at most 25 parameters an event (GA adds some of its own, so at most 20 ours), names at most 40
    characters, starting with a letter; and no name GA reserves (ga_, google_, firebase_ prefixes)."""
    version = _container()["containerVersion"]
    tags = [t for t in version["tag"] if t["type"] == "gaawe"]
    assert tags
    for tag in tags:
        rows = _ga4_event_rows(tag)
        assert len(rows) <= 20, (_param(tag, "eventName"), len(rows))
        for name in [_param(tag, "eventName"), *rows]:
            assert len(name) <= 40 and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name), name
            assert not name.startswith(("ga_", "google_", "firebase_")), name


def test_report_has_seconds_squared_within_the_ga4_limits() -> None:
    """hm_seconds_sq is one more metric of the same report (GA4 allows 9 dimensions and 10 metrics)."""
    metrics = ("eventCount", f"customEvent:{contract.SECONDS_PARAM}", f"customEvent:{contract.SECONDS_SQ_PARAM}")
    assert metrics == contract.REPORT_METRICS
    assert contract.SECONDS_SQ_PARAM in contract.CUSTOM_METRICS
    assert len(contract.REPORT_DIMENSIONS) <= 9 and len(contract.REPORT_METRICS) <= 10
    readme = (TRACKING / "README.md").read_text(encoding="utf-8")
    assert f"customEvent:{contract.SECONDS_SQ_PARAM}" in readme and "before" in readme


def test_readme_explains_both_dwell_events() -> None:
    readme = (TRACKING / "README.md").read_text(encoding="utf-8")
    readme = readme[: readme.index("## Event route")]  # the v1 contract table; v2's parameters have their own
    events = re.findall(r"^\| `(hm_\w+)` \|", readme, re.M)
    assert events == [contract.DWELL_EVENT, contract.DWELL_MORE_EVENT, contract.CLICK_EVENT]
    assert "inflate" not in readme and "overstated" not in readme


def test_every_container_variable_reference_resolves() -> None:
    version = _container()["containerVersion"]
    names = {v["name"] for v in version["variable"]} | {b["name"] for b in version.get("builtInVariable", [])}
    names.add("_event")
    text = json.dumps({k: version[k] for k in ("tag", "trigger", "variable")})
    for ref in re.findall(r"\{\{([^}]+)\}\}", text):
        assert ref in names, f"{{{{{ref}}}}} is not defined in the container"


# ------------------------------------------------------------------------------------------ GA4 definitions


def test_ga4_definition_bodies_match_contract() -> None:
    requests = ga4_definitions.definition_requests("123456")
    dims = [b for u, b in requests if u.endswith("/properties/123456/customDimensions")]
    mets = [b for u, b in requests if u.endswith("/properties/123456/customMetrics")]
    assert len(dims) + len(mets) == len(requests)
    assert [b["parameterName"] for b in dims] == list(contract.CUSTOM_DIMENSIONS)
    assert [b["parameterName"] for b in mets] == list(contract.CUSTOM_METRICS)
    for body in dims + mets:
        assert body["scope"] == "EVENT"
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_ ]{0,81}", body["displayName"]), body["displayName"]
        assert len(body["description"]) <= 150
        assert len(body["parameterName"]) <= 40
        assert f"customEvent:{body['parameterName']}" in contract.REPORT_DIMENSIONS + contract.REPORT_METRICS
    units = {b["parameterName"]: b["measurementUnit"] for b in mets}
    assert units == {contract.SECONDS_PARAM: "SECONDS", contract.SECONDS_SQ_PARAM: "STANDARD"}  # s² is no GA4 unit
    for body in dims:
        assert "measurementUnit" not in body
    assert requests[0][0].startswith("https://analyticsadmin.googleapis.com/v1beta/properties/123456/")
    assert ga4_definitions.definition_requests("properties/123456") == requests
    with pytest.raises(ValueError):
        ga4_definitions.definition_requests("12/../34")


def test_readme_definitions_table_matches_the_script() -> None:
    readme = (TRACKING / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| custom (dimension|metric) \| `([^`]+)` \| ([^|]+?) \| Event \|", readme, re.M)
    expected = [
        ("dimension" if url.endswith("customDimensions") else "metric", b["parameterName"], b["displayName"])
        for url, b in ga4_definitions.definition_requests("1")
    ]
    assert rows == expected


def test_ga4_definitions_dry_run_sends_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tracking.ga4_definitions", "--property", "42", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("POST https://analyticsadmin.googleapis.com/v1beta/properties/42/") == 5


def test_readers_default_field_names_are_the_contract() -> None:
    fields = pytest.importorskip("heatmap.fields")
    default = fields.FieldMap()
    names = {fields.plain_name(f) for f in contract.REPORT_DIMENSIONS + contract.REPORT_METRICS}
    names |= {contract.LAYOUT_FIELD, contract.TEMPLATE_FIELD}  # the event route's (the report route has neither)
    for role in ("date", "page", "event_name", "band", "x", "y", "events", "seconds", "seconds_sq", *default.segments):
        assert fields.plain_name(getattr(default, role, role)) in names, role
    assert (default.dwell_event, default.dwell_more_event, default.click_event) == (
        contract.DWELL_EVENT,
        contract.DWELL_MORE_EVENT,
        contract.CLICK_EVENT,
    )
    assert (default.rage_event, default.dead_event, default.fixed_event) == (
        contract.RAGE_EVENT,
        contract.DEAD_EVENT,
        contract.FIXED_EVENT,
    )


# ---------------------------------------------------------------------------------------- AppFlow template


def _flows() -> dict[str, dict[str, Any]]:
    resources = _template()["Resources"]
    return {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::AppFlow::Flow"}


GA4_FLOWS = ("DailyFlow", "BackfillFlow")
EVENT_FLOWS = ("EventDailyFlow", "EventBackfillFlow")


def test_both_flows_read_ga4_core_report_fields_from_contract() -> None:
    flows = _flows()
    assert set(flows) == {*GA4_FLOWS, *EVENT_FLOWS}
    fields = [*contract.REPORT_DIMENSIONS, *contract.REPORT_METRICS]
    assert len(contract.REPORT_DIMENSIONS) <= 9 and len(contract.REPORT_METRICS) <= 10
    for name in GA4_FLOWS:
        flow = flows[name]
        source = flow["SourceFlowConfig"]
        assert source["ConnectorType"] == "CustomConnector"
        assert source["ApiVersion"] == "v1beta"
        assert source["ConnectorProfileName"] == {"Ref": "ConnectorProfileName"}
        assert source["SourceConnectorProperties"]["CustomConnector"]["EntityName"] == {"Ref": "EntityName"}
        tasks = flow["Tasks"]
        projections = [t for t in tasks if t["ConnectorOperator"] == {"CustomConnector": "PROJECTION"}]
        assert len(projections) == 1, name
        assert projections[0]["TaskType"] == "Filter"
        assert projections[0]["SourceFields"] == fields
        maps = [t for t in tasks if t["TaskType"] == "Map"]
        assert [t["SourceFields"] for t in maps] == [[f] for f in fields]
        for task in maps:  # plain names: Parquet columns, read by the Glue tables and the readers alike
            assert task["ConnectorOperator"] == {"CustomConnector": "NO_OP"}
            assert task["DestinationField"] == task["SourceFields"][0].removeprefix("customEvent:")
            props = {p["Key"]: p["Value"] for p in task["TaskProperties"]}
            assert props == {"SOURCE_DATA_TYPE": "String", "DESTINATION_DATA_TYPE": "String"}
        (dest,) = flow["DestinationFlowConfigList"]
        assert dest["ConnectorType"] == "S3"
        s3 = dest["DestinationConnectorProperties"]["S3"]
        assert s3["BucketName"] == {"Ref": "SourceBucketName"}
        assert s3["BucketPrefix"] == {"Ref": "SourcePrefix"}
        assert s3["S3OutputFormatConfig"]["FileType"] == {"Ref": "ExportFormat"}
        assert s3["S3OutputFormatConfig"]["PreserveSourceDataTyping"] == {
            "Fn::If": ["ExportsParquet", False, {"Ref": "AWS::NoValue"}]
        }  # strings, as the Glue table exports_parquet declares them
        assert s3["S3OutputFormatConfig"]["PrefixConfig"]["PathPrefixHierarchy"] == ["EXECUTION_ID"]
    parameter = _template()["Parameters"]["ExportFormat"]
    assert parameter["Default"] == "PARQUET" and parameter["AllowedValues"] == ["PARQUET", "JSON"]


def test_daily_flow_is_scheduled_incremental_and_backfill_is_on_demand_with_dates() -> None:
    flows = _flows()
    daily = flows["DailyFlow"]["TriggerConfig"]
    assert daily["TriggerType"] == "Scheduled"
    assert daily["TriggerProperties"]["ScheduleExpression"] == "rate(1days)"
    assert daily["TriggerProperties"]["DataPullMode"] == "Incremental"
    backfill = flows["BackfillFlow"]
    assert backfill["TriggerConfig"]["TriggerType"] == "OnDemand"
    (between,) = [t for t in backfill["Tasks"] if t["ConnectorOperator"] == {"CustomConnector": "BETWEEN"}]
    assert between["TaskType"] == "Filter" and between["SourceFields"] == ["date"]
    props = {p["Key"]: p["Value"] for p in between["TaskProperties"]}
    assert props["LOWER_BOUND"] == {"Ref": "BackfillFrom"} and props["UPPER_BOUND"] == {"Ref": "BackfillTo"}


def _sql_output_columns() -> list[str]:
    """The aliases of heatmap_daily.sql's final SELECT, parsed by sqlglot (the columns of heatmap.heatmap_daily)."""
    import sqlglot

    sql = (TRACKING / "bigquery" / "heatmap_daily.sql").read_text(encoding="utf-8")
    return sqlglot.parse_one(sql, read="bigquery").named_selects


def test_event_flows_read_the_bigquery_tables_columns_and_write_parquet_where_the_ga4_flows_write() -> None:
    """The event route's flows: AppFlow's BigQuery connector on the table the scheduled query writes, every output
    column of heatmap_daily.sql (PROJECTION + a NO_OP Map each, from build.EVENT_COLUMNS), typed Parquet in the
    GA4 flows' bucket, prefix and folder layout, so the dashboard reads both routes from one source."""
    flows = _flows()
    columns = _sql_output_columns()
    assert columns == list(build.EVENT_COLUMNS)
    assert {contract.LAYOUT_FIELD, contract.ROUTE_FIELD} <= set(columns)
    ga4_s3 = flows["DailyFlow"]["DestinationFlowConfigList"][0]["DestinationConnectorProperties"]["S3"]
    for name in EVENT_FLOWS:
        flow = flows[name]
        source = flow["SourceFlowConfig"]
        assert source["ConnectorType"] == "CustomConnector"
        assert source["ApiVersion"] == "v2"
        assert source["ConnectorProfileName"] == {"Ref": "BigQueryConnectorProfileName"}
        entity = source["SourceConnectorProperties"]["CustomConnector"]["EntityName"]
        assert entity == {"Fn::Sub": "table/${BigQueryProject}/${BigQueryDataset}/${BigQueryTable}"}
        tasks = flow["Tasks"]
        (projection,) = [t for t in tasks if t["ConnectorOperator"] == {"CustomConnector": "PROJECTION"}]
        assert projection["TaskType"] == "Filter" and projection["SourceFields"] == columns
        assert [t for t in tasks if t["TaskType"] == "Filter"] == [projection], "no date filter is documented"
        maps = [t for t in tasks if t["TaskType"] == "Map"]
        assert [t["SourceFields"] for t in maps] == [[c] for c in columns]
        for task in maps:
            assert task["ConnectorOperator"] == {"CustomConnector": "NO_OP"}
            assert task["DestinationField"] == task["SourceFields"][0]
        assert len(tasks) == 1 + len(columns)
        (dest,) = flow["DestinationFlowConfigList"]
        assert dest["ConnectorType"] == "S3"
        s3 = dest["DestinationConnectorProperties"]["S3"]
        assert s3["BucketName"] == ga4_s3["BucketName"] == {"Ref": "SourceBucketName"}
        assert s3["BucketPrefix"] == ga4_s3["BucketPrefix"] == {"Ref": "SourcePrefix"}
        out = s3["S3OutputFormatConfig"]
        assert out["FileType"] == "PARQUET" and out["PreserveSourceDataTyping"] is True
        assert out["PrefixConfig"] == ga4_s3["S3OutputFormatConfig"]["PrefixConfig"]
        assert out["AggregationConfig"] == {"AggregationType": "None"}


def test_event_daily_flow_is_scheduled_and_its_backfill_twin_on_demand() -> None:
    flows = _flows()
    daily = flows["EventDailyFlow"]
    assert daily["FlowStatus"] == "Active"
    trigger = daily["TriggerConfig"]
    assert trigger["TriggerType"] == "Scheduled"
    assert trigger["TriggerProperties"] == {"ScheduleExpression": "rate(1days)", "DataPullMode": "Complete"}
    backfill = flows["EventBackfillFlow"]
    assert backfill["TriggerConfig"] == {"TriggerType": "OnDemand"}
    assert "whole table" in backfill["Description"]
    assert {k: v for k, v in daily.items() if k not in ("FlowName", "Description", "FlowStatus", "TriggerConfig")} == {
        k: v for k, v in backfill.items() if k not in ("FlowName", "Description", "TriggerConfig")
    }


def _condition_holds(name: str, params: dict[str, str]) -> bool:
    return bool(_rule_holds(_template()["Conditions"][name], params))


def test_event_route_is_optional_so_ga4_only_stacks_deploy_unchanged() -> None:
    """With BigQueryConnectorProfileName empty (its default) the stack has exactly the GA4 route's resources and
    outputs; the event flows and their outputs exist only under the EventRoute condition."""
    template = _template()
    params = template["Parameters"]
    new = ("BigQueryConnectorProfileName", "BigQueryProject", "BigQueryDataset", "BigQueryTable")
    for name in new:
        assert "Default" in params[name], f"{name} needs a default, or old deploy commands fail"
        assert re.fullmatch(params[name]["AllowedPattern"], params[name]["Default"]), name
    assert params["BigQueryConnectorProfileName"]["Default"] == ""
    assert not _condition_holds("EventRoute", {"BigQueryConnectorProfileName": ""})
    assert _condition_holds("EventRoute", {"BigQueryConnectorProfileName": "my-bigquery"})
    resources = template["Resources"]
    conditional = {name for name, r in resources.items() if r.get("Condition") == "EventRoute"}
    assert conditional == set(EVENT_FLOWS)
    outputs = {name for name, o in template["Outputs"].items() if o.get("Condition") == "EventRoute"}
    assert {o["Value"]["Ref"] for o in (template["Outputs"][n] for n in outputs)} == set(EVENT_FLOWS)
    for name, resource in resources.items():
        if name not in conditional:
            assert "BigQuery" not in json.dumps(resource), name


@pytest.mark.parametrize(
    ("profile", "project", "allowed"),
    [("", "", True), ("my-bigquery", "my-project", True), ("my-bigquery", "", False)],
)
def test_rule_refuses_an_event_route_without_its_project(profile: str, project: str, allowed: bool) -> None:
    params = {**_RULE_DEFAULTS, "BigQueryConnectorProfileName": profile, "BigQueryProject": project}
    assert _rules_hold(params) is allowed


def _rule_holds(expr: Any, params: dict[str, str]) -> Any:
    """Evaluate the subset of CloudFormation rule functions the template uses."""
    if isinstance(expr, dict):
        ((fn, arg),) = expr.items()
        if fn == "Ref":
            return params[arg]
        values = [_rule_holds(a, params) for a in arg]
        if fn == "Fn::Equals":
            return values[0] == values[1]
        if fn == "Fn::And":
            return all(values)
        if fn == "Fn::Or":
            return any(values)
        if fn == "Fn::Not":
            return not values[0]
        raise AssertionError(f"unexpected {fn}")
    return expr


@pytest.mark.parametrize(
    ("source", "output", "allowed"),
    [
        (("bkt", "ga4-exports"), ("bkt", "ga4-exports"), False),
        (("bkt", "ga4-exports"), ("bkt", "heatmap-output"), True),
        (("bkt", "ga4-exports"), ("other", "ga4-exports"), True),
    ],
)
def test_rule_refuses_output_equal_to_source(source: Location, output: Location, allowed: bool) -> None:
    params = {
        "SourceBucketName": source[0],
        "SourcePrefix": source[1],
        "OutputBucketName": output[0],
        "OutputPrefix": output[1],
    }
    assert _rules_hold({**_RULE_DEFAULTS, **params}) is allowed


_RULE_DEFAULTS = {
    "SourceBucketName": "bkt",
    "SourcePrefix": "ga4-exports",
    "OutputBucketName": "bkt",
    "OutputPrefix": "heatmap-output",
    "BigQueryConnectorProfileName": "",
    "BigQueryProject": "",
}


def _rules_hold(params: dict[str, str]) -> bool:
    """Every rule's assertions hold (a rule with a RuleCondition only when that condition holds)."""
    results = [
        _rule_holds(a["Assert"], params)
        for rule in _template()["Rules"].values()
        if _rule_holds(rule.get("RuleCondition", True), params)
        for a in rule["Assertions"]
    ]
    return all(results)


def test_prefixes_are_single_folders_so_distinct_names_cannot_nest() -> None:
    params = _template()["Parameters"]
    for name in ("SourcePrefix", "OutputPrefix"):
        pattern = params[name]["AllowedPattern"]
        assert re.fullmatch(pattern, params[name]["Default"])
        for bad in ("a/b", "ga4/", "/x", "", "../x"):
            assert not re.fullmatch(pattern, bad), (name, bad)
    assert params["SourcePrefix"]["Default"] != params["OutputPrefix"]["Default"]


def test_cfn_lint_passes() -> None:
    pytest.importorskip("cfnlint")
    runner = "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", runner, "--", str(TRACKING / "appflow.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------------------------- IAM policy


def test_standalone_policy_equals_the_templates() -> None:
    standalone = json.loads((TRACKING / "iam-policy.json").read_text(encoding="utf-8"))
    resource = _template()["Resources"]["DashboardPolicy"]
    assert resource["Type"] == "AWS::IAM::ManagedPolicy"
    assert build._unsub(resource["Properties"]["PolicyDocument"]) == standalone


def test_no_delete_permission_anywhere() -> None:
    files = ("appflow.yaml", "iam-policy.json")
    text = "".join((TRACKING / name).read_text(encoding="utf-8") for name in files)
    assert not re.search(r"s3:(\*|Delete)", text)
    assert not re.search(r"appflow:(\*|Delete|Create|Stop|Cancel|Tag|Untag)", text)


def test_appflow_statements_are_exactly_what_the_app_calls_on_the_named_flows() -> None:
    """The policy grants the IAM actions of the AppFlow operations heatmap/flows makes, nothing more, and only on
    the flows' ARNs (never "*"), changing and starting only the on-demand ones; the flows' names are the
    template's <prefix> + the contract's suffixes."""
    from heatmap.flows.client import OPERATION_ACTIONS

    statements = [st for st in _policy() if any(a.startswith("appflow:") for a in _as_list(st["Action"]))]
    granted = {a for st in statements for a in _as_list(st["Action"])}
    assert granted == set(OPERATION_ACTIONS.values()) == {*contract.FLOW_READ_ACTIONS, *contract.FLOW_BACKFILL_ACTIONS}
    for st in statements:
        assert st["Effect"] == "Allow" and "Condition" not in st
        for resource in _as_list(st["Resource"]):
            assert "*" not in resource and resource.startswith(FLOW_ARN), resource
    flows = _flows()
    names = {
        "DailyFlow": contract.DAILY_FLOW_SUFFIX,
        "BackfillFlow": contract.BACKFILL_FLOW_SUFFIX,
        "EventDailyFlow": contract.EVENT_DAILY_FLOW_SUFFIX,
        "EventBackfillFlow": contract.EVENT_BACKFILL_FLOW_SUFFIX,
    }
    for resource, suffix in names.items():
        assert flows[resource]["FlowName"] == {"Fn::Sub": "${FlowNamePrefix}" + suffix}
    arns = {r for st in statements for r in _as_list(st["Resource"])}
    assert arns == {FLOW_ARN + "ga4-heatmap" + suffix for suffix in names.values()}
    on_demand = {
        FLOW_ARN + "ga4-heatmap" + names[r] for r, f in flows.items() if f["TriggerConfig"]["TriggerType"] == "OnDemand"
    }
    changed = {
        r for st in statements if "appflow:StartFlow" in _as_list(st["Action"]) for r in _as_list(st["Resource"])
    }
    assert changed == on_demand


PLACEHOLDERS = {
    "${SourceBucketName}": "exports-bkt",
    "${SourcePrefix}": "ga4-exports",
    "${OutputBucketName}": "exports-bkt",
    "${OutputPrefix}": "heatmap-output",
    "${Region}": "ap-northeast-1",
    "${AccountId}": "123456789012",
    "${FlowNamePrefix}": "ga4-heatmap",
}
FLOW_ARN = "arn:aws:appflow:ap-northeast-1:123456789012:flow/"


def _policy() -> list[dict[str, Any]]:
    text = (TRACKING / "iam-policy.json").read_text(encoding="utf-8")
    for key, value in PLACEHOLDERS.items():
        text = text.replace(key, value)
    assert "${" not in text
    return json.loads(text)["Statement"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allowed(action: str, resource: str, prefix: str | None = None) -> bool:
    """A small IAM evaluator: an explicit deny wins, else an allow matching action, resource, condition."""

    def matches(st: dict[str, Any]) -> bool:
        if not any(fnmatch.fnmatchcase(action, a) for a in _as_list(st["Action"])):
            return False
        if not any(fnmatch.fnmatchcase(resource, r) for r in _as_list(st["Resource"])):
            return False
        for op, cond in st.get("Condition", {}).items():
            assert op == "StringLike", op
            for key, patterns in cond.items():
                assert key == "s3:prefix"
                if prefix is None or not any(fnmatch.fnmatchcase(prefix, p) for p in _as_list(patterns)):
                    return False
        return True

    statements = _policy()
    if any(st["Effect"] == "Deny" and matches(st) for st in statements):
        return False
    return any(st["Effect"] == "Allow" and matches(st) for st in statements)


@pytest.mark.parametrize(
    ("action", "resource", "prefix", "allowed"),
    [
        ("s3:ListBucket", "arn:aws:s3:::exports-bkt", "ga4-exports/", True),
        ("s3:ListBucket", "arn:aws:s3:::exports-bkt", "ga4-exports/flow/exec-1/", True),
        ("s3:ListBucket", "arn:aws:s3:::exports-bkt", "heatmap-output/runs/", True),
        ("s3:ListBucket", "arn:aws:s3:::exports-bkt", "", False),
        ("s3:ListBucket", "arn:aws:s3:::exports-bkt", "secrets/", False),
        ("s3:ListBucket", "arn:aws:s3:::exports-bkt", None, False),
        ("s3:GetObject", "arn:aws:s3:::exports-bkt/ga4-exports/flow/exec-1/part-0", None, True),
        ("s3:GetObject", "arn:aws:s3:::exports-bkt/heatmap-output/runs/r1/run.json", None, True),
        ("s3:GetObject", "arn:aws:s3:::exports-bkt/secrets/key", None, False),
        ("s3:GetObject", "arn:aws:s3:::exports-bkt/ga4-exports-old/x", None, False),
        ("s3:PutObject", "arn:aws:s3:::exports-bkt/heatmap-output/runs/r1/run.json", None, True),
        ("s3:PutObject", "arn:aws:s3:::exports-bkt/ga4-exports/flow/exec-1/part-0", None, False),
        ("s3:PutObject", "arn:aws:s3:::exports-bkt/elsewhere", None, False),
        ("s3:DeleteObject", "arn:aws:s3:::exports-bkt/heatmap-output/runs/r1/run.json", None, False),
        ("s3:DeleteObject", "arn:aws:s3:::exports-bkt/ga4-exports/flow/exec-1/part-0", None, False),
        ("s3:PutBucketPolicy", "arn:aws:s3:::exports-bkt", None, False),
        # AppFlow (Data health runs and Backfill): read both flows, change and start only the backfill flow
        ("appflow:DescribeFlow", FLOW_ARN + "ga4-heatmap-daily", None, True),
        ("appflow:DescribeFlowExecutionRecords", FLOW_ARN + "ga4-heatmap-daily", None, True),
        ("appflow:DescribeFlow", FLOW_ARN + "ga4-heatmap-backfill", None, True),
        ("appflow:DescribeFlowExecutionRecords", FLOW_ARN + "ga4-heatmap-backfill", None, True),
        ("appflow:UpdateFlow", FLOW_ARN + "ga4-heatmap-backfill", None, True),
        ("appflow:StartFlow", FLOW_ARN + "ga4-heatmap-backfill", None, True),
        ("appflow:UpdateFlow", FLOW_ARN + "ga4-heatmap-daily", None, False),
        ("appflow:StartFlow", FLOW_ARN + "ga4-heatmap-daily", None, False),
        # the event route's flows: the same, its backfill twin only
        ("appflow:DescribeFlow", FLOW_ARN + "ga4-heatmap-events-daily", None, True),
        ("appflow:DescribeFlowExecutionRecords", FLOW_ARN + "ga4-heatmap-events-daily", None, True),
        ("appflow:DescribeFlow", FLOW_ARN + "ga4-heatmap-events-backfill", None, True),
        ("appflow:DescribeFlowExecutionRecords", FLOW_ARN + "ga4-heatmap-events-backfill", None, True),
        ("appflow:UpdateFlow", FLOW_ARN + "ga4-heatmap-events-backfill", None, True),
        ("appflow:StartFlow", FLOW_ARN + "ga4-heatmap-events-backfill", None, True),
        ("appflow:UpdateFlow", FLOW_ARN + "ga4-heatmap-events-daily", None, False),
        ("appflow:StartFlow", FLOW_ARN + "ga4-heatmap-events-daily", None, False),
        ("appflow:DeleteFlow", FLOW_ARN + "ga4-heatmap-events-backfill", None, False),
        ("appflow:DescribeFlow", FLOW_ARN + "someone-elses-flow", None, False),
        ("appflow:StartFlow", FLOW_ARN + "ga4-heatmap-backfill-2", None, False),
        ("appflow:DeleteFlow", FLOW_ARN + "ga4-heatmap-backfill", None, False),
        ("appflow:StopFlow", FLOW_ARN + "ga4-heatmap-daily", None, False),
        ("appflow:CancelFlowExecutions", FLOW_ARN + "ga4-heatmap-backfill", None, False),
        ("appflow:CreateFlow", FLOW_ARN + "ga4-heatmap-backfill", None, False),
        ("appflow:UseConnectorProfile", "arn:aws:appflow:ap-northeast-1:123456789012:connectorprofile/x", None, False),
    ],
)
def test_policy_is_least_privilege(action: str, resource: str, prefix: str | None, allowed: bool) -> None:
    assert _allowed(action, resource, prefix) is allowed
