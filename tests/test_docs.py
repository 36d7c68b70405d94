"""Keep the README and the example secrets in step with the code."""

import re
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

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
        "HEATMAP_CACHE_BUDGET_MB": "64",
        "HEATMAP_PAGE_TEMPLATES": "x=/x/*",
        "HEATMAP_CAPTURE_MAX_HEIGHT": "8000",
        "HEATMAP_CAPTURE_TIMEOUT_SECONDS": "30",
        "HEATMAP_CAPTURE_MAX_MB": "20",
        "HEATMAP_CAPTURE_CONCURRENT": "2",
        "HEATMAP_SITE_URL": "https://www.example.com",
    }
    bounds = {
        f"HEATMAP_{spec.name.upper()}": "2020-01-01" if spec.name == "first_day" else "9" for spec in fields(Bounds)
    }
    settings = Settings.load(env={name: "x" for name in documented} | numbers | bounds)
    assert settings.source == "x" and settings.output == "x" and settings.cache_dir == "x"
    assert settings.s3.endpoint_url == "x" and settings.s3.max_attempts == 3 and settings.min_page_views == 7
    assert settings.shared_store == "on" and settings.bounds.max_page_height_px == 9
    assert settings.fdr == 0.1 and settings.min_band_views == 20 and settings.cache_budget_mb == 64
    assert settings.daily_flow == "x" and settings.backfill_flow == "x" and settings.appflow.retry_mode == "x"
    assert settings.appflow.max_attempts == 4 and settings.appflow.poll_seconds == 2.5
    assert settings.engine == "duckdb" and settings.athena.workgroup == "x" and settings.athena.timeout_seconds == 30
    assert settings.templates.of("/x/1") == "x"
    assert settings.capture.enabled and settings.capture.hide == ("x",)
    assert (settings.capture.limits.max_height_css, settings.capture.limits.concurrent) == (8000, 2)
    assert settings.capture.url_of("/jobs/1") == "https://www.example.com/jobs/1"
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


DOCS = sorted([ROOT / "README.md", ROOT / "tracking" / "README.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens (repeats get -1, -2, ...)."""
    seen: dict[str, int] = {}
    anchors = set()
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("#"):
            continue
        text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", line.lstrip("#").strip()).lower()
        slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_docs_exist_for_every_part_of_the_design():
    names = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert {"architecture.md", "contract.md", "formats.md", "engines.md", "operations.md", "security.md"} <= names


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_in_the_docs_resolves(doc: Path):
    broken = []
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        resolved = (doc.parent / path).resolve() if path else doc
        if not resolved.exists() or (anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved)):
            broken.append(target)
    assert broken == []


def test_no_reference_points_outside_the_repository():
    """Comments and docs cite docs/, not a design file or research notes a person who clones the repo lacks."""
    outside = re.compile(r"\bDESIGN(\.md)? §|(?<![\w-])notes/\w+\.md|\.\./shared/")
    files = [p for p in ROOT.rglob("*") if p.suffix in {".py", ".md", ".yaml", ".js", ".sql", ".sh", ".toml"}]
    offenders = [
        str(p.relative_to(ROOT))
        for p in files
        if ".venv" not in p.parts and p.name != "test_docs.py" and outside.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
