"""Shared fixtures. Unit tests use tiny fixtures and fakes; tests marked ``model``, ``server``,
``browser`` and ``eval`` use the real model, index, server and browser."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from functools import cache
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent
#: The seed report, as the project's library holds it.
SEED = ROOT / "corpus" / "unodc-crime-prevention-report-2020.fr.md"
SEED_ID = "unodc-crime-prevention-report-2020"


class FakeEmbedder:
    """A small deterministic stand-in for the model: a text's vector is the normalised sum of
    one pseudo-random vector per word (accents folded, lower case), so texts sharing words lie
    close and retrieval means something. Counts what it embeds."""

    dim = 64
    encoder = "fake"
    encoder_sha256 = "f" * 64

    def __init__(self):
        self.calls = 0  # embed_passages calls: two per document embedded (units, then sentences)
        self.texts: list[str] = []  # every passage embedded, in order

    @staticmethod
    @cache
    def _word(word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(FakeEmbedder.dim)

    @classmethod
    def vectors(cls, texts) -> np.ndarray:
        from assistant.text import fold

        rows = []
        for text in texts:
            words = re.findall(r"\w+", fold(text))
            row = np.sum([cls._word(w) for w in words] + [1e-3 * cls._word("")], axis=0)
            rows.append(row / np.linalg.norm(row))
        return np.array(rows, dtype=np.float32).reshape(-1, cls.dim)

    def embed_passages(self, texts, progress=False):
        self.calls += 1
        self.texts += list(texts)
        return self.vectors(texts)

    def embed_queries(self, texts):
        return self.vectors(texts)


FAKE_IDENTITY = {"model_id": "fake", "model_sha256": "0" * 64, "encoder": "fake", "encoder_sha256": "f" * 64}


@pytest.fixture
def fake_embedder(monkeypatch):
    """The fake embedder in place of the model for the index (no model file is read)."""
    from assistant.search import index

    fake = FakeEmbedder()
    monkeypatch.setattr(index, "get_embedder", lambda settings, progress=False: fake)
    monkeypatch.setattr(index, "model_identity", lambda settings, progress=False: dict(FAKE_IDENTITY))
    return fake


@pytest.fixture
def library(tmp_path, fake_embedder):
    """Settings for a library in a temporary folder holding the seed, indexed with the fake."""
    from assistant.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index")


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
