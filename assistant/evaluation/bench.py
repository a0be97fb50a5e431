"""``assistant bench``: the query path on onnxruntime beside the torch path, measured in the same run.

For each encoder ("onnx", the default, and "torch", sentence-transformers as before), in the
same process and alternating so that other load on the machine falls on both alike:

- index build (every unit and sentence embedded and written, into a temporary folder);
- query embedding, ``retrieve()`` and extractive ``answer()`` latency over every eval question,
  ``repeats`` times, after one warm-up call (median and 95th percentile of all calls);
- bulk embedding throughput (the index's passages at batch 32, the median of ``repeats`` passes);
- cold start: a fresh process importing the package and answering one question, ``repeats``
  times (median), with that process's peak memory;
- under load (``bench_load.py``, unless ``--no-load``): a real server, 50 gradio_client clients ×
  5 questions, steady and during back-to-back index rebuilds; the server's peak memory.

The machine's load average is printed before and after: the 2 cores are shared.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..settings import Settings

ENCODERS = ("onnx", "torch")

_COLD_START = """
import json, sys, time
t0 = time.perf_counter()
import assistant
a = assistant.answer("Combien d'États sont parties à la Convention contre la corruption ?")
took = time.perf_counter() - t0
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({"cold_start_s": took, "citations": [c.label for c in a.citations],
                  "peak_rss_mb": int(status["VmHWM"].split()[0]) / 1024, "torch": "torch" in sys.modules}))
"""


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _cold_start(settings: Settings) -> dict:
    env = {**os.environ, "ASSISTANT_ENCODER": settings.encoder, "ASSISTANT_INDEX_DIR": str(settings.index_dir)}
    out = subprocess.run([sys.executable, "-c", _COLD_START], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _time_calls(fn, questions: list[str], repeats: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock seconds of each call; ``cpu`` (if given) receives each call's CPU seconds, all
    threads of this process: a figure other processes on the machine barely change."""
    times = []
    for _ in range(repeats):
        for q in questions:
            started, started_cpu = time.perf_counter(), time.process_time()
            fn(q)
            times.append(time.perf_counter() - started)
            if cpu is not None:
                cpu.append(time.process_time() - started_cpu)
    return times


def _throughput(embedder, texts: list[str]) -> float:
    started = time.perf_counter()
    embedder.embed_passages(texts)
    return len(texts) / (time.perf_counter() - started)


def main(settings: Settings, repeats: int = 3, load: bool = True, int8: bool = True, limit: int | None = None) -> int:
    from ..compose.answering import answer
    from ..library import library_reports
    from ..search.embedder import Embedder, get_embedder, resolve_model
    from ..search.index import build_index, build_units, ensure_index, unit_sentences
    from ..search.retrieval import retrieve
    from ..text import search_text
    from .evaluate import load_questions

    print(f"load average at start: {_load()} (2 cores)", flush=True)
    ensure_index(settings)  # the worktree's own index, current (the load test's server uses it)
    questions = [q.question for q in load_questions()][:limit]
    documents = [(report, build_units(report)) for report in library_reports(settings).values()]
    passages = ([u.embed_text for _, units in documents for u in units]
                + [search_text(s, report.acronym_variants) for report, units in documents
                   for _, s in unit_sentences(units)])
    tmp = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    per = {e: settings.replace(encoder=e, index_dir=tmp / e) for e in ENCODERS}
    results: dict[str, dict] = {e: {} for e in ENCODERS}

    for e in ENCODERS:
        started = time.perf_counter()
        build_index(per[e])
        results[e]["build_s"] = time.perf_counter() - started
        answer(questions[0], per[e])  # warm-up: loads the index, the retriever, BM25
    bulk = {"onnx": get_embedder(per["onnx"]),
            "torch": Embedder(resolve_model(settings), settings.threads, batch_size=32)}
    bulk["onnx"].batch_size = 32
    for e in ENCODERS:
        results[e].update(embed=[], retrieve=[], answer=[], bulk=[], cold=[], embed_cpu=[], answer_cpu=[])
    for _ in range(repeats):
        for e in ENCODERS:
            embedder = get_embedder(per[e])
            results[e]["embed"] += _time_calls(lambda q, m=embedder: m.embed_queries([q]), questions, 1,
                                               results[e]["embed_cpu"])
            results[e]["retrieve"] += _time_calls(lambda q, s=per[e]: retrieve(q, settings=s), questions, 1)
            results[e]["answer"] += _time_calls(lambda q, s=per[e]: answer(q, s), questions, 1,
                                                results[e]["answer_cpu"])
            results[e]["bulk"].append(_throughput(bulk[e], passages[:512]))
            results[e]["cold"].append(_cold_start(per[e]))
    if int8:
        from ..search.onnx_encoder import get_onnx_embedder

        quantised = get_onnx_embedder(resolve_model(settings), settings.replace(encoder="onnx-int8"))
        results["int8"] = {"embed": _time_calls(lambda q: quantised.embed_queries([q]), questions, repeats)}
    print(f"load average after the in-process measurements: {_load()}", flush=True)

    rows = [("query embedding p50", "embed", 0, "ms", "≤ 10 ms"),
            ("retrieve() p50", "retrieve", 0, "ms", "≤ 15 ms"),
            ("retrieve() p95", "retrieve", 1, "ms", ""),
            ("answer() p50 (extractive)", "answer", 0, "ms", "≤ 25 ms"),
            ("answer() p95 (extractive)", "answer", 1, "ms", "≤ 50 ms"),
            ("query embedding, CPU time p50 (all threads)", "embed_cpu", 0, "ms", ""),
            ("answer(), CPU time p50 (all threads)", "answer_cpu", 0, "ms", "")]
    print(f"\n{len(questions)} eval questions × {repeats} repeats each; medians of the cold starts and bulk passes")
    print(f"{'':<44}{'onnxruntime':>14}{'torch':>14}{'torch/onnx':>12}  target")
    for label, key, which, _, target in rows:
        a, b = (_percentiles(results[e][key])[which] * 1000 for e in ENCODERS)
        print(f"{label:<44}{a:>11.1f} ms{b:>11.1f} ms{b / a:>11.1f}×  {target}")
    cold = {e: statistics.median(r["cold_start_s"] for r in results[e]["cold"]) for e in ENCODERS}
    cold_rss = {e: statistics.median(r["peak_rss_mb"] for r in results[e]["cold"]) for e in ENCODERS}
    print(f"{'cold start (new process to first answer)':<44}{cold['onnx']:>12.2f} s{cold['torch']:>12.2f} s"
          f"{cold['torch'] / cold['onnx']:>11.1f}×  ≤ 4 s")
    print(f"{'  its peak RSS':<44}{cold_rss['onnx']:>11.0f} MB{cold_rss['torch']:>11.0f} MB"
          f"{cold_rss['torch'] / cold_rss['onnx']:>11.1f}×")
    print(f"{'  torch imported':<44}{str(any(r['torch'] for r in results['onnx']['cold'])):>14}"
          f"{str(any(r['torch'] for r in results['torch']['cold'])):>14}")
    bulk_rate = {e: statistics.median(results[e]["bulk"]) for e in ENCODERS}
    print(f"{'bulk embedding, batch 32 (passages/s)':<44}{bulk_rate['onnx']:>14.1f}{bulk_rate['torch']:>14.1f}"
          f"{bulk_rate['onnx'] / bulk_rate['torch']:>11.1f}× (onnx/torch)")
    build = {e: results[e]["build_s"] for e in ENCODERS}
    print(f"{'index build (embed + write)':<44}{build['onnx']:>12.1f} s{build['torch']:>12.1f} s"
          f"{build['torch'] / build['onnx']:>11.1f}×")
    if int8:
        p50 = _percentiles(results["int8"]["embed"])[0] * 1000
        print(f"{'query embedding p50, onnx-int8 (option)':<44}{p50:>11.1f} ms")

    if load:
        from .bench_load import load_bench, print_runs

        print(f"\nunder load: 50 gradio_client clients × 5 questions on /ask (load average {_load()})", flush=True)
        for e in ENCODERS:
            runs = load_bench(env={"ASSISTANT_ENCODER": e, "ASSISTANT_INDEX_DIR": str(per[e].index_dir)}, label=e)
            print_runs(runs)
        print(f"load average at the end: {_load()}")
    return 0
