"""HTTP hardening for the chat: security headers on every response Gradio's app sends, and no
file uploads (the chat takes none; Gradio's ``/gradio_api/upload`` accepted anyone's files into
its temp folder).

Installed as ASGI middleware through ``launch(app_kwargs={"middleware": …})`` (``ui.launch_kwargs``).

The Content-Security-Policy allows scripts only from the page's own origin and carrying the
page's nonce: a fresh nonce is written into every ``<script>`` tag of each HTML page served
(Gradio's inline configuration and our click handler), and ``'strict-dynamic'`` lets those
scripts load Gradio's modules and the scripts it adds (the custom ``head``). An injected inline
handler (``onerror=…``) or ``<script>`` has no nonce and does not run. ``'unsafe-eval'`` stays:
Gradio 6's ``gr.HTML`` renders its template through ``new Function`` (without it the sources
panel stays empty; checked in Chromium), on the server's own HTML, never on what a user types.
Styles stay ``'unsafe-inline'``: Gradio's components set style attributes throughout, and a
style cannot run code. Nothing is loaded from another origin (the app runs offline), and no page may frame
this one (clickjacking).
"""

from __future__ import annotations

import base64
import json
import re
import secrets

_CSP = ("default-src 'self'; "
        "script-src 'self' 'nonce-{nonce}' 'strict-dynamic' 'unsafe-eval'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; "
        "font-src 'self' data:; "
        "connect-src 'self'; "
        "media-src 'self' data: blob:; "
        "worker-src 'self' blob:; "
        "object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'")
HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
# Gradio's upload endpoints (and the legacy unprefixed one); the chat has no file input.
_UPLOAD = re.compile(r"(?:^|/)(?:gradio_api/)?upload(?:_progress)?/?$", re.IGNORECASE)
UPLOAD_REFUSED = "uploads are disabled: this chat answers questions and takes no files"
_SCRIPT_TAG = re.compile(rb"<script(?=[\s>])", re.IGNORECASE)


def content_security_policy(nonce: str) -> str:
    return _CSP.format(nonce=nonce)


class SecurityMiddleware:
    """ASGI middleware: refuses uploads (403), adds the security headers to every HTTP
    response, and writes the page's nonce into the ``<script>`` tags of HTML responses."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = base64.b64encode(secrets.token_bytes(18)).decode("ascii")
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in
                   {**HEADERS, "content-security-policy": content_security_policy(nonce)}.items()]
        if _UPLOAD.search(scope.get("path", "")):
            await _refuse_upload(send, headers)
            return
        ours = {k for k, _ in headers}
        pending: dict = {}  # an HTML response's start, held until its body has its nonces
        body = bytearray()

        async def send_hardened(message):
            if message["type"] == "http.response.start":
                start = {**message, "headers": [(k, v) for k, v in message.get("headers", [])
                                                if k.lower() not in ours] + headers}
                if _is_html(start) and not _is_encoded(start):
                    pending["start"] = start
                    return
                await send(start)
            elif message["type"] == "http.response.body" and "start" in pending:
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = _SCRIPT_TAG.sub(f'<script nonce="{nonce}"'.encode("ascii"), bytes(body))
                start = pending.pop("start")
                start["headers"] = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"] + [
                    (b"content-length", str(len(page)).encode("ascii"))]
                await send(start)
                await send({"type": "http.response.body", "body": page, "more_body": False})
            else:
                await send(message)

        await self.app(scope, receive, send_hardened)


async def _refuse_upload(send, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"error": UPLOAD_REFUSED}).encode("utf-8")
    await send({"type": "http.response.start", "status": 403, "headers": headers + [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode("ascii"))]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _header(start: dict, name: bytes) -> bytes:
    return next((v for k, v in start["headers"] if k.lower() == name), b"")


def _is_html(start: dict) -> bool:
    return _header(start, b"content-type").lower().startswith(b"text/html")


def _is_encoded(start: dict) -> bool:
    # Compression happens outside this middleware (Gradio's Brotli is added after it), so a body
    # here is plain; an encoded one would not be rewritten safely.
    return _header(start, b"content-encoding") not in (b"", b"identity")
