"""What a UN report's cover and front matter say about it: symbol, title, date, session,
agenda item, summary.

A UN cover is a masthead ("United Nations", the organ, the symbol at the top right, "Distr.:",
the date, "Original:"), then for the General Assembly and the Economic and Social Council a
block with the session and agenda item, then the title in the largest bold type, then often a
"Summary". These rules read that layout, not any one document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .layout import Line, Page

_SYMBOL = re.compile(r"(?<![\w/])[A-Z][A-Z0-9]*(?:\.\d+)?(?:/[A-Za-z0-9.]*[A-Za-z0-9])+")
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_MOIS = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
_DATE = re.compile(rf"\[?(\d{{1,2}}(?:er)? (?:{_MONTHS}|{_MOIS}) \d{{4}})\]?")
_SESSION = re.compile(r"[A-Z0-9][\w-]*(?: [\w-]+)? (?:session|Session)")
_AGENDA = re.compile(r"(?:Agenda item|Item|Point) \d.*")
_MASTHEAD_END = re.compile(r"(?:Original|Distr\.)\s*:")
# The principal organs (and the Organization) named in a masthead: never a title.
_ORGANS = {"united nations", "general assembly", "security council", "economic and social council",
           "nations unies", "assemblée générale", "conseil de sécurité", "conseil économique et social"}
_SUMMARY = re.compile(r"(?:Executive )?[Ss]ummary|Résumé(?: analytique)?")


@dataclass(frozen=True)
class Cover:
    symbols: tuple[str, ...]
    title: str
    date: str
    session: str
    agenda_item: str
    summary: str
    front_matter: list[str]


def read_cover(pages: list[Page], front: list, body_size: float, margin: float, vocab) -> Cover:
    """The cover's facts from the first page and the front-matter blocks (headings and text
    lines before the report's first section), joined with ``vocab`` (line-end hyphens)."""
    first = pages[0]
    top = [ln for ln in first.lines if ln.y > 0.85 * first.height]
    symbols = tuple(dict.fromkeys(m.group(0) for ln in top for m in _SYMBOL.finditer(ln.text)
                                  if any(c.isdigit() for c in m.group(0))))
    lines = [ln for block in front for ln in block.lines]
    page_one = [ln for ln in lines if ln.page == first.number]
    masthead = [ln.y for ln in page_one if _MASTHEAD_END.match(ln.text)]
    below = [ln for ln in page_one if not masthead or ln.y < min(masthead)]
    date = next((m.group(1) for ln in page_one + lines if (m := _DATE.fullmatch(ln.text))), "")
    session = next((ln.text for ln in page_one if _SESSION.fullmatch(ln.text)), "")
    agenda = next((ln.text.rstrip("*").strip() for ln in page_one if _AGENDA.fullmatch(ln.text)), "")
    title = _title(below, body_size, vocab)
    summary_lines = _summary_lines(front, body_size)
    summary = _paragraphs(summary_lines, margin, vocab)
    in_summary = {id(ln) for ln in summary_lines}
    front_matter = [ln.text for ln in lines if id(ln) not in in_summary]
    return Cover(symbols, title, date, session, agenda, summary, front_matter)


def _title(lines: list[Line], body_size: float, vocab) -> str:
    """The largest bold block below the masthead that names no organ."""
    blocks: list[list[Line]] = []
    for ln in lines:
        if not ln.bold or ln.size < body_size + 1 or ln.text.lower().strip() in _ORGANS:
            continue
        last = blocks[-1][-1] if blocks else None
        if (last is not None and abs(last.size - ln.size) < 0.6 and 0 < last.y - ln.y <= 1.5 * ln.size
                and abs(last.x0 - ln.x0) < 2 * ln.size):
            blocks[-1].append(ln)
        else:
            blocks.append([ln])
    if not blocks:
        return ""
    best = max(blocks, key=lambda b: b[0].size)  # the first of the largest
    text = ""
    for ln in best:
        text = vocab.join(text, ln.text)
    return text


def _summary_lines(front: list, body_size: float) -> list[Line]:
    """The text under a "Summary" heading, to the next heading or the first line in smaller
    type (the cover's notes, "* A/80/50.")."""
    out: list[Line] = []
    inside = False
    for block in front:
        if block.kind == "heading":
            inside = bool(_SUMMARY.fullmatch(block.text))
            continue
        for ln in block.lines:
            inside = inside and abs(ln.size - body_size) < 0.6
            if inside:
                out.append(ln)
    return out


def _paragraphs(lines: list[Line], margin: float, vocab) -> str:
    """Lines joined into paragraphs (a first-line indent starts one), one per line of text."""
    paragraphs: list[str] = []
    for ln in lines:
        if not paragraphs or ln.x0 > margin + 3:
            paragraphs.append(ln.text)
        else:
            paragraphs[-1] = vocab.join(paragraphs[-1], ln.text)
    return "\n".join(paragraphs)
