"""Shared fixtures live in tests/fixtures/, one module per real component."""

import os

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.browser",
    "tests.fixtures.appflow",
]
