"""The library: every report in ``Settings.corpus_dir``, each known by its ``Report.doc_id``.

``add_report`` reads a file (PDF, markdown or text), copies it into the folder and indexes it;
``remove_report`` takes one out; ``library_reports`` lists what is there. The index follows the
folder (``index.update_index``): adding or removing a document embeds only what is new.
A file that cannot be read is refused before anything changes; a file someone put into the folder
by hand and that cannot be read is left out of the index with a warning (the manifest remembers
it, so it is not read again at every start).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .files import atomic_write, file_sha256
from .records import Report
from .settings import Settings

log = logging.getLogger(__name__)

#: The files a library folder may hold, by suffix.
SUPPORTED_SUFFIXES = (".pdf", ".md", ".markdown", ".txt")


class LibraryError(ValueError):
    """What ``add_report``/``remove_report`` cannot do, said in one line (the library unchanged)."""


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    sha256: str


@dataclass(frozen=True)
class LeftOut:
    """A file of the folder that is not in the index, and why."""

    file: str
    sha256: str
    reason: str


def corpus_files(settings: Settings) -> list[CorpusFile]:
    """The report files of ``settings.corpus_dir`` (not hidden, not a README), by name."""
    folder = settings.corpus_dir
    if not folder.is_dir():
        return []
    paths = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.stem.lower().startswith("readme"))
    return [CorpusFile(p, file_sha256(p)) for p in paths]


def read_corpus(settings: Settings, cached: Callable[[CorpusFile], Report | None] | None = None
                ) -> tuple[list[tuple[CorpusFile, Report]], list[LeftOut]]:
    """Every document of the folder, parsed (or taken from ``cached``, the index's copy of an
    unchanged file's parse), in document-id order; and the files left out: unreadable, or a second
    file of a document already read."""
    from .ingest import load_any

    documents: dict[str, tuple[CorpusFile, Report]] = {}
    left_out = []
    for cf in corpus_files(settings):
        report = cached(cf) if cached else None
        if report is None:
            try:
                report = load_any(cf.path)
            except (ValueError, OSError) as exc:  # ReportParseError is a ValueError
                log.warning("left out of the library: %s: %s", cf.path.name, exc)
                left_out.append(LeftOut(cf.path.name, cf.sha256, str(exc)))
                continue
        if report.doc_id in documents:
            reason = f"the same document ({report.doc_id}) as {documents[report.doc_id][0].path.name}"
            log.warning("left out of the library: %s: %s", cf.path.name, reason)
            left_out.append(LeftOut(cf.path.name, cf.sha256, reason))
            continue
        documents[report.doc_id] = (cf, report)
    return [documents[d] for d in sorted(documents)], left_out


def library_reports(settings: Settings | None = None) -> dict[str, Report]:
    """doc id -> Report for every document of the library, in id order. Parses only what the
    index does not already hold (no embedding)."""
    from .search.index import cached_parse

    settings = settings or Settings.from_env()
    documents, _ = read_corpus(settings, cached_parse(settings))
    return {report.doc_id: report for _, report in documents}


def add_report(path: str | Path, settings: Settings | None = None, progress: bool = False) -> Report:
    """Add the report in ``path`` (PDF, markdown or text) to the library: parse it, copy it into
    ``settings.corpus_dir`` and index it, embedding only it (with a progress bar on stderr when
    ``progress``). Returns the parsed report.

    Raises ``FileNotFoundError`` or ``ReportParseError`` (naming the page or line) when the file
    cannot be read, ``LibraryError`` when another file of the library holds the same document or
    has the same name; the library is then unchanged. Adding a file the library already holds does
    nothing."""
    from .ingest import load_any
    from .search import index as index_module

    settings = settings or Settings.from_env()
    source = Path(path)
    report = load_any(source)  # refuses an unreadable file before anything changes
    sha = file_sha256(source)
    current = {cf.path.name: (cf, r) for cf, r in read_corpus(settings, index_module.cached_parse(settings))[0]}
    for cf, held in current.values():
        if held.doc_id == report.doc_id:
            if cf.sha256 == sha:
                index_module.install_fresh(settings, progress=progress)  # already there: make sure it is indexed
                return held
            raise LibraryError(f"{report.doc_id} is already in the library (from {cf.path.name}): "
                               f"remove it first (assistant remove {report.doc_id})")
    target = settings.corpus_dir / source.name
    copied = False
    if target.exists():
        if file_sha256(target) != sha:
            raise LibraryError(f"{target} already exists and holds another file: rename {source.name}")
    else:
        atomic_write(target, lambda tmp: shutil.copyfile(source, tmp))
        copied = True
    try:
        index_module.install_fresh(settings, progress=progress)
    except BaseException:
        if copied:  # the library stays as it was
            target.unlink(missing_ok=True)
        raise
    return report


def remove_report(document: str, settings: Settings | None = None) -> Report:
    """Remove a document (by its id, e.g. "S/2025/303", or its file's name) from the library:
    its file is deleted from ``settings.corpus_dir`` and the index updated without embedding.
    Returns the report removed; ``LibraryError`` if the library holds no such document."""
    from .search import index as index_module

    settings = settings or Settings.from_env()
    documents, _ = read_corpus(settings, index_module.cached_parse(settings))
    match = [(cf, r) for cf, r in documents if document in (r.doc_id, cf.path.name)]
    if not match:
        held = ", ".join(r.doc_id for _, r in documents) or "nothing"
        raise LibraryError(f"no document {document!r} in the library (it holds: {held})")
    cf, report = match[0]
    cf.path.unlink()
    index_module.install_fresh(settings)
    return report
