"""AppTest against a real S3 server (SeaweedFS `weed mini`, tests/fixtures/s3.py): the demo exports in one bucket,
runs saved to another; wrong credentials and a read-only identity give messages that say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.fixtures.browser import AppEnv
from tests.fixtures.s3 import WEED_AK, WEED_READER_AK, WEED_READER_SK, WEED_SK, use_seaweed_credentials

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")


@pytest.fixture
def s3_app(
    app_env: AppEnv, seaweed_s3: object, bucket_factory: object, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    """Demo exports uploaded to s3://<source>/ga4/; the app configured for them and s3://<output>/app/."""
    source = bucket_factory(seaweed_s3, "src")  # type: ignore[operator]
    output = bucket_factory(seaweed_s3, "out")  # type: ignore[operator]
    demo = app_env.home / "demo"
    for path in sorted(demo.rglob("*")):
        if path.is_file() and not path.name.startswith(".") and "screenshots" not in path.parts:
            key = "ga4/" + path.relative_to(demo).as_posix()
            seaweed_s3.put_object(Bucket=source, Key=key, Body=path.read_bytes())  # type: ignore[attr-defined]
    endpoint = seaweed_s3.meta.endpoint_url  # type: ignore[attr-defined]
    monkeypatch.setenv("HEATMAP_SOURCE", f"s3://{source}/ga4/")
    monkeypatch.setenv("HEATMAP_OUTPUT", f"s3://{output}/app/")
    monkeypatch.setenv("HEATMAP_S3_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("HEATMAP_S3_REGION", "us-east-1")
    monkeypatch.setenv("HEATMAP_S3_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("HEATMAP_CACHE_DIR", str(app_env.output.parent / "s3-cache"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return source, output


def test_explore_save_and_reopen_on_s3(s3_app: tuple[str, str], seaweed_s3: object, monkeypatch) -> None:
    source, output = s3_app
    use_seaweed_credentials(monkeypatch, WEED_AK, WEED_SK)
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    assert at.title[0].value == "/"
    assert any(f"s3://{source}/ga4/" in c.value for c in at.caption)
    at.button(key="x_save").click().run()
    assert not at.error, [e.value for e in at.error]
    run_id = at.code[1].value.split("run=", 1)[1]
    keys = [o["Key"] for o in seaweed_s3.list_objects_v2(Bucket=output)["Contents"]]  # type: ignore[attr-defined]
    assert any(k.endswith(f"{run_id}/run.json") for k in keys)
    again = AppTest.from_file(APP, default_timeout=180)
    again.query_params["run"] = run_id
    again.run()
    assert not again.exception and not again.error
    assert any(run_id in s.value for s in again.success)


def test_wrong_secret_key(s3_app: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    use_seaweed_credentials(monkeypatch, WEED_AK, "not-the-secret")
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception
    message = at.error[0].value
    assert "secret key does not match" in message or "access denied" in message, message
    assert "Check the source location and the AWS credentials" in message


def test_read_only_identity_cannot_save(s3_app: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    use_seaweed_credentials(monkeypatch, WEED_READER_AK, WEED_READER_SK)
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.button(key="x_save").click().run()
    assert not at.exception
    assert any("access denied" in e.value.lower() for e in at.error), [e.value for e in at.error]
