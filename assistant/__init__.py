"""A cited question-answering assistant for the UN Secretary-General's 2020 report on the crime
prevention and criminal justice programme.

Public surface: ``load_report()``, ``build_index()``, ``retrieve()``, ``answer()``, the records
(``Report``, ``Paragraph``, ``Heading``, ``Passage``, ``Answer``, ``Quote``) and ``Settings``.
"""

from .records import Answer, Heading, Paragraph, Passage, Quote, Report
from .report import ReportParseError, load_report
from .settings import Settings

__all__ = ["Answer", "Heading", "Paragraph", "Passage", "Quote", "Report", "ReportParseError",
           "Settings", "load_report"]
