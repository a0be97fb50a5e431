"""The real Gradio server, through gradio_client: same answers as answer(), and a small load test."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

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
    assert remote["citations"] == local.citations and remote["text"] == local.text
    assert remote["abstained"] is False and remote["passages"][0]["paragraph"] == local.passages[0].paragraph


def test_api_bad_input_is_an_error_not_a_crash(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError):  # the server's ValueError, surfaced to the client
        client.predict("   ", 5, api_name="/ask")
    assert client.predict(QUESTIONS[0], 5, api_name="/ask")["citations"]  # the server still serves


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
