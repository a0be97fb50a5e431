"""``assistant bench``: cold start, index build time, retrieve()/answer() latency, peak memory.

Cold start is measured in a fresh Python process (imports, model load, index load and check), as
a user meets it. Latencies are over the reference questions, repeated, after one warm-up call.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .settings import Settings

_COLD_START = """
import json, sys, time
t0 = time.perf_counter()
from assistant.index import ensure_index
from assistant.settings import Settings
index = ensure_index(Settings.from_env())
t1 = time.perf_counter()
index.embedder.embed_queries(["query"])
print(json.dumps({"cold_start_s": t1 - t0, "first_query_s": time.perf_counter() - t1}))
"""


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def main(settings: Settings, repeats: int = 200) -> int:
    from .answering import answer
    from .evaluate import load_questions
    from .index import build_index
    from .retrieval import retrieve

    cold = json.loads(subprocess.run([sys.executable, "-c", _COLD_START], check=True, capture_output=True,
                                     text=True).stdout.strip().splitlines()[-1])
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        build_index(settings.replace(index_dir=Path(tmp)))
        build_s = time.perf_counter() - started

    questions = [q.question for q in load_questions()]
    retrieve(questions[0], settings=settings)
    answer(questions[0], settings)
    retrieve_times, answer_times = [], []
    for i in range(repeats):
        q = questions[i % len(questions)]
        started = time.perf_counter()
        retrieve(q, settings=settings)
        retrieve_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        answer(q, settings)
        answer_times.append(time.perf_counter() - started)
    r50, r95 = _percentiles(retrieve_times)
    a50, a95 = _percentiles(answer_times)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [("cold start (fresh process: imports, model, index load + checks)", f"{cold['cold_start_s']:.2f} s"),
            ("first query after cold start", f"{cold['first_query_s'] * 1000:.0f} ms"),
            ("index build (embed every unit and sentence, write)", f"{build_s:.1f} s"),
            (f"retrieve() p50 / p95 over {repeats} questions", f"{r50 * 1000:.1f} / {r95 * 1000:.1f} ms"),
            (f"answer() p50 / p95 over {repeats} questions", f"{a50 * 1000:.1f} / {a95 * 1000:.1f} ms"),
            ("peak memory of this process (RSS)", f"{peak_mb:.0f} MB")]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0
