"""Shared fixtures. Unit tests use tiny fixtures and fakes; tests marked ``model``, ``server``,
``browser`` and ``eval`` use the real model, index, server and browser."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def mini_report_text() -> str:
    return (FIXTURES / "mini_report.md").read_text(encoding="utf-8")

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: What the session's server printed after it was ready, line by line.
SERVER_LOG: list[str] = []


@pytest.fixture(scope="session")
def server_url():
    """A real `assistant serve` in a subprocess, on a free local port; stopped after the session."""
    port = _free_port()
    env = {**os.environ, "ASSISTANT_PORT": str(port), "ASSISTANT_HOST": "127.0.0.1"}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    started, lines = time.monotonic(), []
    try:
        while time.monotonic() - started < 180:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                raise RuntimeError("the server exited:\n" + "".join(lines))
            lines.append(line)
            if m := re.search(r"Chat ready in ([\d.]+) s at (http://\S+)", line):
                print(f"\nserver started in {m.group(1)} s at {m.group(2)}")
                # Keep reading what the server prints: a full pipe would block it, and the tests
                # check that no request left a traceback in its output (SERVER_LOG).
                threading.Thread(target=lambda: SERVER_LOG.extend(proc.stdout), daemon=True).start()
                yield m.group(2).rstrip("/")
                break
        else:
            raise RuntimeError("the server did not start in 180 s:\n" + "".join(lines))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
