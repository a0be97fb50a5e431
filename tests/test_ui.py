"""What the chat renders, without a server: escaping, citation links, sources, the report view."""

from __future__ import annotations

from assistant import load_report
from assistant.records import Answer, Passage, Quote
from assistant.ui import answer_markdown, escape_user_text, report_html, sources_html

REPORT = load_report()


def _answer(**kw) -> Answer:
    base = dict(question="q", text="Selon le rapport :\n« Au moment … comptait 187 parties. » (§46)",
                citations=[46], abstained=False, language="fr",
                passages=[Passage(46, REPORT.paragraph(46).section, REPORT.paragraph(46).text, 1.0, unit_id="p46"),
                          Passage(47, REPORT.paragraph(47).section, REPORT.paragraph(47).text, 0.5, unit_id="p47"),
                          Passage(None, ("IV. x", "B. Lutte contre la corruption"), "B.", 0.4, kind="heading")],
                quotes=[Quote(46, REPORT.paragraph(46).text)])
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
    assert '<a class="cite" href="#src-46" title="§46">§46</a>' in md
    assert md.count('class="cite"') == 1


def test_abstention_is_plain():
    md = answer_markdown(_answer(text="Le rapport ne le dit pas.", citations=[], abstained=True, quotes=[]))
    assert md.startswith('<span class="abstained">Le rapport ne le dit pas.</span>')
    en = answer_markdown(_answer(text="The report does not say.", citations=[], abstained=True, language="en"))
    assert "The report does not say" in en


def test_sources_cited_first_then_see_also():
    html_ = sources_html(_answer(), REPORT)
    assert html_.index('id="src-46"') < html_.index("Voir aussi") < html_.index('id="src-47"')
    assert '<details class="source" id="src-46" open>' in html_ and '<details class="source" id="src-47">' in html_
    assert "<mark>" in html_ and "B. Lutte contre la corruption" in html_
    assert 'href="#report-p46"' in html_
    english = sources_html(_answer(language="en"), REPORT)
    assert "Cited paragraphs" in english and "See also" in english


def test_report_view_has_every_paragraph_anchor():
    view = report_html(REPORT)
    assert all(f"id='report-p{n}'" in view for n in range(1, 117))
    assert view.count("<script") == 0
