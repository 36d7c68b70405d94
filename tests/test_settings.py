"""Settings from the environment and secrets: what a person writes is what the app uses."""

import pytest

from heatmap.config import Settings


@pytest.mark.parametrize(
    ("name", "value", "read"),
    [
        ("min_page_views", 0, lambda s: s.min_page_views),
        ("future_days", 0, lambda s: s.bounds.future_days),
        ("athena_timeout_seconds", 0, lambda s: s.athena.timeout_seconds),
        ("min_page_views", "0", lambda s: s.min_page_views),
    ],
)
def test_a_zero_in_the_secrets_is_a_zero_not_the_default(name, value, read):
    assert read(Settings.load({"heatmap": {name: value}}, env={})) == 0


def test_a_zero_in_the_environment_wins_over_the_secrets_and_an_empty_one_does_not():
    secrets = {"heatmap": {"min_page_views": 7}}
    assert Settings.load(secrets, env={"HEATMAP_MIN_PAGE_VIEWS": "0"}).min_page_views == 0
    assert Settings.load(secrets, env={"HEATMAP_MIN_PAGE_VIEWS": ""}).min_page_views == 7
    assert Settings.load({}, env={}).min_page_views == 100
