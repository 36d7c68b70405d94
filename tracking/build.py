"""Write the tracking kit's generated parts from heatmap/contract.py, so no name can drift.

    python -m tracking.build           # rewrite the generated files
    python -m tracking.build --check   # exit 1 if a committed file differs from what would be generated
    python -m tracking.build --site out/   # your site's tag, with your page templates built in

Generated:
- `tracking/hm_tag.js`: only the CONTRACT block at the top (the rest is hand-written);
- `tracking/hm_tag.gtm.html`: the tag wrapped for a GTM Custom HTML tag;
- `tracking/gtm-container.json`: an importable GTM container (tag, triggers, variables, GA4 event tags);
- `tracking/appflow.yaml`: only the four `Tasks` blocks (the GA4 flows' report fields, the event route's flows'
  EVENT_COLUMNS) and the dashboard policy's AppFlow statements between the GENERATED markers;
- `tracking/iam-policy.json`: the dashboard policy of `appflow.yaml`, with `${Parameter}` placeholders;
- `tracking/athena.yaml`: only the two Glue tables between the GENERATED TABLES markers (their columns are the
  report's fields, a GA4 custom parameter under both spellings; partition projection over the run-date folders).
- `tracking/bigquery/heatmap_daily.sql`: only the `-- BEGIN LAYOUTS ... -- END LAYOUTS` CASE (the layout-width
  buckets of contract.layout_buckets());
- `tracking/bigquery/heatmap_daily.scheduled.sql`: the daily scheduled script, heatmap_daily.sql's SELECT wrapped
  (SCHEDULED_HEAD, the INSERT's EVENT_COLUMNS).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

from heatmap import contract
from heatmap.fields import plain_name
from heatmap.templates import Templates, parse_templates

HERE = Path(__file__).resolve().parent
TAG_JS = HERE / "hm_tag.js"
TAG_HTML = HERE / "hm_tag.gtm.html"
CONTAINER_JSON = HERE / "gtm-container.json"
APPFLOW_YAML = HERE / "appflow.yaml"
IAM_POLICY_JSON = HERE / "iam-policy.json"
ATHENA_YAML = HERE / "athena.yaml"
HEATMAP_SQL = HERE / "bigquery" / "heatmap_daily.sql"
SCHEDULED_SQL = HERE / "bigquery" / "heatmap_daily.scheduled.sql"

MEASUREMENT_ID_VARIABLE = "GA4 Measurement ID"
MEASUREMENT_ID_PLACEHOLDER = "G-XXXXXXXXXX"
#: The tag puts the URL of the page view each event belongs to in this dataLayer key (see hm_tag.js);
#: the GA4 event tags send it as page_location, so SPA page views keep their own pagePath.
PAGE_LOCATION_KEY = "hm_page_location"

# ---------------------------------------------------------------------------------------------- the tag

_BLOCK = re.compile(
    r"(?P<head>[ \t]*/\* BEGIN CONTRACT:[^\n]*\n)(?P<body>.*?)(?P<tail>[ \t]*/\* END CONTRACT \*/)", re.S
)


def contract_settings() -> dict[str, int | str]:
    """The tag settings that must equal the contract, by their JS variable names."""
    return {
        "BAND_HEIGHT_PX": contract.BAND_HEIGHT_PX,
        "CLICK_Y_STEP_PX": contract.CLICK_Y_STEP_PX,
        "DWELL_EVENT": contract.DWELL_EVENT,
        "DWELL_MORE_EVENT": contract.DWELL_MORE_EVENT,
        "CLICK_EVENT": contract.CLICK_EVENT,
        "RAGE_EVENT": contract.RAGE_EVENT,
        "DEAD_EVENT": contract.DEAD_EVENT,
        "FIXED_EVENT": contract.FIXED_EVENT,
        "BAND_PARAM": contract.BAND_PARAM,
        "SECONDS_PARAM": contract.SECONDS_PARAM,
        "SECONDS_SQ_PARAM": contract.SECONDS_SQ_PARAM,
        "X_PARAM": contract.X_PARAM,
        "Y_PARAM": contract.Y_PARAM,
        "VIEW_EVENT": contract.VIEW_EVENT,
        "VIEW_VERSION": contract.VIEW_VERSION,
        "VERSION_PARAM": contract.VERSION_PARAM,
        "PAGE_VIEW_PARAM": contract.PAGE_VIEW_PARAM,
        "SEQUENCE_PARAM": contract.SEQUENCE_PARAM,
        "LAYOUT_WIDTH_PARAM": contract.LAYOUT_WIDTH_PARAM,
        "PAGE_HEIGHT_PARAM": contract.PAGE_HEIGHT_PARAM,
        "TEMPLATE_PARAM": contract.TEMPLATE_PARAM,
        "PACK_PARAM_PREFIX": contract.PACK_PARAM_PREFIX,
        "MAX_PACKS": contract.MAX_PACKS,
        "MAX_PARAM_LENGTH": contract.MAX_PARAM_LENGTH,
    }


def render_tag_js(source: str) -> str:
    """`source` with its CONTRACT block rewritten from the contract."""
    match = _BLOCK.search(source)
    if not match:
        raise ValueError("hm_tag.js has no /* BEGIN CONTRACT ... END CONTRACT */ block")
    indent = re.match(r"[ \t]*", match["head"])[0]  # type: ignore[index]
    lines = [f"{indent}var {name} = {json.dumps(value)};\n" for name, value in contract_settings().items()]
    return source[: match.start("body")] + "".join(lines) + source[match.end("body") :]


def read_js_settings(source: str) -> dict[str, Any]:
    """Every top-level `var NAME = <JSON literal>;` setting of the tag (used by tests)."""
    found: dict[str, Any] = {}
    for name, literal in re.findall(r"^\s*var ([A-Z][A-Z0-9_]*) = (.+?);", source, re.M):
        try:
            found[name] = json.loads(literal)
        except ValueError:
            continue
    return found


_PAGE_TEMPLATES = re.compile(r"^(?P<indent>[ \t]*)var PAGE_TEMPLATES = \[.*?\];", re.M)
#: Regular-expression syntax JavaScript reads otherwise or not at all (inline flags, named groups, \A, \z, \p{…}):
#: a rule using it is refused for the tag, which must select what the dashboard's engines select.
_NOT_IN_JS = re.compile(r"\(\?[^:]|\\[AzZpPQE]")


def render_site_tag(js: str, templates: Templates) -> str:
    """The tag with a site's page templates in PAGE_TEMPLATES: it sends the first rule matching the page's path as
    the template key when the page declares none (docs/templates.md). Escaped so the text holds no `</script` and
    no `{{` (a GTM variable) whatever the rules say. Raises ValueError naming a rule JavaScript would read otherwise."""
    rules = []
    for rule in templates.rules:
        assert rule.pattern is not None  # configured rules always have one
        if _NOT_IN_JS.search(rule.pattern):
            raise ValueError(
                f"page template {rule.name!r}: {rule.pattern!r} uses syntax JavaScript reads otherwise (inline flags,"
                " named groups, \\A, \\z, \\p); write it with plain groups and ^ $ for the tag"
            )
        rules.append([rule.name, rule.pattern])
    literal = json.dumps(rules, ensure_ascii=True).replace("<", "\\u003c").replace("{", "\\u007b")
    rendered, count = _PAGE_TEMPLATES.subn(lambda m: f"{m['indent']}var PAGE_TEMPLATES = {literal};", js, count=1)
    if count != 1:
        raise ValueError("hm_tag.js has no `var PAGE_TEMPLATES = [...];` setting")
    return rendered


def site_files(templates: Templates) -> dict[str, str]:
    """A site's own tag files (name -> text): the shipped tag with its page templates built in."""
    js = render_site_tag(render_tag_js(TAG_JS.read_text(encoding="utf-8")), templates)
    return {TAG_JS.name: js, TAG_HTML.name: gtm_custom_html(js), CONTAINER_JSON.name: _json(gtm_container(js))}


def gtm_custom_html(js: str) -> str:
    if "{{" in js or "</script" in js.lower():
        raise ValueError("the tag must not contain '{{' (a GTM variable) or '</script'")
    return "<script>\n" + js + "</script>\n"


# ------------------------------------------------------------------------------------ the GTM container


def _t(key: str, value: str) -> dict[str, str]:
    return {"type": "TEMPLATE", "key": key, "value": value}


def _b(key: str, value: bool) -> dict[str, str]:
    return {"type": "BOOLEAN", "key": key, "value": "true" if value else "false"}


def _dlv_name(key: str) -> str:
    return f"DLV - {key}"


def gtm_container(js: str) -> dict[str, Any]:
    """An importable GTM export (exportFormatVersion 2): merge it into the site's container."""
    ids = {"accountId": "0", "containerId": "0"}
    # Appended in this order so the IDs of an earlier import stay the same (dwell 2, click 3, dwell more 4,
    # view 5: tag v2's one event per flush, every parameter of contract.VIEW_PARAMS under its own name; rage 6, dead 7
    # and fixed 8: band mode's flagged clicks).
    dwell = (contract.BAND_PARAM, contract.SECONDS_PARAM, contract.SECONDS_SQ_PARAM)
    events = {
        contract.DWELL_EVENT: dwell,
        contract.CLICK_EVENT: (contract.X_PARAM, contract.Y_PARAM),
        contract.DWELL_MORE_EVENT: dwell,
        contract.VIEW_EVENT: contract.VIEW_PARAMS,
        contract.RAGE_EVENT: (contract.X_PARAM, contract.Y_PARAM),
        contract.DEAD_EVENT: (contract.X_PARAM, contract.Y_PARAM),
        contract.FIXED_EVENT: (contract.X_PARAM, contract.Y_PARAM),
    }
    dl_keys = [  # appended in this order too: variables of an earlier import keep their IDs
        contract.BAND_PARAM,
        contract.SECONDS_PARAM,
        contract.X_PARAM,
        contract.Y_PARAM,
        PAGE_LOCATION_KEY,
        contract.SECONDS_SQ_PARAM,
        *contract.VIEW_PARAMS,
    ]
    if len(set(dl_keys)) != len(dl_keys):
        raise ValueError(f"a dataLayer key is listed twice: {dl_keys}")

    triggers: list[dict[str, Any]] = [
        {**ids, "triggerId": "1", "name": "Heatmap - All Pages - DOM Ready", "type": "DOM_READY"},
    ]
    tags: list[dict[str, Any]] = [
        {
            **ids,
            "tagId": "1",
            "name": "Heatmap - tag (hm_tag.js)",
            "type": "html",
            "parameter": [_t("html", gtm_custom_html(js)), _b("supportDocumentWrite", False)],
            "firingTriggerId": ["1"],
            "tagFiringOption": "ONCE_PER_LOAD",
            "notes": "Generated by tracking/build.py from tracking/hm_tag.js. Settings: tracking/README.md.",
        }
    ]
    for n, (event, params) in enumerate(events.items(), start=2):
        is_event = [_t("arg0", "{{_event}}"), _t("arg1", event)]
        triggers.append(
            {
                **ids,
                "triggerId": str(n),
                "name": f"Heatmap - CE - {event}",
                "type": "CUSTOM_EVENT",
                "customEventFilter": [{"type": "EQUALS", "parameter": is_event}],
            }
        )
        rows = [(p, p) for p in params] + [("page_location", PAGE_LOCATION_KEY)]
        tags.append(
            {
                **ids,
                "tagId": str(n),
                "name": f"Heatmap - GA4 event - {event}",
                "type": "gaawe",
                "parameter": [
                    _b("sendEcommerceData", False),
                    _t("eventName", event),
                    _t("measurementIdOverride", "{{" + MEASUREMENT_ID_VARIABLE + "}}"),
                    {
                        "type": "LIST",
                        "key": "eventSettingsTable",
                        "list": [
                            {
                                "type": "MAP",
                                "map": [
                                    _t("parameter", name),
                                    _t("parameterValue", "{{" + _dlv_name(key) + "}}"),
                                ],
                            }
                            for name, key in rows
                        ],
                    },
                ],
                "firingTriggerId": [str(n)],
                "tagFiringOption": "ONCE_PER_EVENT",
            }
        )
    variables: list[dict[str, Any]] = [
        {
            **ids,
            "variableId": "1",
            "name": MEASUREMENT_ID_VARIABLE,
            "type": "c",
            "parameter": [_t("value", MEASUREMENT_ID_PLACEHOLDER)],
            "notes": "Your GA4 web stream's measurement ID (or point the GA4 tags at your own variable).",
        }
    ]
    for n, key in enumerate(dl_keys, start=2):
        variables.append(
            {
                **ids,
                "variableId": str(n),
                "name": _dlv_name(key),
                "type": "v",
                "parameter": [
                    {"type": "INTEGER", "key": "dataLayerVersion", "value": "2"},
                    _b("setDefaultValue", False),
                    _t("name", key),
                ],
            }
        )
    return {
        "exportFormatVersion": 2,
        "exportTime": "2025-01-01 00:00:00",
        "containerVersion": {
            "path": "accounts/0/containers/0/versions/0",
            **ids,
            "containerVersionId": "0",
            "name": "Page heatmap tracking kit",
            "description": "Generated by tracking/build.py from heatmap/contract.py. Import with Merge.",
            "container": {
                "path": "accounts/0/containers/0",
                **ids,
                "name": "Page heatmap tracking kit",
                "publicId": "GTM-XXXXXXX",
                "usageContext": ["WEB"],
            },
            "tag": tags,
            "trigger": triggers,
            "variable": variables,
            "builtInVariable": [{**ids, "type": "EVENT", "name": "Event"}],
        },
    }


# ------------------------------------------------------------------------------------ the BigQuery query

#: The columns of `heatmap.heatmap_daily`, in order: heatmap_daily.sql's output (tests parse its final SELECT),
#: the scheduled script's INSERT list and what the event route's AppFlow flows bring to S3. The report's fields
#: under their plain names (the dashboard reads `hm_band` like `customEvent:hm_band`): contract.EVENT_FIELDS.
EVENT_COLUMNS: tuple[str, ...] = tuple(plain_name(field) for field in contract.EVENT_FIELDS)

_LAYOUTS = re.compile(
    r"(?P<head>^(?P<indent>[ \t]*)-- BEGIN LAYOUTS[^\n]*\n)(?P<body>.*?)(?P<tail>^[ \t]*-- END LAYOUTS\b)",
    re.S | re.M,
)


def _layouts_sql(indent: str) -> str:
    """The CASE that names a page view's layout-width bucket (`hm_layout`) from contract.layout_buckets()."""
    out = ["CASE", "  WHEN layout_width IS NULL OR layout_width <= 0 THEN '(not set)'"]
    for _low, high, label in contract.layout_buckets():
        out.append(f"  WHEN layout_width < {high} THEN '{label}'" if high is not None else f"  ELSE '{label}'")
    out.append("END AS layout")
    return "".join(f"{indent}{line}\n" for line in out)


def render_heatmap_sql(source: str) -> str:
    """heatmap_daily.sql with its LAYOUTS block rewritten from the contract."""
    rendered, count = _LAYOUTS.subn(lambda m: m["head"] + _layouts_sql(m["indent"]) + m["tail"], source)
    if count != 1:
        raise ValueError(f"heatmap_daily.sql needs one -- BEGIN LAYOUTS ... -- END LAYOUTS block, found {count}")
    return rendered


#: The daily scheduled script around heatmap_daily.sql's SELECT (render_scheduled_sql adds the INSERT's columns,
#: the SELECT, and the end of the transaction).
SCHEDULED_HEAD = """\
-- heatmap_daily.scheduled.sql: the daily BigQuery scheduled query of the event route. Written by tracking/build.py:
-- its SELECT is heatmap_daily.sql with @from_date/@to_date as script variables (edit that file, or this text in
-- build.py, then run python -m tracking.build).
--
-- GA4 keeps updating a day's export table for up to 72 hours, so every run rewrites the last 3 GA dates
-- (the days before @run_date) of the date-partitioned table `heatmap.heatmap_daily`: DELETE, then INSERT, in one
-- transaction, so a reader (AppFlow) never sees a day half written. Running it twice is harmless.
-- Create the table once and schedule this script: tracking/README.md, "Event route".
DECLARE from_date STRING DEFAULT FORMAT_DATE('%Y%m%d', DATE_SUB(@run_date, INTERVAL 3 DAY));
DECLARE to_date STRING DEFAULT FORMAT_DATE('%Y%m%d', DATE_SUB(@run_date, INTERVAL 1 DAY));

BEGIN TRANSACTION;
DELETE FROM heatmap.heatmap_daily
WHERE date BETWEEN PARSE_DATE('%Y%m%d', from_date) AND PARSE_DATE('%Y%m%d', to_date);
INSERT INTO heatmap.heatmap_daily (
"""


def render_scheduled_sql(query: str) -> str:
    """heatmap_daily.scheduled.sql: SCHEDULED_HEAD, the INSERT's columns (EVENT_COLUMNS), then the query's SELECT
    (from its `WITH` on) with the query parameters @from_date/@to_date turned into the script's variables."""
    start = re.search(r"^WITH\n", query, re.M)
    if not start:
        raise ValueError("heatmap_daily.sql's SELECT must start with a line 'WITH'")
    select = re.sub(r"@(from_date|to_date)\b", r"\1", query[start.start() :].strip())
    if re.search(r"@\w", select):
        raise ValueError("heatmap_daily.sql uses a query parameter other than @from_date and @to_date")
    if select.endswith(";"):
        raise ValueError("heatmap_daily.sql must be one SELECT without a closing ';'")
    columns = textwrap.fill(
        ", ".join(EVENT_COLUMNS), width=116, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False
    )
    return SCHEDULED_HEAD + columns + "\n)\n" + select + ";\nCOMMIT TRANSACTION;\n"


# ------------------------------------------------------------------------------------- the AppFlow tasks


def report_fields() -> list[str]:
    return [*contract.REPORT_DIMENSIONS, *contract.REPORT_METRICS]


def _tasks_yaml(indent: str, backfill: bool) -> str:
    fields = report_fields()
    out = [f"{indent}# Which GA4 dimensions and metrics the report has (PROJECTION): contract.REPORT_*"]
    out += [
        f"{indent}- TaskType: Filter",
        f"{indent}  ConnectorOperator: {{CustomConnector: PROJECTION}}",
        f"{indent}  SourceFields:",
    ]
    out += [f"{indent}    - {json.dumps(f)}" for f in fields]
    if backfill:
        out += [
            f"{indent}# Only the chosen days (bounds in epoch milliseconds, as AppFlow stores dates).",
            f"{indent}- TaskType: Filter",
            f"{indent}  ConnectorOperator: {{CustomConnector: BETWEEN}}",
            f"{indent}  SourceFields: [date]",
            f"{indent}  TaskProperties:",
            f"{indent}    - {{Key: DATA_TYPE, Value: date}}",
            f"{indent}    - {{Key: LOWER_BOUND, Value: !Ref BackfillFrom}}",
            f"{indent}    - {{Key: UPPER_BOUND, Value: !Ref BackfillTo}}",
        ]
    out.append(
        f"{indent}# One NO_OP Map per field, values strings, under the field's plain name (hm_band, not"
        f"\n{indent}# customEvent:hm_band): a Parquet column name, and what the Glue tables and the readers read."
    )
    for f in fields:
        out += [
            f"{indent}- TaskType: Map",
            f"{indent}  ConnectorOperator: {{CustomConnector: NO_OP}}",
            f"{indent}  SourceFields: [{json.dumps(f)}]",
            f"{indent}  DestinationField: {json.dumps(plain_name(f))}",
            f"{indent}  TaskProperties:",
            f"{indent}    - {{Key: SOURCE_DATA_TYPE, Value: String}}",
            f"{indent}    - {{Key: DESTINATION_DATA_TYPE, Value: String}}",
        ]
    return "\n".join(out) + "\n"


def _event_tasks_yaml(indent: str) -> str:
    """The event route's flows (BigQuery -> Parquet): a PROJECTION of EVENT_COLUMNS and one NO_OP Map per column.
    No data types in the maps: with PreserveSourceDataTyping the Parquet columns keep the table's types."""
    out = [
        f"{indent}# Which columns of the BigQuery table (PROJECTION): tracking/build.py EVENT_COLUMNS, the query's output",
        f"{indent}- TaskType: Filter",
        f"{indent}  ConnectorOperator: {{CustomConnector: PROJECTION}}",
        f"{indent}  SourceFields:",
        *[f"{indent}    - {json.dumps(c)}" for c in EVENT_COLUMNS],
        f"{indent}# One NO_OP Map per column: the Parquet columns have the table's names (what the dashboard reads).",
    ]
    for c in EVENT_COLUMNS:
        out += [
            f"{indent}- TaskType: Map",
            f"{indent}  ConnectorOperator: {{CustomConnector: NO_OP}}",
            f"{indent}  SourceFields: [{json.dumps(c)}]",
            f"{indent}  DestinationField: {json.dumps(c)}",
        ]
    return "\n".join(out) + "\n"


#: The GENERATED TASKS blocks of appflow.yaml and what fills each.
_TASK_BLOCKS = {
    "daily": lambda indent: _tasks_yaml(indent, backfill=False),
    "backfill": lambda indent: _tasks_yaml(indent, backfill=True),
    "events_daily": _event_tasks_yaml,
    "events_backfill": _event_tasks_yaml,
}

_TASKS = re.compile(
    r"(?P<head>^(?P<indent>[ \t]*)# BEGIN GENERATED TASKS (?P<name>\w+)[^\n]*\n)"
    r"(?P<body>.*?)"
    r"(?P<tail>^[ \t]*# END GENERATED TASKS (?P=name)\b)",
    re.S | re.M,
)


_STATEMENTS = re.compile(
    r"(?P<head>^(?P<indent>[ \t]*)# BEGIN GENERATED STATEMENTS (?P<name>\w+)[^\n]*\n)"
    r"(?P<body>.*?)"
    r"(?P<tail>^[ \t]*# END GENERATED STATEMENTS (?P=name)\b)",
    re.S | re.M,
)


def _flow_arn(suffix: str) -> str:
    return "arn:${AWS::Partition}:appflow:${AWS::Region}:${AWS::AccountId}:flow/${FlowNamePrefix}" + suffix


def _appflow_statements_yaml(indent: str) -> str:
    """The dashboard policy's AppFlow statements: contract.FLOW_*_ACTIONS on the flows' ARNs, never "*". The event
    route's flows are named whether or not the stack creates them (an ARN of a flow that does not exist grants
    nothing), so the policy and iam-policy.json are the same for every stack."""
    daily, backfill = _flow_arn(contract.DAILY_FLOW_SUFFIX), _flow_arn(contract.BACKFILL_FLOW_SUFFIX)
    event_daily = _flow_arn(contract.EVENT_DAILY_FLOW_SUFFIX)
    event_backfill = _flow_arn(contract.EVENT_BACKFILL_FLOW_SUFFIX)
    out = [
        f"{indent}# Data health lists the runs of the flows, both routes' (contract.FLOW_READ_ACTIONS).",
        f"{indent}- Sid: ReadHeatmapFlowRuns",
        f"{indent}  Effect: Allow",
        f"{indent}  Action: [{', '.join(contract.FLOW_READ_ACTIONS)}]",
        f"{indent}  Resource:",
        *[f"{indent}    - !Sub {arn}" for arn in (daily, backfill, event_daily, event_backfill)],
        f"{indent}# Backfill: change and start the on-demand flows (contract.FLOW_BACKFILL_ACTIONS), only those.",
        f"{indent}# Never a scheduled flow: StartFlow would only activate it, UpdateFlow would change it.",
        f"{indent}- Sid: BackfillHeatmapDays",
        f"{indent}  Effect: Allow",
        f"{indent}  Action: [{', '.join(contract.FLOW_BACKFILL_ACTIONS)}]",
        f"{indent}  Resource:",
        *[f"{indent}    - !Sub {arn}" for arn in (backfill, event_backfill)],
    ]
    return "\n".join(out) + "\n"


def render_appflow_yaml(source: str) -> str:
    names: list[str] = []

    def fill(m: re.Match[str]) -> str:
        names.append(m["name"])
        if m["name"] not in _TASK_BLOCKS:
            raise ValueError(f"appflow.yaml: unknown GENERATED TASKS block {m['name']!r}")
        return m["head"] + _TASK_BLOCKS[m["name"]](m["indent"]) + m["tail"]

    rendered = _TASKS.sub(fill, source)
    if sorted(names) != sorted(_TASK_BLOCKS):
        raise ValueError(f"appflow.yaml needs one GENERATED TASKS block each of {sorted(_TASK_BLOCKS)}, found {names}")
    statements: list[str] = []

    def fill_statements(m: re.Match[str]) -> str:
        statements.append(m["name"])
        return m["head"] + _appflow_statements_yaml(m["indent"]) + m["tail"]

    rendered = _STATEMENTS.sub(fill_statements, rendered)
    if statements != ["appflow"]:
        raise ValueError(f"appflow.yaml needs one GENERATED STATEMENTS block 'appflow', found {statements}")
    return rendered


# ------------------------------------------------------------------------------------- the Glue tables


def glue_columns() -> list[tuple[str, str]]:
    """(column, JSON key) of the Glue tables: the report's fields, a custom parameter also without its prefix, and
    the event route's layout width and declared template (an events flow set to JSON writes them; the report's
    rows have neither, so they read as null)."""
    from heatmap.engines.sql import table_columns

    return table_columns([*report_fields(), *contract.EVENT_ONLY_FIELDS])


def _glue_tables_yaml(indent: str) -> str:
    """Two tables per export format (heatmap/engines/sql.py's families), each partitioned by projection (nothing
    to crawl): `<table>` by flow and run-date folder, `<table>_undated` by flow only. JSON Lines: string columns
    under both spellings of a custom parameter; the report flows' Parquet: string columns under the plain names
    (the GA4 connector declares every field a string); the event route's Parquet: its typed columns."""
    from heatmap.engines import sql

    json_columns = glue_columns()
    json_storage = [
        "  InputFormat: org.apache.hadoop.mapred.TextInputFormat",
        "  OutputFormat: org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "  SerdeInfo:",
        "    SerializationLibrary: org.openx.data.jsonserde.JsonSerDe",
        "    Parameters:",
        '      ignore.malformed.json: "true"',
        '      case.insensitive: "false"',
        "      # A column reads the JSON key of its name unless mapped: AppFlow writes `customEvent:hm_band`, other",
        "      # tools `hm_band`; the queries take whichever a row has.",
        *[f"      mapping.{column}: {json.dumps(key)}" for column, key in json_columns if column != key],
        "  Columns:",
        *[f"    - {{Name: {column}, Type: string}}" for column, _key in json_columns],
    ]
    parquet_serde = [
        "  InputFormat: org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "  OutputFormat: org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "  SerdeInfo:",
        "    SerializationLibrary: org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "  Columns:",
    ]
    plain = [column for column, key in json_columns if column == key.lower()]
    report_flows, event_flows = (
        "${FlowNamePrefix}-daily,${FlowNamePrefix}-backfill",
        ",".join(
            f"${{FlowNamePrefix}}{suffix}"
            for suffix in (contract.EVENT_DAILY_FLOW_SUFFIX, contract.EVENT_BACKFILL_FLOW_SUFFIX)
        ),
    )
    families = [
        (sql.JSON, "", "json", f"{report_flows},{event_flows}", json_storage,
         "JSON Lines (any flow set to JSON): every column a string, as AppFlow writes them."),
        (sql.PARQUET, "Parquet", "parquet", report_flows,
         [*parquet_serde, *[f"    - {{Name: {column}, Type: string}}" for column in plain]],
         "The report flows' Parquet: string columns under the plain names (the GA4 connector's fields are strings)."),
        (sql.EVENTS, "Event", "parquet", event_flows,
         [*parquet_serde, *[f"    - {{Name: {c}, Type: {sql.EVENT_TYPES.get(c, 'string')}}}" for c in sql.event_columns()]],
         "The event route's Parquet (BigQuery's heatmap_daily): its columns typed as the table declares them."),
    ]  # fmt: skip
    day = sql.FIRST_RUN_DATE.strftime("%Y/%m/%d")
    flow = f"${{!{sql.FLOW}}}/"

    def table(resource: str, name: str, classification: str, flows: str, storage: list[str], partitions: list[str],
              projection: list[str], location: str) -> list[str]:  # fmt: skip
        return [
            f"{resource}:",
            "  Type: AWS::Glue::Table",
            "  Properties:",
            "    CatalogId: !Ref AWS::AccountId",
            "    DatabaseName: !Ref Database",
            "    TableInput:",
            f"      Name: {name}",
            "      TableType: EXTERNAL_TABLE",
            "      Parameters:",
            f"        classification: {classification}",
            '        projection.enabled: "true"',
            f"        projection.{sql.FLOW}.type: enum",
            f"        projection.{sql.FLOW}.values: !Sub {flows}",
            *[f"        {line}" for line in projection],
            f"        storage.location.template: !Sub s3://${{SourceBucketName}}/${{SourcePrefix}}/{location}",
            "      PartitionKeys:",
            *[f"        - {{Name: {key}, Type: string}}" for key in (sql.FLOW, *partitions)],
            "      StorageDescriptor:",
            "        Location: !Sub s3://${SourceBucketName}/${SourcePrefix}/",
            *[f"      {line}" for line in storage],
        ]

    run_date = [
        f"projection.{sql.RUN_DATE}.type: date",
        f"projection.{sql.RUN_DATE}.format: {sql.RUN_DATE_FORMAT}",
        f"projection.{sql.RUN_DATE}.range: {day},NOW+1DAYS",
        f'projection.{sql.RUN_DATE}.interval: "1"',
        f"projection.{sql.RUN_DATE}.interval.unit: DAYS",
    ]
    out = [
        "# Per export format, two tables. Exports under run-date folders (<flow>/<yyyy>/<mm>/<dd>/<execution>/,",
        "# AppFlow's DAY path prefix): one partition per flow and run date (UTC), projected, so a query names the",
        "# folders it reads. Exports without run-date folders (<flow>/<execution>/, the older layout, other tools):",
        '# one partition per flow, read whole (the queries keep only the objects they name by "$path").',
    ]
    for family, title, classification, flows, storage, about in families:
        out += [
            "",
            f"# {about}",
            *table(
                f"{title}ExportsTable",
                family.table,
                classification,
                flows,
                storage,
                [sql.RUN_DATE],
                run_date,
                f"{flow}${{!{sql.RUN_DATE}}}/",
            ),
            *table(f"Undated{title}ExportsTable", family.undated_table, classification, flows, storage, [], [], flow),
        ]
    return "\n".join(f"{indent}{line}" if line else "" for line in out) + "\n"


_TABLES = re.compile(
    r"(?P<head>^(?P<indent>[ \t]*)# BEGIN GENERATED TABLES[^\n]*\n)(?P<body>.*?)(?P<tail>^[ \t]*# END GENERATED TABLES\b)",
    re.S | re.M,
)


def render_athena_yaml(source: str) -> str:
    rendered, count = _TABLES.subn(lambda m: m["head"] + _glue_tables_yaml(m["indent"]) + m["tail"], source)
    if count != 1:
        raise ValueError(f"athena.yaml needs one GENERATED TABLES block, found {count}")
    return rendered


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation YAML: `!Ref X` -> {"Ref": X}, `!Sub s` -> {"Fn::Sub": s}, and so on."""


def _cfn_tag(loader: CfnLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(text: str) -> dict[str, Any]:
    return yaml.load(text, Loader=CfnLoader)  # a SafeLoader subclass


def _unsub(value: Any) -> Any:
    """Replace every {"Fn::Sub": "text"} by "text": ${AWS::Partition} becomes aws, ${AWS::Region} and
    ${AWS::AccountId} become the placeholders ${Region} and ${AccountId}, ${Parameter}s stay."""
    if isinstance(value, dict):
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            text = value["Fn::Sub"].replace("${AWS::Partition}", "aws")
            return text.replace("${AWS::Region}", "${Region}").replace("${AWS::AccountId}", "${AccountId}")
        return {k: _unsub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsub(v) for v in value]
    return value


def iam_policy(template_text: str) -> dict[str, Any]:
    """The dashboard policy of the template, as a standalone IAM policy document with placeholders."""
    template = load_template(template_text)
    return _unsub(template["Resources"]["DashboardPolicy"]["Properties"]["PolicyDocument"])


# ---------------------------------------------------------------------------------------------- driver


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def generated() -> dict[Path, str]:
    """Every generated file and the text it should have."""
    js = render_tag_js(TAG_JS.read_text(encoding="utf-8"))
    template = render_appflow_yaml(APPFLOW_YAML.read_text(encoding="utf-8"))
    query = render_heatmap_sql(HEATMAP_SQL.read_text(encoding="utf-8"))
    return {
        TAG_JS: js,
        TAG_HTML: gtm_custom_html(js),
        CONTAINER_JSON: _json(gtm_container(js)),
        APPFLOW_YAML: template,
        IAM_POLICY_JSON: _json(iam_policy(template)),
        ATHENA_YAML: render_athena_yaml(ATHENA_YAML.read_text(encoding="utf-8")),
        HEATMAP_SQL: query,
        SCHEDULED_SQL: render_scheduled_sql(query),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tracking.build", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report files that are not up to date")
    parser.add_argument(
        "--site",
        metavar="FOLDER",
        help="write your site's tag (hm_tag.js, hm_tag.gtm.html, gtm-container.json) into FOLDER with your page "
        "templates built in (HEATMAP_PAGE_TEMPLATES or page_templates in secrets.toml, or --page-templates)",
    )
    parser.add_argument("--page-templates", metavar="RULES", help="with --site: these rules (name=pattern; ...)")
    args = parser.parse_args(argv)
    if args.site:
        return _write_site(Path(args.site), args.page_templates)
    stale = []
    for path, text in generated().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(("out of date: " if args.check else "wrote: ") + str(path.relative_to(HERE.parent)))
    return 1 if (args.check and stale) else 0


def _write_site(folder: Path, rules: str | None) -> int:
    from heatmap.config import Settings
    from heatmap.errors import ConfigError

    try:
        templates = parse_templates(rules) if rules is not None else Settings.load().templates
        files = site_files(templates)
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote: {folder / name}")
    names = ", ".join(rule.name for rule in templates.rules) or "none: only templates the pages declare"
    print(f"page templates in the tag: {names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
