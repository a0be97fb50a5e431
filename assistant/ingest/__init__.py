"""Read reports into the project's records, whatever their format.

``load_any(path)`` picks the reader by the file: a PDF (a UN report as published) goes through
``load_pdf``; markdown or text (the project's seed) through ``report.load_text_report``.
"""

from __future__ import annotations

from pathlib import Path

from ..records import Report
from .markdown import ReportParseError, load_text_report
from .pdf import load_pdf
from .structure import PdfParseError

__all__ = ["PdfParseError", "ReportParseError", "load_any", "load_pdf"]

_TEXT_SUFFIXES = {".md", ".markdown", ".txt"}


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
