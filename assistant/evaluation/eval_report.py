"""Present an evaluation run: a terminal table, a Markdown report, a JSON file, a PNG chart, and a
question-by-question comparison of two runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..files import atomic_write
from . import evaluate

RETRIEVAL = ("hit@1", "hit@5", "recall@5", "mrr@10", "ndcg@10")
ANSWERS = ("citation_precision", "citation_recall", "fact_coverage", "abstained_unanswerable",
           "abstained_answerable", "right_document", "number_violations", "errors", "latency_p50_ms",
           "latency_p95_ms")


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def table(run: dict) -> str:
    """Markdown tables: the full system by group, then the systems side by side."""
    full = run["summary"]["full"]
    groups = list(full)
    head = "| group | n | " + " | ".join(RETRIEVAL + ANSWERS) + " |"
    rows = [head, "|" + "---|" * (len(RETRIEVAL + ANSWERS) + 2)]
    for g in groups:
        s = full[g]
        rows.append(f"| {g} | {s['n']} | " + " | ".join(_fmt(s.get(m)) for m in RETRIEVAL + ANSWERS) + " |")
    compared = ("overall", "lang:en", "overlap:low")
    side = ["| system | " + " | ".join(f"{m} ({g})" for g in compared for m in ("hit@1", "hit@5", "recall@5"))
            + " |", "|---|" + "---|" * 9]
    for name, summary in run["summary"].items():
        cells = [_fmt(summary.get(g, {}).get(m)) for g in compared for m in ("hit@1", "hit@5", "recall@5")]
        side.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n\n" + "\n".join(side)


def overlap_table(questions: list[evaluate.Question], report) -> str:
    """How much each group of answerable questions reuses its gold paragraphs' words: the median
    content-word overlap and the share below ``evaluate.LOW_OVERLAP``, per split, language, type
    and style. The issue's bar: at least 40 % of each split's French questions below 0.5."""
    import statistics

    rows = ["| split | group | n | median overlap | share < 0.5 |", "|---|---|---|---|---|"]
    scored = [(q, evaluate.question_overlap(q, report)) for q in questions if q.answerable]
    for split in (*evaluate.SPLITS, "all"):
        in_split = [(q, o) for q, o in scored if split in ("all", q.split) and not math.isnan(o)]
        groups = [("all", in_split)]
        groups += [(f"lang:{lang}", [(q, o) for q, o in in_split if q.lang == lang]) for lang in evaluate.LANGS]
        groups += [(f"type:{t}", [(q, o) for q, o in in_split if q.type == t]) for t in evaluate.TYPES]
        groups += [(f"style:{s}", [(q, o) for q, o in in_split if s in q.style]) for s in evaluate.STYLES]
        groups += [(f"source:{src}", [(q, o) for q, o in in_split if q.source == src])
                   for src in sorted({q.source for q, _ in in_split})]
        for name, members in groups:
            if not members:
                continue
            values = [o for _, o in members]
            low = sum(v < evaluate.LOW_OVERLAP for v in values) / len(values)
            rows.append(f"| {split} | {name} | {len(values)} | {statistics.median(values):.2f} | {low:.2f} |")
    return "\n".join(rows)


def markdown(run: dict) -> str:
    m = run["model"]
    failures = [q for q in run["questions"]["full"]
                if q["error"] or (q["type"] != "unanswerable" and not q["hit5"]) or q["number_violations"]
                or (q["type"] == "unanswerable" and not q["abstained"])
                or (q["type"] != "unanswerable" and q["abstained"])]
    lines = [f"# Evaluation — split `{run['split']}` ({run['n']} questions)", "",
             f"Run {run['created']} · model `{m['id']}` ({m['source']}, sha256 {m['sha256'][:12]}) · "
             f"k={run['settings']['k']}", "", table(run), "", "## Definitions", "",
             evaluate.__doc__.split("Definitions (also printed in every report):", 1)[-1].strip(), "",
             f"## Questions to look at ({len(failures)})", ""]
    for q in failures:
        why = q["error"] or ("wrongly abstained" if q["abstained"] and q["type"] != "unanswerable" else
                             "did not abstain" if q["type"] == "unanswerable" and not q["abstained"] else
                             f"numbers not in cited paragraphs: {q['number_violations']}"
                             if q["number_violations"] else "no gold paragraph in the top 5")
        lines.append(f"- **{q['id']}** ({q['lang']}, {q['type']}): {why}; ranked {q['ranked'][:5]}, "
                     f"cited {q['cited']}")
    return "\n".join(lines) + "\n"


def chart(run: dict, path: Path) -> None:
    """Hit@5 and Recall@5 by question type and language (full system), one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    full = run["summary"]["full"]
    groups = [g for g in full if g.startswith(("type:", "lang:")) and g != "type:unanswerable"]
    labels = [g.split(":", 1)[1] for g in groups]
    fig, ax = plt.subplots(figsize=(9, 4))
    xs = range(len(groups))
    for offset, metric in ((-0.2, "hit@5"), (0.2, "recall@5")):
        values = [full[g][metric] for g in groups]
        ax.bar([x + offset for x in xs], values, width=0.4, label=metric)
    ax.set_xticks(list(xs), labels, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"Retrieval by question type and language — split {run['split']}")
    ax.legend()
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=110))
    plt.close(fig)


def save(run: dict, folder: Path = evaluate.RESULTS) -> dict[str, Path]:
    """Write ``<stamp>-<split>.json/.md/.png`` and ``latest-<split>.*`` copies; returns the paths."""
    stamp = run["created"].replace(":", "").replace("-", "")[:15]
    paths = {}
    for name in (f"{stamp}-{run['split']}", f"latest-{run['split']}"):
        json_path, md_path, png_path = (folder / f"{name}.{ext}" for ext in ("json", "md", "png"))
        atomic_write(json_path, lambda p: Path(p).write_text(json.dumps(_without_nan(run), indent=1),
                                                        encoding="utf-8"))
        atomic_write(md_path, lambda p: Path(p).write_text(markdown(run), encoding="utf-8"))
        chart(run, png_path)
        paths = {"json": json_path, "markdown": md_path, "chart": png_path}
    return paths


def _without_nan(value):
    """NaN (a metric with nothing to average) as JSON null: strict JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nan(v) for v in value]
    return value


def compare(a_path: Path, b_path: Path) -> str:
    """What changed from run A to run B: headline metrics, then question by question."""
    a, b = (json.loads(Path(p).read_text(encoding="utf-8")) for p in (a_path, b_path))
    lines = [f"Comparing A={a_path} ({a['created']}) with B={b_path} ({b['created']})", "",
             "| metric | A | B | change |", "|---|---|---|---|"]
    for metric in RETRIEVAL + ANSWERS:
        va, vb = a["summary"]["full"]["overall"].get(metric), b["summary"]["full"]["overall"].get(metric)
        if isinstance(va, int | float) and isinstance(vb, int | float):
            lines.append(f"| {metric} | {_fmt(va)} | {_fmt(vb)} | {vb - va:+.3f} |")
    qa = {q["id"]: q for q in a["questions"]["full"]}
    changed = []
    for q in b["questions"]["full"]:
        old = qa.get(q["id"])
        if old is None:
            changed.append(f"- {q['id']}: new in B")
            continue
        diffs = [f"{k}: {old[k]} → {q[k]}" for k in ("hit1", "hit5", "abstained", "cited")
                 if old.get(k) != q.get(k)]
        if diffs:
            changed.append(f"- {q['id']} ({q['lang']}, {q['type']}): " + "; ".join(diffs))
    lines += ["", f"Questions that changed: {len(changed)}", *changed]
    return "\n".join(lines)
