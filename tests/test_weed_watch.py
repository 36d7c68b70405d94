"""The S3 test server is watched: if SeaweedFS dies mid-suite, the next test that needs it says so, with the exit
code and the log tail, and the server is started again on the same ports for the tests after it."""

import json
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


def test_the_server_has_room_for_a_volume_per_bucket(weed_server: WeedServer) -> None:
    """SeaweedFS gives each bucket its own volume and, left alone, allows free disk / 1 GiB of them: 77 on a
    machine with 77 GiB free, fewer on a fuller one, and then puts fail with 500 "No writable volumes and no free
    volumes left" late in the suite. The suite makes a few hundred buckets."""
    with urllib.request.urlopen(f"http://127.0.0.1:{weed_server.ports['master']}/dir/status", timeout=5) as response:
        topology = json.load(response)["Topology"]
    assert topology["Max"] >= 1000, topology
