"""Index faults (issue #16): a write killed mid-way, a folder that cannot be written, a full disk.

Most tests rebuild with a small deterministic embedder instead of the model (a rebuild with the
model takes 35 s; what is tested here is what happens around it). The end-to-end tests at the
bottom run the real commands, with the real model, in a really read-only folder (a tmpfs
mounted read-only in a private mount namespace; skipped where that is not allowed).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from assistant import files
from assistant.app import cli
from assistant.search import index
from assistant.search.index import (
    MANIFEST_FILE,
    IndexUnavailableError,
    IndexWriteError,
    build_index,
    ensure_index,
    load_index,
)
from assistant.settings import ROOT, Settings

pytestmark = pytest.mark.model  # the manifest records the converted model's hash
BUILT = ROOT / "index"  # the project's index, built by `make index` before the tests
QUESTION = "Combien d'États sont parties à la Convention contre la corruption ?"


class CountingEmbedder:
    """Deterministic unit vectors from the text's hash; counts what it embeds."""

    dim = 384

    def __init__(self, fail_with: BaseException | None = None):
        self.calls = 0  # embed_passages calls: two per document embedded, the units and the sentences
        self.fail_with = fail_with

    @classmethod
    def _vectors(cls, texts):
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(cls.dim) for t in texts]
        vectors = np.array(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_passages(self, texts, progress=False):
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        return self._vectors(texts)

    def embed_queries(self, texts):
        return self._vectors(texts)


@pytest.fixture
def embedder(monkeypatch):
    fake = CountingEmbedder()
    monkeypatch.setattr(index, "get_embedder", lambda settings, progress=False: fake)
    return fake


@pytest.fixture
def stale(tmp_path) -> Settings:
    """A copy of the project's index whose manifest says its document was read from another file:
    that document is embedded again."""
    if not (BUILT / MANIFEST_FILE).is_file():
        pytest.fail("the project's index is missing: run `make index` (or `assistant index`) first")
    folder = tmp_path / "index"
    shutil.copytree(BUILT, folder)
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["documents"][0]["sha256"] = "0" * 64
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    return Settings(index_dir=folder)


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _read_only(*args, **kwargs):
    raise OSError(errno.EROFS, os.strerror(errno.EROFS))


def _rebuild_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "assistant.search.index"]


def test_the_temp_file_of_a_killed_write_is_removed_at_the_next_start(tmp_path, caplog):
    """`kill -9` during a rebuild left `.manifest.json.XXXXXXXX` in the folder forever."""
    folder = tmp_path / "index"
    shutil.copytree(BUILT, folder)
    writer = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from assistant.files import atomic_write
        def slow(path):
            path.write_text('{{"half": ')
            print("writing", flush=True)
            time.sleep(120)
        atomic_write(Path({str(folder / MANIFEST_FILE)!r}), slow)
    """)
    proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.kill()  # SIGKILL: no finally block runs
    proc.wait(timeout=10)
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".manifest.json.")]
    assert len(leftovers) == 1
    with caplog.at_level(logging.WARNING, logger="assistant.search.index"):
        loaded = ensure_index(Settings(index_dir=folder))
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []
    assert loaded.manifest == load_index(Settings(index_dir=folder)).manifest  # the index was intact
    assert _rebuild_lines(caplog) == [f"removed 1 temporary file(s) of an interrupted index write in {folder}: "
                                      f"{leftovers[0]}"]


def test_cleanup_leaves_other_files_alone(tmp_path):
    for name in (".manifest.json.abc12345", ".units.faiss.zz_9yy00", "README.md", ".gitignore",
                 ".manifest.json.short", "notes.manifest.json.abc12345", ".other.json.abc12345"):
        (tmp_path / name).write_text("x")
    assert sorted(files.remove_interrupted_writes(tmp_path, index.INDEX_FILES)) == [
        ".manifest.json.abc12345", ".units.faiss.zz_9yy00"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".gitignore", ".manifest.json.short", ".other.json.abc12345", "README.md", "notes.manifest.json.abc12345"]


def test_a_full_disk_during_a_rebuild_serves_from_memory_with_one_warning(stale, embedder, monkeypatch, caplog):
    real_write = index.atomic_write
    written = []

    def fills_up(path, write):  # the first file fits, the second does not
        if written:
            return real_write(path, _enospc)
        written.append(path.name)
        return real_write(path, write)

    monkeypatch.setattr(index, "atomic_write", fills_up)
    with caplog.at_level(logging.WARNING, logger="assistant.search.index"):
        first = ensure_index(stale)
        again = ensure_index(stale)
    assert again is first and embedder.calls == 2  # units and sentences embedded once; no rebuild loop
    lines = _rebuild_lines(caplog)
    assert len(lines) == 2 and lines[0].startswith("updating the index")
    assert lines[1].startswith(f"cannot write the index in {stale.index_dir}: No space left on device; "
                               "answering from the index rebuilt in memory")
    assert [p.name for p in stale.index_dir.iterdir() if p.name.startswith(".")] == []  # temp files removed
    with pytest.raises(index.StaleIndexError):  # what was written never validates: the next start rebuilds
        load_index(stale)


def test_answers_come_from_the_index_kept_in_memory(stale, embedder, monkeypatch):
    from assistant import answer

    monkeypatch.setattr(files.tempfile, "mkstemp", _read_only)
    assert answer(QUESTION, stale).passages and embedder.calls == 2
    assert [c.paragraph for c in answer("What does paragraph 46 say?", stale).citations] == [46]
    assert embedder.calls == 2  # no rebuild for the next questions


def test_faiss_failing_to_write_is_an_index_write_error(stale, embedder, monkeypatch):
    import faiss

    def broken(*args):
        raise RuntimeError("Error in faiss::FileIOWriter::operator()(...) at faiss/impl/io.cpp:102: "
                           "Error: 'ret == (n)' failed: write error\nmore faiss detail")

    monkeypatch.setattr(faiss, "write_index", broken)
    with pytest.raises(IndexWriteError, match=r"cannot write the index in .*: Error in faiss::FileIOWriter") as info:
        build_index(stale)
    assert "\n" not in str(info.value) and info.value.index is not None  # one line; the index, in memory


def test_a_read_only_folder_fails_before_embedding_when_the_index_must_be_written(stale, embedder, monkeypatch):
    monkeypatch.setattr(files.tempfile, "mkstemp", _read_only)
    with pytest.raises(IndexWriteError, match="cannot write the index in .*: Read-only file system"):
        ensure_index(stale, keep_unsaved=False)
    assert embedder.calls == 0  # told at once, not after 30 s of embedding


def test_a_rebuild_that_fails_is_remembered_not_retried(stale, monkeypatch):
    failing = CountingEmbedder(fail_with=RuntimeError("CUDA out of memory? no: the machine is out of memory"))
    monkeypatch.setattr(index, "get_embedder", lambda settings, progress=False: failing)
    for _ in range(3):
        with pytest.raises(IndexUnavailableError, match="cannot build the index in .*: CUDA out of memory"):
            ensure_index(stale)
    assert failing.calls == 1


def test_cli_index_on_a_read_only_folder_says_so_in_one_line(stale, embedder, monkeypatch, capsys):
    monkeypatch.setattr(files.tempfile, "mkstemp", _read_only)
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(stale.index_dir))
    assert cli.main(["index"]) == 1
    assert cli.main(["index", "--rebuild"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [f"error: cannot write the index in {stale.index_dir}: Read-only file system"] * 2
    assert embedder.calls == 0


def test_cli_index_on_a_full_disk_says_so_in_one_line(stale, embedder, monkeypatch, capsys):
    monkeypatch.setattr(index, "_save_npy", _enospc)
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(stale.index_dir))
    assert cli.main(["index"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: cannot write the index in {stale.index_dir}: No space left on device"]


def test_cli_ask_with_a_stale_index_in_a_read_only_folder_answers(stale, embedder, monkeypatch, capsys, caplog):
    """It re-embedded (30 s) and then died with a raw OSError traceback, on every call."""
    monkeypatch.setattr(files.tempfile, "mkstemp", _read_only)
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(stale.index_dir))
    with caplog.at_level(logging.WARNING, logger="assistant.search.index"):
        assert cli.main(["ask", "What does paragraph 46 say?"]) == 0
        assert cli.main(["ask", "Que dit le paragraphe 47 ?"]) == 0
    out = capsys.readouterr()
    assert "(§46)" in out.out and "(§47)" in out.out and out.err == ""
    assert len(_rebuild_lines(caplog)) == 2 and embedder.calls == 2  # one rebuild, one warning, for both


# --- end to end: the real commands, the real model, a really read-only folder ---------------------

def _namespace_prefix() -> list[str]:
    """`unshare` into a private mount namespace (as a mapped root when not root), or skip."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("no unshare(1): cannot mount a read-only folder")
    prefix = [unshare, "--mount", "--propagation", "private"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    probe = subprocess.run([*prefix, "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o ro tmpfs $d"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not allowed here: {probe.stderr.strip()}")
    return prefix


def _in_read_only_stale_index(stale: Settings, command: str) -> list[str]:
    """A shell command line that mounts a tmpfs, copies the stale index in, remounts it read-only
    and runs ``command`` with ASSISTANT_INDEX_DIR pointing there."""
    folder = stale.index_dir.parent / "ro"
    folder.mkdir()
    script = (f"mount -t tmpfs -o size=16m tmpfs {folder} && cp -a {stale.index_dir}/. {folder} && "
              f"mount -o remount,ro {folder} && touch {folder}/probe 2>/dev/null && exit 99; "
              f"ASSISTANT_INDEX_DIR={folder} exec {command}")
    return [*_namespace_prefix(), "sh", "-c", script]


def test_index_in_a_read_only_folder_fails_in_one_line(stale):
    done = subprocess.run(_in_read_only_stale_index(stale, f"{sys.executable} -m assistant index"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().endswith("Read-only file system") and done.stderr.count("\n") == 1


def test_serve_with_a_stale_index_in_a_read_only_folder_serves(stale):
    """`serve` re-embedded, then exited with an OSError traceback."""
    from conftest import _free_port

    port = _free_port()
    args = _in_read_only_stale_index(stale, f"env ASSISTANT_PORT={port} {sys.executable} -m assistant serve")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    try:
        started = time.monotonic()
        while time.monotonic() - started < 400:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            lines.append(line)
            if "Chat ready" in line:
                break
        output = "".join(lines)
        assert "Chat ready" in output, output
        assert "Traceback" not in output and "answering from the index rebuilt in memory" in output
        from gradio_client import Client

        result = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(QUESTION, 5, api_name="/ask")
        assert 46 in [c["paragraph"] for c in result["citations"]]
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
