"""What the chat renders, without a server: escaping, citation links, sources, the reports view."""

from __future__ import annotations

from assistant import load_report
from assistant.app.ui import answer_markdown, card_id, escape_user_text, library_html, report_html, sources_html
from assistant.records import Answer, Citation, Passage, Quote

REPORT = load_report()
DOC = REPORT.doc_id
KEY = "unodc-crime-prevention-report-2020"  # the seed's id as HTML ids write it


def _passage(n: int, score: float, document: str = DOC) -> Passage:
    return Passage(n, REPORT.paragraph(n).section, REPORT.paragraph(n).text, score, unit_id=f"{document}#p{n}",
                   document=document)


def _answer(**kw) -> Answer:
    base = dict(question="q", text="Selon le rapport :\n« Au moment … comptait 187 parties. » (§46)",
                citations=[Citation(DOC, 46)], abstained=False, language="fr",
                passages=[_passage(46, 1.0), _passage(47, 0.5),
                          Passage(None, ("IV. x", "B. Lutte contre la corruption"), "B.", 0.4, kind="heading",
                                  document=DOC)],
                quotes=[Quote(46, REPORT.paragraph(46).text, DOC)])
    return Answer(**{**base, **kw})


def test_user_text_cannot_become_markup():
    for payload in ("<script>alert(1)</script>", '<img src=x onerror="alert(1)">',
                    "[x](javascript:alert(1))", "![x](http://evil/x.png)"):
        shown = escape_user_text(payload)
        assert "<" not in shown and "](" not in shown
    assert escape_user_text("L'ONUDC & co") == "L'ONUDC &amp; co"  # an apostrophe stays readable


def test_user_text_is_escaped_once():
    """"<", ">" and "&" become entities and nothing else: a backslash before "&gt;" showed "&gt;"."""
    assert escape_user_text("a > b & c < d") == "a &gt; b &amp; c &lt; d"
    assert escape_user_text("$$x^2$$ = y") == "\\$\\$x^2\\$\\$ \\= y"
    assert escape_user_text("1. liste\n2) deux") == "1\\. liste\n2\\) deux"
    assert escape_user_text("**gras** _x_ # titre") == "\\*\\*gras\\*\\* \\_x\\_ \\# titre"


def test_citations_become_links():
    md = answer_markdown(_answer())
    assert f'<a class="cite" href="#src-{KEY}-46" title="{DOC} §46">§46</a>' in md
    assert md.count('class="cite"') == 1


def test_citations_of_several_documents_link_to_their_own_cards():
    """Two documents' §4 in one answer: each mark links to its document's card; a "§N" that is
    no citation (a section's span, or a paragraph of a document not cited) is left as text."""
    a = _answer(text="The reports say:\n« a » (S/2025/303 §4)\n« b » (unodc-crime-prevention-report-2020 §4) §9",
                citations=[Citation("S/2025/303", 4), Citation(DOC, 4)], language="en")
    md = answer_markdown(a)
    assert '<a class="cite" href="#src-s-2025-303-4" title="S/2025/303 §4">S/2025/303 §4</a>' in md
    assert f'href="#src-{KEY}-4"' in md and ">unodc\\-crime\\-prevention\\-report\\-2020 §4</a>" in md
    assert md.count('class="cite"') == 2 and "§9" in md


def test_abstention_is_plain():
    md = answer_markdown(_answer(text="Le rapport ne le dit pas.", citations=[], abstained=True, quotes=[]))
    assert md.startswith('<span class="abstained">Le rapport ne le dit pas.</span>')
    en = answer_markdown(_answer(text="The report does not say.", citations=[], abstained=True, language="en"))
    assert "The report does not say" in en


def test_sources_cited_first_then_see_also():
    html_ = sources_html(_answer(), REPORT)
    assert html_.index(f'id="src-{KEY}-46"') < html_.index("Voir aussi") < html_.index(f'id="src-{KEY}-47"')
    assert f'<details class="source" id="src-{KEY}-46" open>' in html_
    assert f'<details class="source" id="src-{KEY}-47">' in html_
    assert "<mark>" in html_ and "B. Lutte contre la corruption" in html_
    assert f'href="#report-{KEY}-p46"' in html_ and "<summary>§46 " in html_
    english = sources_html(_answer(language="en"), {DOC: REPORT})
    assert "Cited paragraphs" in english and "See also" in english


def test_sources_of_several_documents_name_them():
    other = Passage(46, ("I. x",), "t", 0.9, unit_id="S/2025/303#p46", document="S/2025/303")
    html_ = sources_html(_answer(passages=[_passage(46, 1.0), other]), {DOC: REPORT, "S/2025/303": REPORT})
    assert f"<summary>{DOC} §46 " in html_ and "<summary>S/2025/303 §46 " in html_
    assert 'id="src-s-2025-303-46"' in html_ and 'href="#report-s-2025-303-p46"' in html_
    assert card_id(Citation("E/CN.5/2025/4", 3)) == "src-e-cn-5-2025-4-3"


def test_report_view_has_every_paragraph_anchor():
    view = report_html(REPORT)
    assert all(f"id='report-{KEY}-p{n}'" in view for n in range(1, 117))
    assert view.count("<script") == 0


def test_the_library_view_folds_each_document():
    assert library_html({DOC: REPORT}) == report_html(REPORT)  # one document: shown open, as before
    two = library_html({DOC: REPORT, "other": REPORT})
    assert two.count("<details class='doc'") == 2 and f"id='doc-{KEY}'" in two and "id='doc-other'" in two
