"""The PDF reader: the ten sample UN reports (nothing lost, nothing invented, paragraphs 1..N),
a tiny report written here with pypdfium2 (each rule on its own), the hyphen rule, clear
errors, and the seed markdown through the dispatcher."""

from __future__ import annotations

import ctypes
import io
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
from conftest import SEED

from assistant import ReportParseError
from assistant.ingest.corpus import load_any
from assistant.ingest.language import detect_language
from assistant.ingest.markdown import parse_report
from assistant.ingest.pdf import load_pdf
from assistant.ingest.structure import PdfParseError, _Vocabulary
from assistant.text import search_text

ROOT = Path(__file__).resolve().parent.parent
# The copies committed with the tests; else the team's shared folder beside a CI clone.
SAMPLE_DIRS = [ROOT / "tests" / "fixtures" / "un-samples", ROOT.parent / "shared" / "corpus-samples"]
SAMPLES = next((d for d in SAMPLE_DIRS if (d / "S_2025_303.en.pdf").is_file()), None)
needs_samples = pytest.mark.skipif(SAMPLES is None, reason=f"sample PDFs not found in {SAMPLE_DIRS}")


@dataclass(frozen=True)
class Expected:
    symbols: tuple[str, ...]
    paragraphs: int  # checked against pdftotext: its lines starting "N." run 1..N
    date: str
    title: str
    session: str = ""
    agenda_item: str = ""
    footnotes: int = 0  # the report's own (front matter, headings, paragraphs)
    parts: tuple[tuple[str, str, int], ...] = ()  # kind, label, paragraph it follows


EXPECTED = {
    "A_80_62.en.pdf": Expected(
        ("A/80/62", "E/2025/12"), 87, "22 January 2025",
        "Progress made in the implementation of and follow-up to the outcomes of the World Summit on the "
        "Information Society at the regional and international levels, including the 20-year review thereof",
        "Eighteenth session", "Item 19 (b) of the annotated agenda", footnotes=83),
    "A_80_75.en.pdf": Expected(
        ("A/80/75", "E/2025/55"), 106, "10 April 2025",
        "Strengthening of the coordination of emergency humanitarian assistance of the United Nations",
        "Eightieth session", "Item 74 (a) of the preliminary list", footnotes=37),
    "A_80_81.en.pdf": Expected(
        ("A/80/81", "E/2025/62"), 163, "29 April 2025", "Progress towards the Sustainable Development Goals",
        "Eightieth session", "Item 18 of the preliminary list", footnotes=1,
        parts=(("figure", "Figure I", 17), ("figure", "Figure II", 18))),
    "A_80_86.en.pdf": Expected(
        ("A/80/86", "E/2025/71"), 112, "20 May 2025", "Assistance to the Palestinian people",
        "Eightieth session", "Item 74 of the preliminary list"),
    "E_2025_28.en.pdf": Expected(
        ("E/2025/28", "E/CN.7/2025/11"), 174, "3 April 2025", "Commission on Narcotic Drugs", footnotes=7,
        parts=(("text", "Draft decision I", 1), ("text", "Draft decision II", 1),
               *(("text", f"Resolution 68/{i}", 2) for i in range(1, 7)),
               *(("text", f"Decision 68/{i}", 2) for i in range(1, 8)))),
    "E_CN.5_2025_4.en.pdf": Expected(
        ("E/CN.5/2025/4",), 109, "10 January 2025", "Policies and programmes involving youth",
        "Sixty-third session", "Item 3 (b) (ii) of the provisional agenda", footnotes=7),
    "S_2025_194.en.pdf": Expected(
        ("S/2025/194",), 82, "28 March 2025", "Report of the Secretary-General on Somalia",
        parts=(("annex", "Annex", 82),)),
    "S_2025_303.en.pdf": Expected(
        ("S/2025/303",), 64, "12 May 2025",
        "Letter of 9 May 2025 from the Secretary-General addressed to the President of the Security Council",
        footnotes=66, parts=(("figure", "Map I", 7), ("figure", "Map 2", 16), ("figure", "Figure I", 22),
                             ("figure", "Figure II", 24), ("figure", "Figure III", 26), ("figure", "Figure IV", 38))),
    "S_2025_389.en.pdf": Expected(
        ("S/2025/389",), 88, "15 July 2025", "Conflict-related sexual violence", footnotes=2,
        parts=(("annex", "Annex", 88), ("annex", "Appendix", 88))),
    "S_2025_420.en.pdf": Expected(
        ("S/2025/420",), 56, "27 June 2025",
        "Letter dated 26 June 2025 from the Secretary-General addressed to the President of the Security Council",
        footnotes=73, parts=(("figure", "Map 1", 3), ("figure", "Map 2", 3), ("figure", "Map 3", 28),
                             ("annex", "Annex", 56))),
}


@pytest.fixture(scope="module")
def reports():
    """Each sample parsed once for the module (load_pdf caches only the last four)."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = load_pdf(SAMPLES / name)
        return cache[name]
    return get


# --- the ten samples -----------------------------------------------------------------------------


@needs_samples
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_paragraphs_run_1_to_n(reports, name):
    report = reports(name)
    assert [p.number for p in report.paragraphs] == list(range(1, EXPECTED[name].paragraphs + 1))
    assert all(p.text and p.text[0] not in " ." for p in report.paragraphs)


@needs_samples
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cover(reports, name):
    report, expected = reports(name), EXPECTED[name]
    assert report.symbol == expected.symbols[0]
    assert report.symbols == expected.symbols
    assert (report.title, report.date) == (expected.title, expected.date)
    assert (report.session, report.agenda_item) == (expected.session, expected.agenda_item)
    assert report.language == "en"
    assert report.source == name and len(report.sha256) == 64


@needs_samples
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_acronym_garbles_in_born_digital_reports(reports, name):
    # The samples are typeset, not scanned: the garble detector (ingest/acronyms.py) finds none in
    # them, though they hold near pairs it must keep apart (ESCAP/ESCWA, UNCT/UNOCT, UNSOM/UNSOS).
    report = reports(name)
    assert report.acronym_variants == {}
    assert all(p.search_text == search_text(p.text) for p in report.paragraphs)


@needs_samples
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parts_kept_apart(reports, name):
    report, expected = reports(name), EXPECTED[name]
    assert [(p.kind, p.label, p.after) for p in report.parts] == list(expected.parts)
    assert len(report.footnotes) == expected.footnotes


_SUPERSCRIPT = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_HYPHENS = re.compile("[-\u00ad\u2010\u2011\ufffe\x02]")


def _words_and_digits(text: str) -> tuple[Counter, Counter]:
    """The letters-only words of a text and its digits (hyphens and line ends dropped: a word
    broken at a line end counts once, joined or not). Digits are counted one by one because
    pdfium's own text glues a footnote marker to the number before it ("1971" "⁵" -> "19715")."""
    text = _SUPERSCRIPT.sub(lambda m: " " + m.group(0).translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")) + " ",
                            text)
    text = re.sub(r"[ \t]*[-\u00ad\ufffe\x02][ \t]*\r?\n[ \t]*", "", text)  # "crimi-\nnal" -> "criminal"
    text = _HYPHENS.sub("", text)
    return Counter(re.findall(r"[^\W\d_]+", text)), Counter(re.findall(r"\d", text))


def _unit_texts(report) -> list[str]:
    texts = [*report.front_matter, report.summary, *(h.title for h in report.headings),
             *(p.text for p in report.paragraphs), *report.footnotes.values()]
    texts += [str(p.number) for p in report.paragraphs] + [str(n) for n in report.footnotes]  # "N." and "¹" as keys
    for part in report.parts:
        texts += [part.title, *(h.title for h in part.headings), *(p.text for p in part.paragraphs),
                  *part.footnotes.values(), *(str(p.number) for p in part.paragraphs if p.number),
                  *(str(n) for n in part.footnotes)]
    return texts


# What a running head, footer or cover stamp is made of: symbols, page numbers, job numbers
# ("25-06521 (E) 190525", "GE.25-00925"), barcodes, the footnote rule.
_FURNITURE = re.compile(r"(?:[A-Z][A-Z0-9.]*(?:/[A-Za-z0-9.]+)+\*?(?:[-−–][A-Z][A-Z0-9.]*(?:/[A-Za-z0-9.]+)+\*?)*"
                        r"|\d{1,3}(?:/\d{1,3})?|[ivxlc]+|(?:GE\.)?\d{2}-\d{5}|\(E\)|\d{6}|\*\d+\*|_{5,})"
                        r"(?: (?:[A-Z][A-Z0-9.]*(?:/[A-Za-z0-9.]+)+\*?|\d{1,3}(?:/\d{1,3})?|(?:GE\.)?\d{2}-\d{5}"
                        r"|\(E\)|\d{6}))*")


@needs_samples
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_word_lands_in_exactly_one_unit(reports, name):
    """pdfium's own text of every page (its line assembly, not ours) against the units: the
    same words and digits, less only the lines dropped as page furniture, and every dropped line
    is furniture."""
    report = reports(name)
    document = pdfium.PdfDocument(SAMPLES / name)
    pages_text = "\f".join(page.get_textpage().get_text_range() for page in document)  # no join across pages
    document.close()
    printed_words, printed_digits = _words_and_digits(pages_text)
    unit_words, unit_digits = Counter(), Counter()
    for text in _unit_texts(report):
        words, digits = _words_and_digits(text)
        unit_words += words
        unit_digits += digits
    dropped_words, dropped_digits = Counter(), Counter()
    for line in report.page_furniture:
        assert _FURNITURE.fullmatch(line), f"dropped a line that is no page furniture: {line!r}"
        words, digits = _words_and_digits(line)
        dropped_words += words
        dropped_digits += digits
    assert unit_words + dropped_words == printed_words
    assert unit_digits + dropped_digits == printed_digits


@needs_samples
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_page_furniture_in_the_text(reports, name):
    report = reports(name)
    jobs = {m.group(0) for line in report.page_furniture if (m := re.search(r"\d{2}-\d{5}", line))}
    total = len(pdfium.PdfDocument(SAMPLES / name))
    page_numbers = re.compile(rf"(?<![\w/])\d{{1,3}}/{total}(?![\w/])")
    texts = [p.text for p in report.paragraphs] + list(report.footnotes.values())
    texts += [p.text for part in report.parts for p in part.paragraphs]
    for text in texts:
        assert not any(job in text for job in jobs)
        assert not page_numbers.search(text) and not re.search(r"\*\d{7}\*", text) and "____" not in text
    running_head = re.compile(rf"(?<!\S){re.escape(report.symbol)}(?!\S)")
    assert not any(running_head.fullmatch(p.text) for p in report.paragraphs)


@needs_samples
def test_a_paragraph_split_by_a_page_is_one(reports):
    report = reports("S_2025_303.en.pdf")
    p3 = report.paragraph(3)
    assert p3.pages == (2, 3) and p3.split_by_page_break
    assert p3.text.startswith("Authorities in Haiti and multiple countries have enhanced their action")
    assert ("Canada has likewise increased its focus on Haitian organized criminal groups and related criminal "
            "interests domestically.") in p3.text
    assert p3.text.endswith("initiated at least nine prosecutions against arms traffickers in Haiti.")
    # The footnote printed between the two halves is no part of the text.
    assert "Presidential Decree" not in p3.text


@needs_samples
def test_footnotes_go_to_the_paragraph_with_the_marker(reports):
    report = reports("S_2025_303.en.pdf")
    assert list(report.footnotes) == list(range(1, 67))
    assert report.paragraph(3).footnotes == [report.footnotes[1]]
    assert report.footnotes[1].startswith("Presidential Decree no. 104-25, signed by the President, Luis Abinader")
    assert "trafficking in persons¹." in report.paragraph(3).text
    assert report.paragraph(6).footnotes == ["Known as “Kamikaze drones” in Haiti.",
                                             "See https://insightcrime.org/news/drones-fuel-criminal-arms-race-"
                                             "latin-america/."]
    # Every footnote belongs to exactly one paragraph: read in paragraph order, they are 1..66.
    assert [note for p in report.paragraphs for note in p.footnotes] == list(report.footnotes.values())


@needs_samples
def test_footnotes_without_a_rule(reports):
    # A/80/62 sets its footnotes in smaller type with no rule above them.
    report = reports("A_80_62.en.pdf")
    assert list(report.footnotes) == list(range(1, 84))
    assert report.paragraph(1).footnotes[0].startswith("Association for Progressive Communications (APC)")
    assert report.footnotes[12].startswith("https://www.unescwa.org/events/arab-consultations-wsis20")


@needs_samples
def test_headings_give_each_paragraph_its_section(reports):
    haiti = reports("S_2025_303.en.pdf")
    assert haiti.paragraph(4).section == ("I. Introduction", "Expanding influence of organized criminal groups")
    assert haiti.paragraph(1).section == ("I. Introduction",)
    assert [h.label for h in haiti.headings if h.level == 1] == ["I", "II", "III", "IV"]
    cnd = reports("E_2025_28.en.pdf")
    assert cnd.paragraph(31).section == (
        "Chapter IV Implementation of the international drug control treaties", "A. Deliberations",
        "1. Changes in the scope of control of substances",
        "(a) Consideration of a proposal from the World Health Organization to place N-pyrrolidino "
        "protonitazene in Schedule I of the 1961 Convention as amended")  # as printed
    assert {h.label: h.paragraphs for h in cnd.headings}["III"] == tuple(range(9, 24))
    youth = reports("E_CN.5_2025_4.en.pdf")
    assert youth.paragraph(18).section[1:] == (
        "A. Investing in youth: enhancing social protection for poverty alleviation, food security and health",
        "1. Overview")
    # "I." right after "H." is the letter I, not section I.
    somalia = reports("S_2025_194.en.pdf")
    assert {h.label: h.level for h in somalia.headings}["III.I"] == 2
    # An underlined heading in plain type.
    wsis = reports("A_80_62.en.pdf")
    assert wsis.paragraph(42).section[-2:] == (
        "(g) Information and communications technology applications (C7)", "E-government")


@needs_samples
def test_resolutions_keep_their_own_numbering(reports):
    report = reports("E_2025_28.en.pdf")
    parts = {p.label: p for p in report.parts}
    first = parts["Resolution 68/1"]
    assert first.title.startswith("Resolution 68/1 Promoting comprehensive, scientific evidence-based")
    assert [p.number for p in first.paragraphs if p.number] == list(range(1, 10))
    assert first.paragraphs[0].text == "The Commission on Narcotic Drugs,"
    assert next(p for p in first.paragraphs if p.number == 1).text.startswith(
        "Encourages Member States to implement scientific evidence-based drug use prevention programmes")
    agenda = parts["Draft decision I"]
    assert [p.number for p in agenda.paragraphs if p.number] == list(range(1, 13))
    assert report.paragraph(2).text == ("The following resolutions and decisions adopted by the Commission are "
                                        "brought to the attention of the Economic and Social Council:")
    assert report.paragraph(3).section == ("Chapter II General debate",)
    # Resolutions number their footnotes on from the report's: 1-39 there, 40-46 in the report.
    assert sorted(n for p in report.parts for n in p.footnotes) == list(range(1, 40))
    assert list(report.footnotes) == list(range(40, 47))


@needs_samples
def test_an_annex_ends_the_report_paragraphs(reports):
    report = reports("S_2025_389.en.pdf")
    annex = report.parts[0]
    assert annex.title.startswith("Annex List of parties credibly suspected of committing")
    assert annex.footnotes == {1: "The terminology used for all parties to the conflict in the Syrian Arab "
                                  "Republic pertains to the period from 1 January to 8 December 2024."}
    assert report.footnotes[1].startswith("For the purposes of the present report, the present section")
    assert [p.number for p in annex.paragraphs if p.number][:4] == [1, 2, 1, 2]


@needs_samples
def test_figures_are_parts_not_sections(reports):
    report = reports("S_2025_420.en.pdf")
    assert not any("Map" in title for p in report.paragraphs for title in p.section)
    assert [p.title for p in report.parts if p.kind == "figure"][0] == (
        "Map 1 Expansion of criminal groups across Port-au-Prince from March to June 2025")


@needs_samples
def test_line_end_hyphens_follow_the_documents_words(reports):
    # A/80/86 writes "lifesaving" twice and "life-saving" once: "life -|saving" is one word.
    assert "in the scale of lifesaving" in reports("A_80_86.en.pdf").paragraph(111).text
    # "twenty-|ninth": no other evidence, and UN reports are not hyphenated: the hyphen stays.
    assert "the twenty-ninth session" in " ".join(p.text for p in reports("A_80_81.en.pdf").paragraphs)
    # "conflict-|related": the report writes "conflict-related" elsewhere.
    crsv = reports("S_2025_389.en.pdf")
    assert "conflictrelated" not in " ".join(p.text for p in crsv.paragraphs)


# --- the hyphen rule on its own ------------------------------------------------------------------


def test_hyphen_rule():
    vocab = _Vocabulary(["criminal cases and criminal courts", "non-governmental bodies", "a crimi-",
                         "nal court", "the non-", "governmental ones", "capacity and building"])
    assert vocab.join("a crimi-", "nal court") == "a criminal court"  # "criminal" is written elsewhere
    assert vocab.join("the non-", "governmental ones") == "the non-governmental ones"  # so is the compound
    assert vocab.join("capacity-", "building") == "capacity-building"  # no evidence: the hyphen stays
    assert vocab.join("non-", "State actors") == "non-State actors"  # a capital after it: a real hyphen
    assert vocab.join("see www.un.org/en/a-", "b-c.html") == "see www.un.org/en/a-b-c.html"
    assert vocab.join("drug -", "related") == "drug-related"  # the space pdfium read into the break
    assert vocab.join("inter\u00ad", "national") == "international"  # a soft hyphen is only a break point
    assert vocab.join("end of", "line") == "end of line"


def test_a_hyphenating_document_joins_unknown_breaks():
    # Evidence that this document breaks words at line ends ("informa-|tion", "informa-|tion"
    # against "information" written elsewhere): a break with no evidence and no word on either
    # side is then a broken word too.
    lines = ["information and information", "the informa-", "tion of", "more informa-", "tion here", "a transfor-",
             "mation"]
    vocab = _Vocabulary(lines)
    assert vocab.hyphenates
    assert vocab.join("a transfor-", "mation") == "a transformation"


def test_language():
    assert detect_language("The report of the Secretary-General on the situation in Haiti is submitted") == "en"
    assert detect_language("Le présent rapport est soumis en application de la résolution et des décisions") == "fr"
    assert detect_language("2025 UNODC 12") == ""


# --- a tiny report written here -------------------------------------------------------------------


def _pdf(pages: list[list[tuple]], size=(612, 792)) -> bytes:
    """A PDF of text objects: each page a list of (x, y, text, font, size) in points."""
    document = pdfium.PdfDocument.new()
    for items in pages:
        page = document.new_page(*size)
        for x, y, text, font, points in items:
            obj = pdfium_raw.FPDFPageObj_NewTextObj(document.raw, font.encode(), points)
            buffer = ctypes.create_string_buffer((text + "\0").encode("utf-16-le"))
            pdfium_raw.FPDFText_SetText(obj, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)))
            pdfium_raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, y)
            pdfium_raw.FPDFPage_InsertObject(page.raw, obj)
        pdfium_raw.FPDFPage_GenerateContent(page.raw)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


R, B = "Times-Roman", "Times-Bold"
M = 123.4  # the left margin; paragraph text after the number starts 24 points further


def _para(y, number, first, *rest):
    """A numbered paragraph: the number at the margin, a tab, then lines 12 points apart."""
    items = [(M, y, f"{number}.", R, 10), (M + 24, y, first, R, 10)]
    items += [(M, y - 12 * (i + 1), line, R, 10) for i, line in enumerate(rest)]
    return items


def _mini_report() -> bytes:
    cover = [(M, 734, "United Nations", R, 14), (480, 735.5, "S/2099/1", R, 10),
             (M, 705.6, "Security Council", B, 20), (397, 693.6, "Distr.: General", R, 10),
             (397, 681.6, "3 March 2099", R, 10), (397, 669.6, "Original: English", R, 10),
             (M, 600, "Report of the Secretary-General on a small test", B, 14),
             (103, 560, "I. Introduction", B, 12)]
    one = _para(535, 1, "The present report is submitted under resolution 1 of the Council and", "covers the year.")
    one.append((M + 75, 526.5, "1", R, 6.5))  # a superscript marker after "year."
    two = _para(505, 2, "The courts heard many cases. Their criminal division and the non-",
                "governmental bodies met on the crimi-", "nal proceedings before the page ends")
    notes = [(99.6, 120, "__________________", B, 8), (117, 110, "1", R, 5.5),
             (M, 107, "A footnote that runs on", R, 8.5)]
    footer = [(65, 44, "99-00001 (E) 030399", R, 10), (65, 30, "*9900001*", R, 12)]
    page2 = [(60, 733, "S/2099/1", B, 8.5), (M, 707.5, "and ends here.", R, 10),
             (103, 680, "II. Observations", B, 12),
             *_para(655, 3, "Criminal courts and non-governmental bodies are named again here."),
             (99.6, 120, "__________________", B, 8), (M, 107, "onto the next page.", R, 8.5),
             (60, 36.7, "2/2", B, 8.5), (524, 38, "99-00001", R, 7)]
    return _pdf([cover + one + two + notes + footer, page2])


@pytest.fixture
def mini_pdf(tmp_path) -> Path:
    path = tmp_path / "mini.pdf"
    path.write_bytes(_mini_report())
    return path


def test_mini_report(mini_pdf):
    report = load_any(mini_pdf)
    assert (report.symbol, report.date, report.language) == ("S/2099/1", "3 March 2099", "en")
    assert report.title == "Report of the Secretary-General on a small test"
    assert [p.number for p in report.paragraphs] == [1, 2, 3]
    one, two, three = report.paragraphs
    assert one.text == "The present report is submitted under resolution 1 of the Council and covers the year.¹"
    assert one.section == ("I. Introduction",) and three.section == ("II. Observations",)
    # The footnote runs on under the rule of the next page.
    assert one.footnotes == ["A footnote that runs on onto the next page."] == list(report.footnotes.values())
    # Joined across the page, "crimi-|nal" joined (the report writes "criminal"), "non-|governmental"
    # kept (it writes "non-governmental"), running head and footer dropped.
    assert two.text == ("The courts heard many cases. Their criminal division and the non-governmental bodies met on "
                        "the criminal proceedings before the page ends and ends here.")
    assert two.pages == (1, 2) and two.split_by_page_break
    assert sorted(report.page_furniture) == sorted(["99-00001 (E) 030399", "*9900001*", "S/2099/1", "2/2",
                                                    "99-00001", "__________________", "__________________"])
    assert [h.label for h in report.headings] == ["I", "II"]


def test_a_figure_inside_a_paragraph(tmp_path):
    # A figure floated into a paragraph: its label, caption and printed words make a part; the
    # body text running on in lower case after it goes back to the paragraph.
    path = tmp_path / "figure.pdf"
    path.write_bytes(_pdf([[(103, 720, "I. Introduction", B, 12),
                            *_para(695, 1, "Seizures rose sharply in the year, as the figure shows, and"),
                            (M, 665, "Figure I", R, 10), (M, 653, "Seizures by month", B, 10),
                            (M + 40, 600, "January February", R, 7),
                            (M, 570, "they kept rising afterwards.", R, 10),
                            *_para(550, 2, "The second paragraph.")]]))
    report = load_pdf(path)
    assert report.paragraph(1).text == ("Seizures rose sharply in the year, as the figure shows, and they kept rising "
                                        "afterwards.")
    [figure] = report.parts
    assert (figure.kind, figure.label, figure.title, figure.after) == ("figure", "Figure I",
                                                                        "Figure I Seizures by month", 1)
    assert [p.text for p in figure.paragraphs] == ["January February"]
    assert report.paragraph(2).section == ("I. Introduction",)


# --- what the reader refuses, and why --------------------------------------------------------------


@pytest.mark.parametrize("name, content, error, match", [
    ("report.pdf", b"Just some text, not a PDF.\n", ReportParseError,
     r"^report\.pdf: not a readable PDF \(.*Data format error"),
    ("empty.pdf", b"", PdfParseError, "^empty.pdf: the file is empty$"),
    ("report.docx", b"PK\x03\x04", ReportParseError, "unknown report format '.docx'"),
])
def test_a_file_that_is_no_report_is_refused_saying_why(tmp_path, name, content, error, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error, match=match):
        load_any(path)


def _handwritten_pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    out, offsets = b"%PDF-1.4\n", []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<</Size %d/Root 1 0 R%s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)


def test_an_encrypted_pdf(tmp_path):
    # The standard security handler with a user password the empty one does not open.
    path = tmp_path / "locked.pdf"
    path.write_bytes(_handwritten_pdf(
        [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[4 0 R]/Count 1>>",
         b"<</Filter/Standard/V 1/R 2/O<" + b"00" * 32 + b">/U<" + b"11" * 32 + b">/P -44>>",
         b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>"],
        b"/Encrypt 3 0 R/ID[<0123456789abcdef0123456789abcdef><0123456789abcdef0123456789abcdef>]"))
    with pytest.raises(PdfParseError, match="^locked.pdf: the PDF is encrypted"):
        load_pdf(path)


def test_a_pdf_without_text(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(_pdf([[]]))
    with pytest.raises(PdfParseError, match="page 1: no text layer") as info:
        load_pdf(path)
    assert info.value.page == 1


def test_a_pdf_without_numbered_paragraphs(tmp_path):
    path = tmp_path / "letter.pdf"
    path.write_bytes(_pdf([[(M, 700, "Dear colleague,", R, 10), (M, 688, "Thank you for your letter.", R, 10)],
                           [(M, 700, "Yours sincerely", R, 10)]]))
    with pytest.raises(PdfParseError, match="page 2: no numbered paragraph") as info:
        load_pdf(path)
    assert isinstance(info.value, ReportParseError)


def test_a_numbering_gap_names_the_page(tmp_path):
    path = tmp_path / "gap.pdf"
    path.write_bytes(_pdf([[(103, 720, "I. Introduction", B, 12), *_para(695, 1, "One."), *_para(677, 2, "Two.")],
                           [*_para(700, 4, "Four.")]]))
    with pytest.raises(PdfParseError, match=r"page 2: paragraph numbering skips from 2 to 4: '4\. Four\.'"):
        load_pdf(path)


def test_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_any(tmp_path / "missing.pdf")


# --- the seed, unchanged ---------------------------------------------------------------------------


def test_the_seed_loads_through_the_dispatcher_as_before():
    path = SEED
    through_dispatcher = load_any(path)
    # The file's name and the language of its paragraphs are set when read from a file.
    assert through_dispatcher == replace(parse_report(path.read_text(encoding="utf-8")), source=path.name,
                                         language="fr")
    assert [p.number for p in through_dispatcher.paragraphs] == list(range(1, 117))
    assert through_dispatcher.parts == [] and through_dispatcher.doc_id == "unodc-crime-prevention-report-2020"
