"""The chat in a real browser: Debian's Chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import shutil

import pytest
from conftest import ARTIFACTS

pytestmark = pytest.mark.browser

KEY = "unodc-crime-prevention-report-2020"  # the seed's id in the page's element ids
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def page(server_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium") and not __import__("os").path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed (make browser-deps)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.external_requests = []
        # Every Content-Security-Policy violation of the session, for the last test: the policy
        # must block nothing the chat needs.
        page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                             "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
        page.on("request", lambda r: r.url.startswith((server_url, "data:", "blob:"))
                or page.external_requests.append(r.url))
        # Not "networkidle": the chat keeps per-session state, so Gradio holds a heartbeat
        # connection open for as long as the page lives.
        page.goto(server_url + "/", wait_until="load", timeout=60_000)
        page.locator("#question textarea").wait_for(timeout=60_000)
        yield page
        browser.close()



def _ask(page, question: str):
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def test_ask_click_citation_see_paragraph(page):
    _ask(page, "Combien d'États sont parties à la Convention contre la corruption ?")
    citation = page.locator("#chat a.cite").first
    citation.wait_for(timeout=30_000)
    assert citation.inner_text() == "§46"
    citation.click()
    card = page.locator(f"#src-{KEY}-46")
    card.wait_for(state="visible", timeout=5_000)
    assert card.evaluate("el => el.open") is True
    assert "187 parties" in card.inner_text()
    assert "187 parties" in card.locator("mark").first.inner_text()  # the quoted sentence, highlighted
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-citation.png"), full_page=True)


def test_read_around_opens_the_report_at_the_paragraph(page):
    page.locator(f"#src-{KEY}-46 a.goto").click()
    paragraph = page.locator(f"#report-{KEY}-p46")
    paragraph.wait_for(state="visible", timeout=5_000)
    assert paragraph.inner_text().startswith("46.")
    page.get_by_role("tab", name="Chat").click()


def _ask_and_wait(page, question: str):
    before = page.locator("#chat .message").count()
    _ask(page, question)
    page.wait_for_function("n => document.querySelectorAll('#chat .message').length >= n",
                           arg=before + 2, timeout=30_000)
    page.wait_for_function("() => !document.querySelector('#chat .message:last-child')"
                           "?.innerText.trim().endsWith('…')", timeout=30_000)
    return page.locator("#chat .message").last


def test_a_follow_up_is_read_with_the_question_before_it(page):
    _ask_and_wait(page, "Combien d'utilisateurs ont consulté SHERLOC en 2019 ?")
    reply = _ask_and_wait(page, "et en 2018 ?")
    text = reply.inner_text()
    assert "Question comprise comme" in text and "SHERLOC en 2018" in text
    assert reply.locator("a.cite").first.inner_text() == "§24"


def test_the_document_picker_restricts_the_question(page):
    """The picker lists the library's documents; with one chosen, the answer comes from it."""
    page.locator("#documents input").click()
    option = page.locator("#documents [role=option]", has_text=KEY).first
    option.wait_for(timeout=5_000)
    option.click()
    page.keyboard.press("Escape")
    assert KEY in page.locator("#documents").inner_text()
    reply = _ask_and_wait(page, "Combien d'États sont parties à la Convention contre la corruption ?")
    assert reply.locator("a.cite").first.inner_text() == "§46"


@pytest.mark.parametrize("payload", [
    "<script>window.__xss = 1</script>Combien de parties ?",
    "<img src=x onerror=\"window.__xss = 1\"> how many parties?",
    "[cliquez](javascript:window.__xss=1) ![x](javascript:window.__xss=1) combien ?",
])
def test_user_input_cannot_inject_markup(page, payload):
    _ask_and_wait(page, payload)
    assert page.evaluate("window.__xss") is None
    chat = page.locator("#chat")
    assert chat.locator("script").count() == 0
    assert chat.locator("img[src='x']").count() == 0
    assert chat.locator("a[href^='javascript']").count() == 0


def test_typed_text_is_shown_as_typed_once(page):
    """A typed ">" showed as "&gt;" (escaped twice)."""
    typed = "Combien de parties ? a > b & c < d, *pas* `code`, 1. liste"
    _ask_and_wait(page, typed)
    assert typed in page.locator("#chat").inner_text()
    assert "&gt;" not in page.locator("#chat").inner_text()


def test_typed_maths_is_not_rendered(page):
    """"$$…$$" in a question rendered as maths."""
    _ask_and_wait(page, "Combien de parties ? $$x^2 + \\frac{1}{2}$$")
    assert page.locator("#chat .katex, #chat math").count() == 0
    assert "$$x^2 + \\frac{1}{2}$$" in page.locator("#chat").inner_text()


def test_the_content_security_policy_blocked_nothing(page):
    """After all the above (asking, citations, the report tab, the payloads): the policy sent with
    the page blocked none of what the chat does."""
    assert page.evaluate("window.__csp") == []


def test_the_page_loaded_nothing_from_outside(page):
    """After all the above: no web fonts, CDN or analytics (the chat must work air-gapped)."""
    assert page.external_requests == []
