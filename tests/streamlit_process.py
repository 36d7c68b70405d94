"""One real `streamlit run` on 127.0.0.1 for tests: started, health-checked, and stopped by its own PID.

Shared by tests/fixtures/browser.py (`streamlit_server`) and tests/fake_idp/streamlit_server.py
(`streamlit_with_auth`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class StreamlitProcess:
    base_url: str
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def streamlit_process(
    app: Path | str,
    workdir: Path,
    *,
    cwd: Path = ROOT,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    unset: Iterable[str] = (),
    port: int | None = None,
    timeout: float = 60,
) -> Iterator[StreamlitProcess]:
    """`streamlit run <app> <args>` headless on 127.0.0.1:`port` (a free one by default), logging to `workdir`.

    The environment is this process's minus `unset`, plus `env`, with the repo root on PYTHONPATH and no proxy
    for 127.0.0.1. Yields once /_stcore/health answers "ok"; raises if the process exits first or `timeout` passes
    (with the log); terminates (then kills) the process afterwards.
    """
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"streamlit-{port}.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false", *args,
    ]  # fmt: skip
    removed = set(unset)
    full_env = {k: v for k, v in os.environ.items() if k not in removed}
    full_env.update(env or {})
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    full_env["NO_PROXY"] = full_env["no_proxy"] = "127.0.0.1,localhost"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=full_env)
    server = StreamlitProcess(f"http://127.0.0.1:{port}", port, log_path, proc)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{server.log_text()}")
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{server.base_url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit not healthy after {timeout}s:\n{server.log_text()}")
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
