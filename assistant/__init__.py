"""A cited question-answering assistant for a library of UN reports.

Public surface: ``add_report()``, ``remove_report()``, ``library_reports()``, ``load_report()``,
``build_index()``, ``retrieve()``, ``answer()``, the records (``Report``, ``Paragraph``,
``Heading``, ``Passage``, ``Citation``, ``Answer``, ``Quote``) and ``Settings``.
The heavy parts (torch, faiss, gradio) load on first use, so ``import assistant`` stays quick.
"""

from .ingest.markdown import ReportParseError
from .library import LibraryError, add_report, library_reports, load_report, remove_report
from .records import Answer, Citation, Heading, Paragraph, Passage, Quote, Report
from .settings import Settings

__all__ = ["Answer", "Citation", "Heading", "LibraryError", "Paragraph", "Passage", "Quote", "Report",
           "ReportParseError", "Settings", "add_report", "answer", "build_index", "library_reports", "load_report",
           "remove_report", "retrieve"]


def build_index(settings: Settings | None = None, progress: bool = False):
    """Embed every document of the library afresh and write the FAISS index, the BM25 indexes and
    their manifest (see ``search/index.py``; ``answer()`` builds only what is missing by itself)."""
    from .search.index import build_index as _build

    return _build(settings, progress=progress)


def retrieve(question: str, k: int = 5, settings: Settings | None = None,
             documents: list[str] | None = None) -> list[Passage]:
    """The ``k`` passages that best answer ``question``, best first, from the whole library or
    from ``documents`` (ids such as ``"S/2025/303"``) only (see ``search/retrieval.py``)."""
    from .search.retrieval import retrieve as _retrieve

    return _retrieve(question, k, settings, documents)


def answer(question: str, settings: Settings | None = None, history: list[str] | None = None,
           on_token=None, documents: list[str] | None = None, **overrides) -> Answer:
    """A cited answer to ``question`` from the whole library or from ``documents`` only (see
    ``compose/answering.py``)."""
    from .compose.answering import answer as _answer

    return _answer(question, settings, history=history, on_token=on_token, documents=documents, **overrides)
