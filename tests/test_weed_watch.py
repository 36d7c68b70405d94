"""The S3 test server is watched: if SeaweedFS dies mid-suite, the next test that needs it says so, with the exit
code and the log tail, and the server is started again on the same ports for the tests after it."""

import os
import signal
import urllib.request

import pytest

from tests.fixtures.s3 import WeedServer, _find_weed

pytestmark = pytest.mark.integration


def test_a_dead_server_is_reported_with_its_log_and_restarted() -> None:
    server = WeedServer(_find_weed())
    try:
        server.start()
        assert server.death() is None
        assert server.proc is not None
        os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
        said = server.death()
        assert said is not None and "had died (exit code -9)" in said and "Log tail" in said
        with urllib.request.urlopen(f"{server.endpoint}/healthz", timeout=5) as response:
            assert response.status == 200, "started again on the same port"
        assert server.death() is None and server.starts == 2
    finally:
        server.stop()
