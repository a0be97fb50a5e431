"""The parser: the real report's structure, and a synthetic report in the same style."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from conftest import SEED

from assistant import ReportParseError, load_report
from assistant.ingest.markdown import parse_report
from assistant.text import display_text

WORD = re.compile(r"\w+")


@pytest.fixture(scope="module")
def report():
    return load_report()


def test_numbers_run_1_to_116_without_gap_or_repeat(report):
    assert [p.number for p in report.paragraphs] == list(range(1, 117))


def test_metadata(report):
    assert report.date == "23 juin 2020"
    assert report.session == "Soixante-quinzième session"
    assert report.agenda_item == "Point 111 de la liste préliminaire"
    assert report.title.startswith("Exécution des mandats relevant du programme")
    assert report.summary.startswith("Le présent rapport, établi en application de la résolution 74/177")


@pytest.mark.parametrize("number, head, tail", [
    (13, "Au moment de l'établissement", "énoncés dans le Programme 2030."),
    (40, "En application de la résolution 73/186", None),
    (59, "Depuis 2003, l'ONUDC", None),
    (72, "L'ONUDDC a aidé 32 États", "qui l'accompagne."),
    (109, "En ratifiant la Convention", None),
])
def test_page_breaks_are_joined(report, number, head, tail):
    p = report.paragraph(number)
    assert p.split_by_page_break
    assert p.text.startswith(head)
    if tail:
        assert p.text.endswith(tail)
    # The join is a single space between the two halves, never a blank or a footnote.
    assert "  " not in p.text and "<sup>" not in p.text and "www.unodc.org" not in p.text


def test_paragraph_13_reads_across_the_break(report):
    assert "Par ailleurs, dans le cadre du Programme mondial, plus de 70 pays" in report.paragraph(13).text


def test_footnotes_belong_to_the_paragraph_with_the_marker(report):
    assert report.paragraph(6).footnotes == ["www.unodc.org/unodc/covid-19-policy-documents.html."]
    # Footnote 2 is printed inside paragraph 59 but its marker stands in paragraph 55.
    assert report.paragraph(55).footnotes == ["www.unodc.org/comppauth_uncac/en/index.html."]
    assert report.paragraph(59).footnotes == []
    assert sum(len(p.footnotes) for p in report.paragraphs) == 2


def test_sections(report):
    assert report.paragraph(20).section == (
        "IV. Mesures prises par l'Office des Nations Unies contre la drogue et le crime dans les domaines "
        "d'intervention",
        "A. Renforcement de la coopération internationale et lutte contre la criminalité transnationale",
        "1. Criminalité transnationale organisée",
    )
    labels = {h.label: h for h in report.headings}
    assert labels["IV.E"].paragraphs == tuple(range(76, 83))
    assert labels["V.6"].paragraphs == (102, 103)
    assert labels["VI"].paragraphs == tuple(range(104, 117))
    assert report.paragraph(1).section == ("I. Introduction",)


def test_search_text_unifies_the_garbled_acronym(report):
    garbled = ("ONUSUDC", "ONUSD", "ONUDDC", "ONU DC", "ONUSUD")
    # Found in the report's own text (ingest/acronyms.py; tests/test_acronyms.py), not in code.
    assert report.acronym_variants == dict.fromkeys(sorted(garbled), "ONUDC")
    by_variant = {v: [p for p in report.paragraphs if v in p.text] for v in garbled}
    assert all(by_variant.values()), "each variant occurs in the display text"
    for paragraphs in by_variant.values():
        for p in paragraphs:
            assert "ONUDC" in p.search_text
            assert not re.search(r"\b(ONUSUDC|ONUSD|ONUDDC|ONU DC|ONUSUD)\b", p.search_text)
    assert "ONU-Habitat" in report.paragraph(18).search_text


def _source_words(source: str) -> Counter:
    words: Counter = Counter()
    for line in source.splitlines():
        line = re.sub(r"^#+\s*", "", line.strip())
        line = re.sub(r"^<sup>\d+</sup>\s*", "", line)
        words.update(WORD.findall(display_text(line)))
    return words


def _unit_words(report) -> Counter:
    words: Counter = Counter()
    pieces = [*report.front_matter, report.summary, *(h.title for h in report.headings),
              *(p.text for p in report.paragraphs), *report.footnotes.values()]
    for piece in pieces:
        words.update(WORD.findall(piece))
    words.update(str(p.number) for p in report.paragraphs)  # the "N." that opens each paragraph
    return words


def test_every_word_lands_in_exactly_one_unit(report):
    source = SEED.read_text(encoding="utf-8")
    assert _unit_words(report) == _source_words(source)


def test_synthetic_report(mini_report_text):
    r = parse_report(mini_report_text)
    assert [p.number for p in r.paragraphs] == [1, 2, 3, 4]
    assert r.date == "2 mai 2021" and r.summary.startswith("Le présent rapport résume")
    assert r.paragraphs[1].text == ("L'ONU DC a publié deux guides. Le premier porte sur la traite des "
                                    "personnes et le second sur la corruption.")
    assert r.paragraphs[0].footnotes == ["www.example.org/a.html."]
    assert r.paragraphs[0].text.endswith("en 2020¹.")
    assert r.paragraphs[3].section == ("II. Activités", "A. Corruption", "1. Détails")
    assert r.paragraphs[3].text == "L'ONUSUDC a ouvert un bureau à Nairobi."
    # ONUDC is written twice here: too few to prefer a spelling, so the garble is searched as printed.
    assert r.paragraphs[3].search_text == "L'ONUSUDC a ouvert un bureau à Nairobi."
    assert [h.label for h in r.headings] == ["I", "II", "II.A", "II.A.1"]
    assert _unit_words(r) == _source_words(mini_report_text)


@pytest.mark.parametrize("mutate, message, line", [
    (lambda s: s.replace("3. Le budget", "2. Le budget"), "goes backwards", 33),
    (lambda s: s.replace("4. L'ONUSUDC", "6. L'ONUSUDC"), "skips from 3 to 6", 37),
    (lambda s: s.replace("## I. Introduction\n\n", "## I. Introduction\n\nTexte orphelin.\n\n"),
     "outside any numbered paragraph", 20),
    (lambda s: s.replace("<sup>1</sup> [www", "<sup>3</sup> [www"), "footnote 3 has no marker", 25),
    (lambda s: s.replace("### 1. Détails", "### Détails"), "without a section label", 35),
])
def test_unparseable_reports_name_the_line(mini_report_text, mutate, message, line):
    with pytest.raises(ReportParseError, match=message) as info:
        parse_report(mutate(mini_report_text))
    assert info.value.line == line
    assert str(info.value).startswith(f"line {line}:")


def test_not_a_report():
    with pytest.raises(ReportParseError, match="no numbered paragraph"):
        parse_report("# Hello\n\nJust some text.\n")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="report not found"):
        load_report(tmp_path / "nope.md")
