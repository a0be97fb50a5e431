"""The ``assistant`` command: ``model``, ``index``, ``ask``, ``serve``, ``eval``, ``bench``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap

from .settings import Settings


def _progress() -> bool:
    return sys.stderr.isatty()


def cmd_model(args, settings: Settings) -> int:
    from .embedder import resolve_model

    model = resolve_model(settings, progress=_progress())
    print(f"embedding model: {model.id} ({model.source}) at {model.path}\nsha256: {model.sha256}")
    return 0


def cmd_index(args, settings: Settings) -> int:
    from .index import build_index, ensure_index, ensure_writable

    # This command's job is to write the index: one it could only hold in memory is a failure
    # (IndexWriteError), found before embedding when the folder cannot be written at all.
    if args.rebuild:
        ensure_writable(settings)
        index = build_index(settings, progress=_progress())
    else:
        index = ensure_index(settings, progress=_progress(), keep_unsaved=False)
    m = index.manifest
    print(f"index: {settings.index_dir} — {m['units']} units, dimension {m['dimension']}, "
          f"model {m['model_id']} ({m['model_sha256'][:12]}), corpus {m['corpus_sha256'][:12]}")
    return 0


def cmd_ask(args, settings: Settings) -> int:
    from .answering import answer
    from .report import load_report

    result = answer(args.question, settings, **({"k": args.k} if args.k is not None else {}))  # --k 0 is refused
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(result.text)
    print()
    if result.abstained:
        print("See also:" if result.language == "en" else "Voir aussi :")
        for p in result.passages[:3]:
            print(f"  {p.label} — {' > '.join(p.section)}")
        return 0
    print(("Citations: " if result.language == "en" else "Citations : ") +
          ", ".join(f"§{n}" for n in result.citations))
    report = load_report(settings=settings)
    for n in result.citations:
        p = report.paragraph(n)
        print(f"\n§{n} — {' > '.join(p.section)}")
        print(textwrap.fill(p.text, width=100, initial_indent="  ", subsequent_indent="  "))
    return 0


def cmd_serve(args, settings: Settings) -> int:
    from .ui import serve

    serve(settings.replace(host=args.host or settings.host, port=args.port or settings.port))
    return 0


def cmd_eval(args, settings: Settings) -> int:
    from . import eval_report, evaluate

    if args.compare:
        print(eval_report.compare(*args.compare))
        return 0
    if args.cv:
        from . import tuning

        results = tuning.cross_validate(settings, path=args.questions, progress=_progress())
        print(tuning.table(results))
        return 0
    if args.overlap:
        from .report import load_report

        print(eval_report.overlap_table(evaluate.load_questions(args.questions), load_report(settings=settings)))
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
    from .generate import packaged_gguf

    print(f"llamacpp:{packaged_gguf(args.name, settings)}")
    return 0


def cmd_bench(args, settings: Settings) -> int:
    if args.scale:
        from .bench_scale import main as scale_main

        return scale_main(settings, args.scale, progress=_progress(), real=args.real)
    if args.load:
        from .bench_load import load_bench, print_runs

        print_runs(load_bench(label=settings.encoder))
        return 0
    from .bench import main as bench_main

    return bench_main(settings, repeats=args.repeats, load=not args.no_load, int8=not args.no_int8,
                      limit=args.limit)


def build_parser() -> argparse.ArgumentParser:
    from .evaluate import QUESTIONS

    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("model", help="convert/locate the embedding model (offline)").set_defaults(func=cmd_model)
    p = sub.add_parser("index", help="build the index if missing or stale")
    p.add_argument("--rebuild", action="store_true", help="rebuild even if the index is current")
    p.set_defaults(func=cmd_index)
    p = sub.add_parser("ask", help="answer one question with citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    p.add_argument("--k", type=int, help="passages to retrieve")
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
    from .index import IndexUnavailableError

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
