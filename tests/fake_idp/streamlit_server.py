"""Start a real `streamlit run` wired to a FakeIdP through a temporary secrets.toml (nothing written to the repo)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tests.fake_idp.idp import FakeIdP
from tests.streamlit_process import ROOT, StreamlitProcess, free_port, streamlit_process


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


StreamlitServer = StreamlitProcess


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
    args = ["--secrets.files", str(secrets_file)]
    with streamlit_process(app, workdir, cwd=cwd, args=args, port=port, timeout=timeout) as server:
        yield server
