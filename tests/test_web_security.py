"""The chat's HTTP hardening (web_security.py): headers on every response, nonces in the page's
scripts, uploads refused. First on a tiny Starlette app (fast), then on the real server."""

from __future__ import annotations

import re

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, JSONResponse, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from assistant.app.web_security import HEADERS, UPLOAD_REFUSED, SecurityMiddleware

PAGE = "<html><head><script>window.x = 1</script><script type=module src=./a.js></script></head>" \
       "<body><scripts-are-not-tags/><p>&lt;script&gt; as text</p></body></html>"


def _app() -> Starlette:
    async def page(request):
        return HTMLResponse(PAGE)

    async def data(request):
        return JSONResponse({"ok": True})

    async def stream(request):
        async def chunks():
            for part in (b"data: 1\n\n", b"data: 2\n\n"):
                yield part
        return StreamingResponse(chunks(), media_type="text/event-stream")

    async def upload(request):
        return JSONResponse(["/tmp/gradio/uploaded"])

    return Starlette(routes=[Route("/", page), Route("/data", data), Route("/stream", stream),
                             Route("/gradio_api/upload", upload, methods=["POST"])],
                     middleware=[Middleware(SecurityMiddleware)])


@pytest.fixture(scope="module")
def client():
    return TestClient(_app())


def _nonce(response) -> str:
    return re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"]).group(1)


@pytest.mark.parametrize("path", ["/", "/data", "/stream", "/missing"])
def test_every_response_has_the_headers(client, path):
    response = client.get(path)
    for name, value in HEADERS.items():
        assert response.headers[name] == value
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "default-src 'self'" in csp


def test_the_page_s_scripts_carry_a_fresh_nonce(client):
    first, second = client.get("/"), client.get("/")
    nonce = _nonce(first)
    assert nonce != _nonce(second) and len(nonce) >= 16
    assert first.text.count(f'<script nonce="{nonce}"') == 2  # both tags; text and look-alikes untouched
    assert "<scripts-are-not-tags/>" in first.text and "&lt;script&gt; as text" in first.text
    assert int(first.headers["content-length"]) == len(first.content)


def test_a_stream_passes_through(client):
    assert client.get("/stream").text == "data: 1\n\ndata: 2\n\n"


@pytest.mark.parametrize("method, path", [("POST", "/gradio_api/upload"), ("POST", "/gradio_api/upload/"),
                                          ("GET", "/gradio_api/upload_progress"), ("POST", "/upload")])
def test_uploads_are_refused(client, method, path):
    response = client.request(method, path, files={"files": ("x.txt", b"hello")})
    assert response.status_code == 403 and response.json() == {"error": UPLOAD_REFUSED}
    assert response.headers["x-content-type-options"] == "nosniff"


# --- the real server ---------------------------------------------------------------------------

@pytest.mark.server
@pytest.mark.parametrize("path", ["/", "/config", "/gradio_api/info", "/theme.css", "/no/such/page",
                                  "/gradio_api/file=/etc/passwd"])
def test_the_real_server_sends_the_headers_everywhere(server_url, path):
    import httpx

    response = httpx.get(server_url + path, timeout=30)
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (path, response.status_code)
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    if path == "/gradio_api/file=/etc/passwd":
        assert response.status_code >= 400 and "root:" not in response.text


@pytest.mark.server
def test_the_real_server_refuses_uploads(server_url):
    """/gradio_api/upload accepted anyone's files into the temp folder."""
    import httpx

    response = httpx.post(server_url + "/gradio_api/upload", files={"files": ("x.txt", b"hello")}, timeout=30)
    assert response.status_code == 403 and response.json() == {"error": UPLOAD_REFUSED}


@pytest.mark.server
def test_the_real_page_s_scripts_all_carry_the_nonce(server_url):
    import httpx

    response = httpx.get(server_url + "/", timeout=30)
    tags = re.findall(r"<script\b[^>]*>", response.text)
    assert tags and all(f'nonce="{_nonce(response)}"' in tag for tag in tags)
