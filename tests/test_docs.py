"""Keep the README and the example secrets in step with the code."""

import re
import tomllib
from dataclasses import fields
from pathlib import Path

from heatmap.cli import build_parser
from heatmap.config import Settings
from heatmap.contract import Bounds
from heatmap.fields import FieldMap

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_quick_start_commands_exist():
    block = README.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["./scripts/run.sh", "./scripts/test.sh"]
    for command in commands:
        assert (ROOT / command).is_file()
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_every_documented_variable_is_read_and_every_read_variable_is_documented():
    documented = set(re.findall(r"`(HEATMAP_[A-Z0-9_]+)`", README))
    numbers = {
        "HEATMAP_S3_MAX_ATTEMPTS": "3",
        "HEATMAP_MIN_PAGE_VIEWS": "7",
        "HEATMAP_FDR": "0.1",
        "HEATMAP_MIN_BAND_VIEWS": "20",
        "HEATMAP_SHARED_STORE": "on",
        "HEATMAP_APPFLOW_MAX_ATTEMPTS": "4",
        "HEATMAP_APPFLOW_POLL_SECONDS": "2.5",
        "HEATMAP_ENGINE": "duckdb",
        "HEATMAP_ATHENA_TIMEOUT_SECONDS": "30",
    }
    bounds = {
        f"HEATMAP_{spec.name.upper()}": "2020-01-01" if spec.name == "first_day" else "9" for spec in fields(Bounds)
    }
    settings = Settings.load(env={name: "x" for name in documented} | numbers | bounds)
    assert settings.source == "x" and settings.output == "x" and settings.cache_dir == "x"
    assert settings.s3.endpoint_url == "x" and settings.s3.max_attempts == 3 and settings.min_page_views == 7
    assert settings.shared_store == "on" and settings.bounds.max_page_height_px == 9
    assert settings.fdr == 0.1 and settings.min_band_views == 20
    assert settings.daily_flow == "x" and settings.backfill_flow == "x" and settings.appflow.retry_mode == "x"
    assert settings.appflow.max_attempts == 4 and settings.appflow.poll_seconds == 2.5
    assert settings.engine == "duckdb" and settings.athena.workgroup == "x" and settings.athena.timeout_seconds == 30
    code = "".join(p.read_text() for p in (ROOT / "heatmap").rglob("*.py"))
    read = (
        set(re.findall(r"HEATMAP_[A-Z0-9_]+", code))
        | set(bounds)
        | {f"HEATMAP_{name.upper()}" for name in re.findall(r'pick\("([a-z0-9_]+)"', code)}
    )
    assert read - {"HEATMAP_DEBUG"} <= documented, read - documented
    assert documented <= read, documented - read


def test_documented_cli_commands_exist():
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    documented = set(re.findall(r"python -m heatmap ([\w-]+)", README))
    assert documented <= commands, documented - commands


def test_secrets_example_matches_settings_and_field_roles():
    example = tomllib.loads((ROOT / "secrets.toml.example").read_text())
    settings = Settings.load(secrets=example, env={})
    assert settings.source == example["heatmap"]["source"] and settings.output == example["heatmap"]["output"]
    commented = re.findall(
        r"^# (\w+) = ", (ROOT / "secrets.toml.example").read_text().split("[fields]", 1)[1], re.MULTILINE
    )
    roles = set(FieldMap.__dataclass_fields__)
    assert set(commented) <= roles and set(commented) >= roles - {"date"}


def test_benchmarks_in_readme_exist():
    for path in re.findall(r"(benchmarks/\w+\.py)", README):
        assert (ROOT / path).is_file(), path
