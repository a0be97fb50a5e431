"""The real Gradio server, through gradio_client: same answers as answer(), and a small load test."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

import pytest

from assistant import answer

pytestmark = pytest.mark.server

QUESTIONS = [
    "Combien d'États sont parties à la Convention contre la corruption ?",
    "How many users consulted the SHERLOC portal in 2019?",
    "Où s'est tenue la huitième session de la Conférence des États parties ?",
    "How many victims of trafficking were identified in Malawi?",
    "Que couvre la partie E de la section IV ?",
]


@pytest.fixture(scope="module")
def client(server_url):
    from gradio_client import Client

    return Client(server_url + "/", verbose=False)


@pytest.mark.parametrize("question", QUESTIONS[:2])
def test_api_answers_match_answer(client, question):
    remote = client.predict(question, 5, api_name="/ask")
    local = answer(question)
    assert remote["citations"] == [asdict(c) for c in local.citations] and remote["text"] == local.text
    assert remote["abstained"] is False and remote["passages"][0]["paragraph"] == local.passages[0].paragraph


def test_api_with_documents(client):
    """/ask_documents restricts the search; a document the library does not hold is an error
    naming those it does."""
    from gradio_client.exceptions import AppError

    seed = "unodc-crime-prevention-report-2020"
    remote = client.predict(QUESTIONS[0], 5, [seed], api_name="/ask_documents")
    assert remote["citations"][0] == {"document": seed, "paragraph": 46}
    assert remote["text"] == client.predict(QUESTIONS[0], 5, api_name="/ask")["text"]
    with pytest.raises(AppError, match=f"no document 'S/1999/1' in the library; it holds: {seed}"):
        client.predict(QUESTIONS[0], 5, ["S/1999/1"], api_name="/ask_documents")


def test_api_bad_input_is_an_error_not_a_crash(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError):  # the server's ValueError, surfaced to the client
        client.predict("   ", 5, api_name="/ask")
    assert client.predict(QUESTIONS[0], 5, api_name="/ask")["citations"]  # the server still serves


def call_raw(server_url: str, *data) -> tuple[str, object]:
    """The /ask API over plain HTTP, the JSON body written by json.dumps (gradio_client cannot
    send a lone surrogate; a JSON "\\ud83d" escape can). Returns the event ("complete" or
    "error") and its data."""
    import json

    import httpx

    body = json.dumps({"data": list(data)})
    posted = httpx.post(f"{server_url}/gradio_api/call/ask", content=body,
                        headers={"content-type": "application/json"}, timeout=60)
    posted.raise_for_status()
    event, payload = None, None
    with httpx.stream("GET", f"{server_url}/gradio_api/call/ask/{posted.json()['event_id']}", timeout=60) as s:
        for line in s.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: ") and event in ("complete", "error"):
                payload = json.loads(line[len("data: "):])
                break
    return event, payload


def test_api_a_lone_surrogate_is_answered_not_a_crash(server_url):
    """'\\ud83d' reached the tokenizer through /ask and raised TypeError (an error event)."""
    event, data = call_raw(server_url, "\ud83d", 5)
    assert event == "complete" and data[0]["question"] == "\ufffd" and data[0]["citations"] == []


def test_api_bad_input_says_what_is_wrong(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=r"k \(passages to retrieve\) must be a whole number from 1 to 1000"):
        client.predict(QUESTIONS[0], 0, api_name="/ask")
    with pytest.raises(AppError, match="the question must be text"):
        client.predict(None, 5, api_name="/ask")


def test_load_20_clients_5_questions_each(server_url):
    from gradio_client import Client

    def one_client(i: int) -> list[float]:
        c = Client(server_url + "/", verbose=False)
        times = []
        for j in range(5):
            started = time.perf_counter()
            result = c.predict(QUESTIONS[(i + j) % len(QUESTIONS)], 5, api_name="/ask")
            times.append(time.perf_counter() - started)
            assert result["text"]
        return times

    with ThreadPoolExecutor(max_workers=20) as pool:
        latencies = sorted(t for ts in pool.map(one_client, range(20)) for t in ts)
    assert len(latencies) == 100
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"\nload test: 20 clients x 5 questions, 0 errors, p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")


def test_bench_load_plain_http_clients_are_answered(server_url):
    """The load benchmark's light client (Gradio's plain HTTP API from one asyncio loop) gets real
    answers through the same queue: a broken event-stream parse would count every request as an
    error, or a wrong payload as an empty answer."""
    from assistant.evaluation.bench_load import run_http_clients

    run, spans = run_http_clients(server_url + "/", clients=5, questions_each=2)
    assert (run.requests, run.errors, run.timeouts, len(run.latencies), len(spans)) == (10, [], 0, 10, 10)
    assert run.client_cpu_s is not None and run.summary()["p50_s"] > 0
