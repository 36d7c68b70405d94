"""Start a real `streamlit run` wired to a FakeIdP through a temporary secrets.toml (nothing written to the repo)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fake_idp.idp import FakeIdP

ROOT = Path(__file__).resolve().parents[2]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"unsupported TOML value {value!r}")


def to_toml(sections: Mapping[str, Mapping[str, Any]]) -> str:
    """Tiny TOML writer for `{section: {key: scalar | list}}` (enough for secrets files)."""
    out = []
    for name, body in sections.items():
        out.append(f"[{name}]")
        out += [f"{key} = {_toml_value(value)}" for key, value in body.items()]
        out.append("")
    return "\n".join(out)


@dataclass
class StreamlitServer:
    base_url: str
    port: int
    secrets_file: Path
    log_file: Path
    proc: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")


@contextlib.contextmanager
def streamlit_with_auth(
    app: Path,
    idp: FakeIdP,
    workdir: Path,
    allowed_domains: list[str] | None = None,
    extra_secrets: Mapping[str, Mapping[str, Any]] | None = None,
    cwd: Path = ROOT,
    timeout: float = 60,
) -> Iterator[StreamlitServer]:
    """Run `streamlit run <app>` on a free 127.0.0.1 port with `[auth]` pointing at `idp`; stop it afterwards."""
    port = free_port()
    sections: dict[str, dict[str, Any]] = {"auth": idp.auth_secrets(f"http://127.0.0.1:{port}/oauth2callback")}
    for name, body in (extra_secrets or {}).items():
        sections.setdefault(name, {}).update(body)
    if allowed_domains is not None:
        sections.setdefault("heatmap", {})["allowed_email_domains"] = allowed_domains
    workdir.mkdir(parents=True, exist_ok=True)
    secrets_file = workdir / f"secrets-{port}.toml"
    secrets_file.write_text(to_toml(sections))
    log_file = workdir / f"streamlit-{port}.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false", "--secrets.files", str(secrets_file),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    with log_file.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = StreamlitServer(f"http://127.0.0.1:{port}", port, secrets_file, log_file, proc)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{server.log()}")
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{server.base_url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit not healthy after {timeout}s:\n{server.log()}")
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
