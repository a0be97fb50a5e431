"""The report files of a library folder, and how any one of them is read.

``load_any(path)`` picks the reader by the file: a PDF (a UN report as published) goes through
``pdf.load_pdf``; markdown or text (the project's seed) through ``markdown.load_text_report``.
``read_corpus`` reads every file of ``Settings.corpus_dir`` (the index passes the parses it
already holds), leaving out, with a warning, what cannot be read. Beside a report, a file of the
same name ending in ``.examples.txt`` holds example questions about it (``examples_file``): data
about a document, not one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..files import file_sha256
from ..records import Report
from ..settings import Settings
from .markdown import ReportParseError, load_text_report
from .pdf import load_pdf

log = logging.getLogger(__name__)

#: The files a library folder may hold, by suffix.
SUPPORTED_SUFFIXES = (".pdf", ".md", ".markdown", ".txt")
_TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
#: What ends the name of a report's examples file: "report.fr.md" -> "report.fr.examples.txt".
EXAMPLES_SUFFIX = ".examples.txt"


def examples_file(report_file: str | Path) -> Path:
    """Where the example questions of the report in ``report_file`` are kept: beside it, its
    name without the last suffix plus ``EXAMPLES_SUFFIX`` (one question a line)."""
    path = Path(report_file)
    return path.with_name(path.stem + EXAMPLES_SUFFIX)


def read_examples(path: str | Path) -> list[str]:
    """The questions of an examples file, one a line (blank lines and "#" comments left out);
    [] when there is no such file."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, IsADirectoryError):
        return []
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def load_any(path: str | Path) -> Report:
    """The report in ``path``: a PDF by its suffix or its first bytes ("%PDF"), else the seed's
    markdown format. Raises ``FileNotFoundError`` or ``ReportParseError``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"report not found: {path}")
    if path.suffix.lower() == ".pdf":
        return load_pdf(path)
    if path.suffix.lower() in _TEXT_SUFFIXES:
        return load_text_report(path)
    with path.open("rb") as f:
        if f.read(5) == b"%PDF-":
            return load_pdf(path)
    raise ReportParseError(1, f"unknown report format {path.suffix or '(no suffix)'!r}: expected .pdf, .md or .txt",
                           path.name)


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
    """The report files of ``settings.corpus_dir`` (not hidden, not a README, not a report's
    examples), by name."""
    folder = settings.corpus_dir
    if not folder.is_dir():
        return []
    paths = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.stem.lower().startswith("readme")
                   and not p.name.lower().endswith(EXAMPLES_SUFFIX))
    return [CorpusFile(p, file_sha256(p)) for p in paths]


def read_corpus(settings: Settings, cached: Callable[[CorpusFile], Report | None] | None = None
                ) -> tuple[list[tuple[CorpusFile, Report]], list[LeftOut]]:
    """Every document of the folder, parsed (or taken from ``cached``, the index's copy of an
    unchanged file's parse), in document-id order; and the files left out: unreadable, or a second
    file of a document already read."""
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
