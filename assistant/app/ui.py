"""The Gradio chat. It calls only ``answer()`` (and reads the library's reports for the reading view).

A picker above the chat restricts the question to some documents (empty: the whole library).
Every citation in an answer is a link; a click opens that paragraph in the sources panel under
the chat (document, number, section path, the quoted sentences highlighted), and from there "read
it in the report" jumps to the paragraph in the reports tab. All text that reaches the page, the
user's and the reports', is escaped here: nothing a user types can become markup.
"""

from __future__ import annotations

import html
import logging
import os
import queue
import re
import threading
import time
from dataclasses import asdict

from ..compose.answering import answer
from ..library import library_examples
from ..records import Answer, Citation, Report, slug
from ..settings import Settings

log = logging.getLogger(__name__)

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home: the app runs offline
# Gradio's queue recomputes the summary of its monitoring page (a pandas DataFrame of the last
# 10,000 events, grouped) after every event, in the serving process: ~6 ms of CPU per request once
# the history has grown, for a page this app does not show. Computed once per this many events.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000000")

# Markdown's punctuation, escaped with a backslash. "<", ">" and "&" are not among them: they
# become HTML entities instead, once (a backslash before "&gt;" showed "&gt;" itself). "=" and
# "$" too: a line of "=" makes a heading, "$" opens maths in some renderers.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+!|~=$-])")
_ORDERED_LIST = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)  # "1. " at a line's start is a list item

# The chat's example questions are the library's (``library.library_examples``: a file beside each
# document); these, which any report can take, when no document has any.
GENERIC_EXAMPLES = [
    "Quelles sont les recommandations du rapport ?",
    "What does the report recommend?",
    "Que couvre la section II ?",
    "What are the main challenges the report describes?",
]

LABELS = {
    "fr": {"cited": "Paragraphes cités", "see_also": "Voir aussi", "read": "Lire dans le rapport",
           "abstained": "Le rapport ne le dit pas", "rewritten": "Question comprise comme"},
    "en": {"cited": "Cited paragraphs", "see_also": "See also", "read": "Read it in the report",
           "abstained": "The report does not say", "rewritten": "Question understood as"},
}
PICKER_LABEL = "Documents interrogés (aucun choisi : tous) / Documents searched (none chosen: all)"

CSS = """
.cite { font-weight: 600; text-decoration: none; border-bottom: 1px dotted; cursor: pointer; }
details.source { border: 1px solid #d0d7de; border-radius: 6px; padding: 6px 10px; margin: 6px 0; }
details.source > summary { cursor: pointer; font-weight: 600; }
details.source .path { color: #57606a; font-size: 0.9em; font-weight: 400; }
mark { background: #fff3a3; }
.flash { outline: 3px solid #f0b400; transition: outline 0.3s; }
.abstained { color: #8a4b00; font-weight: 600; }
#report-view p { margin: 0.4em 0; }
.report-header { font-size: 0.95em; color: #444; }
"""

# A click on a citation opens its source card; a click on "read it in the report" opens the
# reports tab at the paragraph (opening its document's fold). Delegated at the document, in the
# capture phase, so it works for messages added later and before any default link handling.
HEAD = """
<script>
document.addEventListener('click', function (event) {
  const link = event.target.closest('a.cite, a.goto');
  if (!link) return;
  event.preventDefault();
  const target = (link.getAttribute('href') || '').replace(/^#/, '');
  function flash(el) { el.classList.add('flash'); setTimeout(() => el.classList.remove('flash'), 1600); }
  if (link.classList.contains('cite')) {
    const card = document.getElementById(target);
    if (card) { card.open = true; card.scrollIntoView({block: 'center'}); flash(card); }
  } else {
    const tab = Array.from(document.querySelectorAll('button[role="tab"]'))
      .find(b => b.textContent.includes('Rapport'));
    if (tab) tab.click();
    setTimeout(() => {
      const p = document.getElementById(target);
      if (!p) return;
      const fold = p.closest('details');
      if (fold) fold.open = true;
      p.scrollIntoView({block: 'center'});
      flash(p);
    }, 400);
  }
}, true);
</script>
"""


def anchor(document: str) -> str:
    """A document id as it goes into HTML ids: "S/2025/303" -> "s-2025-303"."""
    return slug(document).replace(".", "-") or "document"


def card_id(c: Citation) -> str:
    """The id of a paragraph's card in the sources panel: "src-s-2025-303-12"."""
    return f"src-{anchor(c.document)}-{c.paragraph}"


def paragraph_id(c: Citation) -> str:
    """The id of a paragraph in the reports tab: "report-s-2025-303-p12"."""
    return f"report-{anchor(c.document)}-p{c.paragraph}"


def escape_user_text(text: str) -> str:
    """Text shown as typed, exactly once: "<", ">" and "&" as HTML entities, markdown's
    punctuation backslash-escaped (no links, images, emphasis, headings or lists). The chat
    renders it as markdown (sanitized, no LaTeX), which turns both back into the characters."""
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))
    return _ORDERED_LIST.sub(r"\1\\\2", escaped)


def answer_markdown(result: Answer) -> str:
    """The chat bubble: the answer's text, escaped, with each citation ("§N" or "S/2025/303 §N")
    turned into a link to its card. Only the answer's citations become links: a "§N" is
    linked to the cited paragraph N of the document it names, or, written without one, of the
    only cited document that has a paragraph N."""
    labels = LABELS[result.language]
    body = escape_user_text(result.text)
    documents = sorted({c.document for c in result.citations}, key=len, reverse=True)
    named = "|".join(re.escape(escape_user_text(d)) for d in documents)
    by_shown = {escape_user_text(d): d for d in documents}
    cited = set(result.citations)

    def link(m: re.Match) -> str:
        number = int(m.group(2))
        if m.group(1):
            target = Citation(by_shown[m.group(1)], number)
        else:
            options = [c for c in cited if c.paragraph == number]
            target = options[0] if len(options) == 1 else None
        if target not in cited:
            return m.group(0)
        return f'<a class="cite" href="#{card_id(target)}" title="{html.escape(target.label)}">{m.group(0)}</a>'

    pattern = rf"(?:({named}) )?§(\d{{1,4}})" if named else r"()§(\d{1,4})"
    body = re.sub(pattern, link, body)
    if result.abstained:
        body = f'<span class="abstained">{labels["abstained"]}.</span> ' + body
    if result.standalone_question:
        body = f"*{labels['rewritten']} : {escape_user_text(result.standalone_question)}*\n\n" + body
    return body


def _highlighted(text: str, quotes: list[str]) -> str:
    """Paragraph text, escaped, with the quoted sentences wrapped in <mark>."""
    spans = sorted((text.find(q), text.find(q) + len(q)) for q in quotes if q and q in text)
    out, at = [], 0
    for start, end in spans:
        if start < at:
            continue
        out += [html.escape(text[at:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def _library(reports: dict[str, Report] | Report) -> dict[str, Report]:
    return {reports.doc_id: reports} if isinstance(reports, Report) else reports


def sources_html(result: Answer | None, reports: dict[str, Report] | Report) -> str:
    """Cited paragraphs first (open), then the other retrieved units as "see also". ``reports``:
    doc id -> Report (a lone Report for a library of one)."""
    if result is None:
        return ""
    library = _library(reports)
    several = len({c.document for c in result.citations} | {p.document for p in result.passages}) > 1
    labels = LABELS[result.language]
    parts = []
    if result.citations:
        parts.append(f"<h4>{labels['cited']}</h4>")
        for c in result.citations:
            quotes = [q.sentence for q in result.quotes if q.citation == c]
            parts.append(_card(library[c.document], c, quotes, labels, open_=True, several=several))
    others = [p for p in result.passages if p.citation not in result.citations]
    if others:
        parts.append(f"<h4>{labels['see_also']}</h4>")
        for p in others:
            if p.citation is not None and p.document in library:
                parts.append(_card(library[p.document], p.citation, [], labels, open_=False, several=several))
            else:
                where = f"{p.document} · " if several else ""
                parts.append(f'<div class="source-heading">{html.escape(where + " > ".join(p.section))}</div>')
    return "\n".join(parts)


def _card(report: Report, c: Citation, quotes: list[str], labels: dict, open_: bool, several: bool) -> str:
    p = report.paragraph(c.paragraph)
    path = html.escape(" > ".join(p.section))
    notes = "".join(f"<div class='note'>{html.escape(n)}</div>" for n in p.footnotes)
    shown = html.escape(c.label if several else f"§{c.paragraph}")
    return (f'<details class="source" id="{card_id(c)}"{" open" if open_ else ""}>'
            f'<summary>{shown} <span class="path">{path}</span></summary>'
            f"<p>{_highlighted(p.text, quotes)}</p>{notes}"
            f'<a class="goto" href="#{paragraph_id(c)}">{labels["read"]} ↗</a></details>')


def library_html(reports: dict[str, Report] | Report) -> str:
    """Every report of the library, each in a fold of its own (open when it is the only one),
    with an anchor per paragraph (``report-<document>-pN``)."""
    library = _library(reports)
    if len(library) == 1:
        return report_html(next(iter(library.values())))
    folds = []
    for doc, report in library.items():
        title = html.escape(f"{doc} — {report.title}")
        folds.append(f"<details class='doc' id='doc-{anchor(doc)}'><summary>{title}</summary>"
                     f"{report_html(report)}</details>")
    return "".join(folds)


def report_html(report: Report) -> str:
    """The whole report with an anchor per paragraph (``report-<document>-pN``)."""
    header = " · ".join(html.escape(x) for x in (report.doc_id, report.session, report.agenda_item, report.date) if x)
    summary_title = "Résumé" if report.language == "fr" else "Summary"
    parts = [f"<h2>{html.escape(report.title)}</h2>", f"<p class='report-header'>{header}</p>"]
    if report.summary:
        parts.append(f"<h3>{summary_title}</h3><p>{html.escape(report.summary)}</p>")
    headings = {h.section: h for h in report.headings}
    shown: set[tuple[str, ...]] = set()
    for p in report.paragraphs:
        for depth in range(1, len(p.section) + 1):
            key = p.section[:depth]
            if key not in shown and key in headings:
                shown.add(key)
                level = min(3 + depth - 1, 5)
                hid = f"report-{anchor(report.doc_id)}-h-{anchor(headings[key].label)}"
                parts.append(f"<h{level} id='{hid}'>{html.escape(key[-1])}</h{level}>")
        notes = "".join(f"<br><small>{html.escape(n)}</small>" for n in p.footnotes)
        parts.append(f"<p id='{paragraph_id(Citation(report.doc_id, p.number))}'><b>{p.number}.</b> "
                     f"{html.escape(p.text)}{notes}</p>")
    return f"<div class='report-view'>{''.join(parts)}</div>"


def build_app(settings: Settings):
    """The Gradio Blocks app (not launched)."""
    import gradio as gr

    from ..search.index import ensure_index

    reports = ensure_index(settings).reports
    if len(reports) == 1:
        report = next(iter(reports.values()))
        symbol = f" · {report.symbol}" if report.symbol else ""
        header = (f"### Assistant — {html.escape(report.title)}\n"
                  f"<span class='report-header'>{html.escape(report.session)} · "
                  f"{html.escape(report.date)}{symbol} · réponses citées par paragraphe (§) · "
                  f"questions en français ou en anglais</span>")
    else:
        header = (f"### Assistant — bibliothèque de {len(reports)} rapports de l'ONU / a library of "
                  f"{len(reports)} UN reports\n<span class='report-header'>réponses citées par document et "
                  "paragraphe (§) · questions en français ou en anglais / cited by document and paragraph · "
                  "questions in French or English</span>")
    choices = [(f"{doc} — {r.title[:80]}" if r.title else doc, doc) for doc, r in reports.items()]
    examples = library_examples(reports.values(), settings) or GENERIC_EXAMPLES

    def respond(message: str, history: list[dict], asked: list[str], k: int, generative: bool,
                documents: list[str] | None = None):
        """A generator: streams generated tokens when the generative mode is on, then the
        verified answer (what is streamed is replaced by what passed verification). ``asked``
        holds the conversation's questions as typed (the chat shows them escaped), for
        rewriting follow-ups."""
        message = message if isinstance(message, str) else ""
        previous = list(asked or [])
        shown = history + [{"role": "user", "content": escape_user_text(message)}]
        llm = settings.llm if generative else None
        tokens: queue.Queue = queue.Queue()
        outcome: dict = {}

        def work():
            try:
                outcome["answer"] = answer(message, settings, history=previous,
                                           on_token=tokens.put if llm else None, documents=documents or None,
                                           k=k, llm=llm)
            except ValueError as exc:  # bad input: said in the chat, the conversation is kept
                outcome["error"] = exc
            except Exception:  # never a traceback in the page; the log has it
                log.exception("answer failed")
                outcome["error"] = RuntimeError("internal error; see the server log")
            finally:
                tokens.put(None)

        threading.Thread(target=work, daemon=True).start()
        streamed = ""
        while (token := tokens.get()) is not None:
            streamed += token
            yield "", shown + [{"role": "assistant", "content": escape_user_text(streamed) + " …"}], "", None, previous
        if "error" in outcome:
            reply = f"⚠️ {escape_user_text(str(outcome['error']))}"
            yield "", shown + [{"role": "assistant", "content": reply}], "", None, previous
            return
        result = outcome["answer"]
        yield ("", shown + [{"role": "assistant", "content": answer_markdown(result)}],
               sources_html(result, reports), asdict(result), previous + [message])

    def ask_api(question: str, k: int = 5) -> dict:
        """One question in, the whole Answer out (for gradio_client), from the whole library.
        Input that cannot be used comes back as an error saying why (gr.Error: shown although
        show_error is off)."""
        return ask_documents_api(question, k, None)

    def ask_documents_api(question: str, k: int = 5, documents: list[str] | None = None) -> dict:
        """The same from ``documents`` (document ids) only; none: the whole library. An API of
        its own, so that callers of /ask, who send two values, are not refused."""
        try:
            return asdict(answer(question, settings, k=k, documents=documents or None))
        except ValueError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    with gr.Blocks(title="Assistant — rapports de l'ONU / UN reports", analytics_enabled=False) as demo:
        gr.Markdown(header)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                picker = gr.Dropdown(choices=choices, value=[], multiselect=True, label=PICKER_LABEL,
                                     elem_id="documents")
                # No LaTeX: "$$…$$" typed in a question rendered as maths (the report has none).
                chatbot = gr.Chatbot(label="Conversation", height=460, sanitize_html=True, elem_id="chat",
                                     feedback_options=None, buttons=["copy"], latex_delimiters=[])
                with gr.Row():
                    box = gr.Textbox(placeholder="Posez une question sur le rapport… / Ask about the report…",
                                     show_label=False, scale=8, elem_id="question", max_lines=4)
                    send = gr.Button("Envoyer / Ask", variant="primary", scale=1, elem_id="send")
                gr.Examples(examples, inputs=box, label="Exemples / Examples")
                with gr.Accordion("Réglages / Settings", open=False):
                    k = gr.Slider(1, 10, value=settings.k, step=1, label="Passages retrieved / passages récupérés")
                    generative = gr.Checkbox(
                        value=False, interactive=bool(settings.llm),
                        label="Mode génératif / Generative mode" + (
                            f" ({settings.llm.split(':', 1)[0]})" if settings.llm else
                            " — not configured (set ASSISTANT_LLM); answers are extractive"))
                sources = gr.HTML(elem_id="sources")
                details = gr.JSON(visible=False)
                asked = gr.State([])
                clear = gr.Button("Nouvelle conversation / New conversation", size="sm")
            with gr.Tab("Rapports complets / Full reports" if len(reports) > 1 else "Rapport complet / Full report",
                        id="report"):
                gr.HTML(library_html(reports), elem_id="report-view")
        for trigger in (box.submit, send.click):
            trigger(respond, [box, chatbot, asked, k, generative, picker], [box, chatbot, sources, details, asked],
                    api_name=False, concurrency_limit=settings.concurrency, concurrency_id="chat")
        clear.click(lambda: ([], "", None, []), None, [chatbot, sources, details, asked], api_name=False)
        # Queued (gradio_client only speaks the queue's protocol), with a limit of its own so API
        # callers and chat users do not wait behind each other.
        gr.api(ask_api, api_name="ask", concurrency_limit=settings.concurrency, concurrency_id="ask")
        gr.api(ask_documents_api, api_name="ask_documents", concurrency_limit=settings.concurrency,
               concurrency_id="ask")
    return demo


def launch_kwargs(settings: Settings) -> dict:
    import gradio as gr
    from starlette.middleware import Middleware

    from .web_security import SecurityMiddleware

    # System fonts only: the default theme fetches web fonts, which hang without a network.
    theme = gr.themes.Default(font=["system-ui", "Segoe UI", "Arial", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    return {"server_name": settings.host, "server_port": settings.port, "theme": theme, "css": CSS,
            "head": HEAD, "footer_links": ["api"], "show_error": False, "quiet": True,
            "state_session_capacity": settings.session_capacity,
            "app_kwargs": {"middleware": [Middleware(SecurityMiddleware)]}}


def serve(settings: Settings, block: bool = True):
    """Warm the model and index, then serve; prints the local URL. SIGHUP rebuilds the index in
    the background while the last good one keeps answering (``search/refresh.py``)."""
    from ..search.index import ensure_index

    started = time.perf_counter()
    ensure_index(settings)
    try:  # warm-up: the retriever and BM25 loaded before the first user waits for them
        answer(GENERIC_EXAMPLES[0], settings)
    except ValueError as exc:  # an empty library: served, and every question is told so
        log.warning("%s", exc)
    demo = build_app(settings)
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    app, url, _ = demo.launch(prevent_thread_lock=True, **launch_kwargs(settings))
    _rebuild_on_signals(settings)
    print(f"Chat ready in {time.perf_counter() - started:.1f} s at {url}", flush=True)
    if block:
        demo.block_thread()
    return demo


def _rebuild_on_signals(settings: Settings) -> None:
    """``kill -HUP <pid>``: bring the index up to date with the library folder (documents added or
    removed since) and swap it in, answering meanwhile from the one in memory; ``kill -USR1
    <pid>``: the same, embedding every document again (a full rebuild). Each start and end is
    printed (the load benchmark reads them)."""
    import signal

    from ..search.refresh import rebuild_in_background

    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread (not under a test runner's thread)

    def done(seconds: float | None) -> None:
        print("Index rebuild skipped or failed; still answering from the last good index" if seconds is None
              else f"Index rebuilt in {seconds:.1f} s and swapped in", flush=True)

    def on_signal(signum, frame) -> None:
        full = signum == signal.SIGUSR1
        print(f"Index rebuild started ({'SIGUSR1, full' if full else 'SIGHUP'})", flush=True)
        rebuild_in_background(settings, on_done=done, full=full)

    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGUSR1, on_signal)
