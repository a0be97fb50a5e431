"""Positioned lines: what the structure parser reads, whatever library read the PDF.

A ``Line`` is one run of text on one baseline of one page, with the geometry and type style the
structure rules need (left edge, font size, bold/italic, the gap after a leading number).
Superscript digits are kept as Unicode superscripts ("¹²"), as ``markdown.py`` shows footnote
markers, so a marker never reads as part of a number.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
PLAIN_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    x1: float


@dataclass(frozen=True)
class Line:
    """One line of text as printed (PDF units: points, y grows upwards)."""

    page: int  # 1-based
    y: float  # baseline
    x0: float
    x1: float
    #: The font size most of its characters use (superscripts aside).
    size: float
    bold: bool  # every letter bold
    italic: bool  # every letter italic
    text: str
    words: tuple[Word, ...]
    #: The font most of its characters use (a barcode font marks a barcode).
    font: str = ""


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    width: float
    height: float
    lines: tuple[Line, ...]  # top to bottom, then left to right
