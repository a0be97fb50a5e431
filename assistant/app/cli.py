"""The ``assistant`` command: ``add``, ``list``, ``remove``, ``ask``, ``serve``, ``index``, ``model``,
``eval``, ``bench``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
import time

from ..settings import Settings


def _progress() -> bool:
    return sys.stderr.isatty()


def cmd_model(args, settings: Settings) -> int:
    from ..search.embedder import resolve_model

    model = resolve_model(settings, progress=_progress())
    print(f"embedding model: {model.id} ({model.source}) at {model.path}\nsha256: {model.sha256}")
    return 0


def cmd_index(args, settings: Settings) -> int:
    from ..search.index import build_index, ensure_index, ensure_writable

    # This command's job is to write the index: one it could only hold in memory is a failure
    # (IndexWriteError), found before embedding when the folder cannot be written at all.
    if args.rebuild:
        ensure_writable(settings)
        index = build_index(settings, progress=_progress())
    else:
        index = ensure_index(settings, progress=_progress(), keep_unsaved=False)
    m = index.manifest
    documents = len(m["documents"])
    print(f"index: {settings.index_dir} — {documents} document{'s' if documents != 1 else ''}, {m['units']} units, "
          f"dimension {m['dimension']}, model {m['model_id']} ({m['model_sha256'][:12]}), {m['index_type']} search")
    return 0


def cmd_ask(args, settings: Settings) -> int:
    from ..compose.answering import answer
    from ..library import library_reports

    result = answer(args.question, settings, documents=args.document or None,
                    **({"k": args.k} if args.k is not None else {}))  # --k 0 is refused
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(result.text)
    print()
    # Labels as the text writes them: with their document when several were searched.
    several = any(c.label in result.text for c in result.citations) or len({p.document for p in result.passages}) > 1
    if result.abstained:
        print("See also:" if result.language == "en" else "Voir aussi :")
        for p in result.passages[:3]:
            shown = f"{p.document} {p.label}" if several else p.label
            print(f"  {shown} — {' > '.join(p.section)}")
        return 0
    labels = [c.label if several else f"§{c.paragraph}" for c in result.citations]
    print(("Citations: " if result.language == "en" else "Citations : ") + ", ".join(labels))
    reports = library_reports(settings)
    for label, c in zip(labels, result.citations, strict=True):
        p = reports[c.document].paragraph(c.paragraph)
        print(f"\n{label} — {' > '.join(p.section)}")
        print(textwrap.fill(p.text, width=100, initial_indent="  ", subsequent_indent="  "))
    return 0


def cmd_add(args, settings: Settings) -> int:
    from ..library import add_report

    failed = 0
    for path in args.paths:
        started = time.perf_counter()
        try:
            report = add_report(path, settings, progress=_progress())  # a bar on a terminal
        except (ValueError, FileNotFoundError) as exc:  # unreadable, or already there: the library unchanged
            print(f"error: {path}: {exc}", file=sys.stderr, flush=True)
            failed += 1
            continue
        title = report.title if len(report.title) <= 70 else report.title[:69] + "…"
        print(f"added {report.doc_id} — {title} ({report.language or '?'}, {len(report.paragraphs)} paragraphs) "
              f"in {time.perf_counter() - started:.1f} s", flush=True)
    return 2 if failed else 0


def cmd_list(args, settings: Settings) -> int:
    from ..ingest.corpus import read_corpus
    from ..search.index import cached_parse

    documents, left_out = read_corpus(settings, cached_parse(settings))
    if not documents:
        print(f"the library in {settings.corpus_dir} is empty: add a report with `assistant add FILE`")
    rows = [(r.doc_id, r.language or "?", str(len(r.paragraphs)), r.title, cf.path.name) for cf, r in documents]
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(("document", "lang", "§"))]
    if rows:
        print(f"{'document':<{widths[0]}}  {'lang':<{widths[1]}}  {'§':>{widths[2]}}  title (file)")
    for doc, lang, paragraphs, title, name in rows:
        title = title if len(title) <= 80 else title[:79] + "…"
        print(f"{doc:<{widths[0]}}  {lang:<{widths[1]}}  {paragraphs:>{widths[2]}}  {title} ({name})")
    for x in left_out:
        print(f"left out: {x.file}: {x.reason}")
    return 0


def cmd_remove(args, settings: Settings) -> int:
    from ..library import remove_report

    for document in args.documents:
        report = remove_report(document, settings)
        print(f"removed {report.doc_id} ({report.source})", flush=True)
    return 0


def cmd_serve(args, settings: Settings) -> int:
    from .ui import serve

    serve(settings.replace(host=args.host or settings.host, port=args.port or settings.port))
    return 0


def cmd_eval(args, settings: Settings) -> int:
    from ..evaluation import eval_report, evaluate

    if args.compare:
        print(eval_report.compare(*args.compare))
        return 0
    if args.cv:
        from ..evaluation import tuning

        results = tuning.cross_validate(settings, path=args.questions, progress=_progress())
        print(tuning.table(results))
        return 0
    if args.overlap:
        from ..library import library_reports

        print(eval_report.overlap_table(evaluate.load_questions(args.questions), library_reports(settings)))
        return 0
    run = evaluate.run(split=args.split, path=args.questions, settings=settings,
                       baselines=not args.no_baselines, progress=_progress(), limit=args.limit)
    paths = eval_report.save(run)
    print(eval_report.table(run))
    print("\n" + "\n".join(f"{kind}: {path}" for kind, path in paths.items()))
    if args.gate:
        failures = evaluate.floors_failures(run)
        if failures:
            print("\nbelow the floors in evals/floors.json:\n  " + "\n  ".join(failures))
            return 1
        print("\nall headline metrics at or above the floors in evals/floors.json")
    return 0


def cmd_llm_model(args, settings: Settings) -> int:
    from ..compose.generate import packaged_gguf

    print(f"llamacpp:{packaged_gguf(args.name, settings)}")
    return 0


def cmd_bench(args, settings: Settings) -> int:
    if args.scale:
        from ..evaluation.bench_scale import main as scale_main

        return scale_main(settings, args.scale, progress=_progress(), real=args.real)
    if args.load:
        from ..evaluation.bench_load import load_bench, print_runs

        print_runs(load_bench(label=settings.encoder))
        return 0
    from ..evaluation.bench import main as bench_main

    return bench_main(settings, repeats=args.repeats, load=not args.no_load, int8=not args.no_int8,
                      limit=args.limit)


def build_parser() -> argparse.ArgumentParser:
    from ..evaluation.evaluate import QUESTIONS

    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("add", help="add reports (PDF, markdown, text) to the library and index them")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=cmd_add)
    sub.add_parser("list", help="the library's documents: symbol, language, paragraphs, title").set_defaults(
        func=cmd_list)
    p = sub.add_parser("remove", help="remove documents from the library (by symbol or file name)")
    p.add_argument("documents", nargs="+", metavar="SYMBOL")
    p.set_defaults(func=cmd_remove)
    sub.add_parser("model", help="convert/locate the embedding model (offline)").set_defaults(func=cmd_model)
    p = sub.add_parser("index", help="build the index if missing or stale")
    p.add_argument("--rebuild", action="store_true", help="rebuild even if the index is current")
    p.set_defaults(func=cmd_index)
    p = sub.add_parser("ask", help="answer one question with citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    p.add_argument("--k", type=int, help="passages to retrieve")
    p.add_argument("--document", action="append", metavar="SYMBOL",
                   help="search this document only (repeat for several; default: the whole library)")
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("serve", help="serve the Gradio chat")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("eval", help="score against the reference questions")
    p.add_argument("--split", choices=("dev", "test", "all"), default="test")
    p.add_argument("--questions", default=QUESTIONS, help="a JSON Lines question file")
    p.add_argument("--no-baselines", action="store_true", help="skip the BM25-only and dense-only runs")
    p.add_argument("--gate", action="store_true", help="exit 1 if a headline metric is below its floor")
    p.add_argument("--limit", type=int, help="only the first N questions of the split (e.g. a slow LLM)")
    p.add_argument("--cv", action="store_true",
                   help="choose the fusion weights and thresholds by cross-validation over dev (folds by paragraph)")
    p.add_argument("--overlap", action="store_true",
                   help="how much the questions reuse their gold paragraphs' words, per split and type")
    p.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"), help="compare two saved runs")
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("llm-model", help="join a GGUF model shipped as PyPI parts; print its ASSISTANT_LLM")
    p.add_argument("name", nargs="?", default="qwen2.5-coder-0.5b-instruct")
    p.set_defaults(func=cmd_llm_model)
    p = sub.add_parser("bench", help="latency, cold start, memory, throughput, load: onnxruntime beside torch")
    p.add_argument("--repeats", type=int, default=3, help="passes over the eval questions (and cold starts)")
    p.add_argument("--limit", type=int, help="only the first N eval questions (a busy machine)")
    p.add_argument("--no-load", action="store_true", help="skip the 50-client load test")
    p.add_argument("--no-int8", action="store_true", help="skip the int8 encoder's latency")
    p.add_argument("--load", action="store_true", help="only the load test, on the configured encoder")
    p.add_argument("--scale", type=int, metavar="N", help="only the library-scale index benchmark, up to N vectors")
    p.add_argument("--real", type=int, metavar="M", help="with --scale: embed at most M real texts")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="assistant: %(message)s")
    args = build_parser().parse_args(argv)
    from ..search.index import IndexUnavailableError

    try:
        settings = Settings.from_env()
        return args.func(args, settings)
    except ValueError as exc:  # bad input: a clear message, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, IndexUnavailableError) as exc:  # the index cannot be written or built, a full disk
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
