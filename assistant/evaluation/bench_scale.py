"""``assistant bench --scale N``: the vector index at library scale, exact against IVF-SQ8.

The library: real embeddings of real UN text first (the report's units and sentences, the UN
Parallel Corpus's development and test sentences in English and French when ``settings.unpc_dir``
holds them, and lightly perturbed copies of those: a word dropped, two words swapped, a number
changed, the end cut), embedded with the configured encoder and cached under
``<cache>/bench``; then synthetic vectors up to N, each a random mixture of two real vectors plus
Gaussian noise, renormalised, so the library keeps the real vectors' anisotropic distribution
(e5's vectors all lie in a narrow cone: a uniform random vector would be far from everything and
make the search look easier than it is). Queries: the 228 eval questions, embedded as queries.

Reported per size: build time, index memory (serialised size, which is what it holds in
memory), single-query search p50/p95, and recall@10 against exact search (flat inner product over
the same vectors) — for the exact index and for IVF-SQ8 with the settings' nlist/nprobe, plus an
nprobe sweep at every size. The sizes below N show where exact search stops being cheap:
``Settings.exact_search_max`` is set from them.
"""

from __future__ import annotations

import hashlib
import random
import re
import statistics
import time
from pathlib import Path

import numpy as np

from ..settings import Settings

SIZES = (10_000, 25_000, 50_000, 100_000, 250_000)
NPROBES = (8, 16, 32, 64, 128)


def real_texts(settings: Settings, perturbed: int = 8000, seed: int = 7) -> list[str]:
    """The report's units and sentences, the UN Parallel Corpus sentences (when present), and
    ``perturbed`` lightly changed copies, as passages."""
    from ..library import library_reports
    from ..search.index import build_units, unit_sentences

    units = [u for report in library_reports(settings).values() for u in build_units(report)]
    texts = [u.embed_text for u in units] + [s for _, s in unit_sentences(units)]
    folder = Path(settings.unpc_dir)
    for name in ("UNv1.0.testset.en", "UNv1.0.testset.fr", "UNv1.0.devset.en", "UNv1.0.devset.fr"):
        if (folder / name).is_file():
            texts += [line.strip() for line in (folder / name).read_text(encoding="utf-8").splitlines()
                      if len(line.strip()) >= 20]
    rng = random.Random(seed)
    texts += [_perturb(rng.choice(texts), rng) for _ in range(perturbed)]
    return texts


def _perturb(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) < 4:
        return text + " " + rng.choice(("(suite)", "(continued)", "2015", "ONU"))
    how = rng.randrange(4)
    if how == 0:
        del words[rng.randrange(len(words))]
    elif how == 1:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    elif how == 2 and any(re.search(r"\d", w) for w in words):
        i = rng.choice([i for i, w in enumerate(words) if re.search(r"\d", w)])
        words[i] = re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randint(1, 9)), words[i])
    else:
        words = words[: max(3, int(len(words) * 0.7))]
    return " ".join(words)


def real_vectors(settings: Settings, texts: list[str], progress: bool = False) -> np.ndarray:
    """Passage vectors of ``texts`` with the configured encoder, cached (the embedding takes minutes)."""
    from ..search.embedder import get_embedder

    embedder = get_embedder(settings)
    key = hashlib.sha256(("\n".join(texts) + embedder.encoder_sha256).encode()).hexdigest()[:16]
    path = settings.cache_dir / "bench" / f"real-{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = embedder.embed_passages(texts, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def synthetic(real: np.ndarray, n: int, seed: int = 11, noise: float = 0.02) -> np.ndarray:
    """``n`` unit vectors, each ``a·x + (1-a)·y + noise`` for random real ``x``, ``y`` and ``a`` in
    [0.5, 1), renormalised: close to the real ones, never copies of them."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        a = rng.uniform(0.5, 1.0, size=(m, 1)).astype(np.float32)
        mix = a * real[rng.integers(0, len(real), m)] + (1 - a) * real[rng.integers(0, len(real), m)]
        mix += rng.normal(0, noise, size=mix.shape).astype(np.float32)
        out[start:start + m] = mix / np.linalg.norm(mix, axis=1, keepdims=True)
    return out


def exact_top(library: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    """Exact top-k ids by inner product (numpy, in chunks: no second copy of the library)."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(library), 200_000):
        scores = queries @ library[start:start + 200_000].T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        cand_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, 1)], axis=1)
        cand_ids = np.concatenate([best_ids, top + start], axis=1)
        order = np.argsort(-cand_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(cand_scores, order, 1)
        best_ids = np.take_along_axis(cand_ids, order, 1)
    return best_ids


def _search_times(index, queries: np.ndarray, k: int = 10, repeats: int = 3) -> tuple[float, float, np.ndarray]:
    found = np.zeros((len(queries), k), dtype=np.int64)
    times = []
    for _ in range(repeats):
        for i, q in enumerate(queries):
            started = time.perf_counter()
            _, ids = index.search(q.reshape(1, -1), k)
            times.append(time.perf_counter() - started)
            found[i] = ids[0]
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))], found


def _recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, exact, strict=True)]))


def _index_bytes(index) -> int:
    import faiss

    return int(faiss.serialize_index(index).nbytes)


def measure(library: np.ndarray, queries: np.ndarray, kind: str, settings: Settings) -> dict:
    from ..search.scale import build_vector_index, ivf_lists

    started = time.perf_counter()
    index = build_vector_index(library, kind, settings)
    build_s = time.perf_counter() - started
    p50, p95, found = _search_times(index, queries)
    row = {"n": len(library), "kind": kind, "build_s": build_s, "memory_mb": _index_bytes(index) / 2**20,
           "p50_ms": p50 * 1000, "p95_ms": p95 * 1000, "found": found, "index": index}
    if kind != "flat":
        row.update(nlist=ivf_lists(len(library), settings), nprobe=index.nprobe)
    return row


def main(settings: Settings, n: int, progress: bool = False, real: int | None = None) -> int:
    import faiss

    from ..search.embedder import get_embedder
    from .evaluate import load_questions

    faiss.omp_set_num_threads(settings.threads)
    texts = real_texts(settings)
    if real:  # a busy machine: fewer real texts, taken evenly (the report's first)
        texts = texts[:: max(1, len(texts) // real)][:real]
    started = time.perf_counter()
    real = real_vectors(settings, texts, progress=progress)
    embed_s = time.perf_counter() - started
    queries = get_embedder(settings).embed_queries([q.question for q in load_questions()])
    print(f"library: {len(real):,} real vectors ({len(texts):,} texts, embedded or loaded in {embed_s:.0f} s; "
          f"UN Parallel Corpus {'included' if Path(settings.unpc_dir).is_dir() else 'absent: report only'}), "
          f"synthetic up to {n:,}; {len(queries)} queries (the eval questions)")
    library = np.concatenate([real, synthetic(real, max(0, n - len(real)))])[:n]
    print(f"{'vectors':>10} {'index':>8} {'nlist':>6} {'nprobe':>6} {'build s':>8} {'memory MB':>10} "
          f"{'p50 ms':>7} {'p95 ms':>7} {'recall@10':>9}")
    for size in [s for s in SIZES if s < n] + [n]:
        part = library[:size]
        exact = exact_top(part, queries)
        for kind in ("flat", "ivf-sq8"):
            row = measure(part, queries, kind, settings)
            row["recall"] = _recall(row["found"], exact)
            print(f"{size:>10,} {kind:>8} {row.get('nlist', ''):>6} {row.get('nprobe', ''):>6} "
                  f"{row['build_s']:>8.1f} {row['memory_mb']:>10.0f} {row['p50_ms']:>7.2f} {row['p95_ms']:>7.2f} "
                  f"{row['recall']:>9.3f}", flush=True)
            if kind == "ivf-sq8":  # the sweep at every size: nprobe and the threshold follow from it
                index = row["index"]
                for nprobe in NPROBES:
                    index.nprobe = nprobe
                    p50, p95, found = _search_times(index, queries, repeats=1)
                    print(f"{'':>10} {'':>8} {'':>6} {nprobe:>6} {'':>8} {'':>10} {p50 * 1000:>7.2f} "
                          f"{p95 * 1000:>7.2f} {_recall(found, exact):>9.3f}", flush=True)
            del row
    print(f"choose_index_type: exact below {settings.exact_search_max:,} vectors (Settings.exact_search_max), "
          f"IVF-SQ8 with nprobe {settings.ivf_nprobe} above")
    return 0

