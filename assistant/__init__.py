"""A cited question-answering assistant for the UN Secretary-General's 2020 report on the crime
prevention and criminal justice programme.

Public surface: ``load_report()``, ``build_index()``, ``retrieve()``, ``answer()``, the records
(``Report``, ``Paragraph``, ``Heading``, ``Passage``, ``Answer``, ``Quote``) and ``Settings``.
The heavy parts (torch, faiss, gradio) load on first use, so ``import assistant`` stays quick.
"""

from .records import Answer, Heading, Paragraph, Passage, Quote, Report
from .report import ReportParseError, load_report
from .settings import Settings

__all__ = ["Answer", "Heading", "Paragraph", "Passage", "Quote", "Report", "ReportParseError",
           "Settings", "answer", "build_index", "load_report", "retrieve"]


def build_index(settings: Settings | None = None, progress: bool = False):
    """Embed the report's units and write the FAISS index and its manifest (see ``index.py``)."""
    from .index import build_index as _build

    return _build(settings, progress=progress)


def retrieve(question: str, k: int = 5, settings: Settings | None = None) -> list[Passage]:
    """The ``k`` passages that best answer ``question``, best first (see ``retrieval.py``)."""
    from .retrieval import retrieve as _retrieve

    return _retrieve(question, k, settings)


def answer(question: str, settings: Settings | None = None, history: list[str] | None = None,
           on_token=None, **overrides) -> Answer:
    """A cited answer to ``question`` (see ``answering.py``)."""
    from .answering import answer as _answer

    return _answer(question, settings, history=history, on_token=on_token, **overrides)
