"""Which FAISS index a library gets, by its size: exact search while it is small, an inverted
file with 8-bit scalar quantisation (IVF-SQ8) above a measured threshold.

Why: exact (flat) search costs time in proportion to the library (every vector is read for every
query) and memory at 4 bytes a dimension; IVF-SQ8 reads ``nprobe`` of ``nlist`` clusters, 1 byte a
dimension, at a measured small loss of recall. The thresholds and ``nprobe`` are Settings fields
set from ``assistant bench --scale`` (figures in the README); ``choose_index_type`` is the one
place that decides, and the index manifest records its choice, so an index whose library crossed
the threshold is rebuilt (``index.load_index`` refuses it as stale).
"""

from __future__ import annotations

import math

import numpy as np

from ..settings import Settings

FLAT, IVF_SQ8 = "flat", "ivf-sq8"
# k-means wants at least this many training points per cluster (FAISS warns below 39).
_MIN_POINTS_PER_LIST = 39
# ... and gains little from more than this many; more only costs build time.
_MAX_POINTS_PER_LIST = 64


def choose_index_type(n: int, settings: Settings) -> str:
    """``"flat"`` (exact) for a library of fewer than ``settings.exact_search_max`` vectors,
    else ``"ivf-sq8"``."""
    return FLAT if n < settings.exact_search_max else IVF_SQ8


def ivf_lists(n: int, settings: Settings) -> int:
    """Clusters of an IVF index over ``n`` vectors: ``settings.ivf_nlist`` if set, else about
    4·√n (FAISS's rule of thumb) rounded to a power of two, with enough points per cluster to
    train."""
    if settings.ivf_nlist:
        wanted = settings.ivf_nlist
    else:
        wanted = 2 ** round(math.log2(max(1.0, 4 * math.sqrt(n))))
    return int(max(1, min(wanted, n // _MIN_POINTS_PER_LIST)))


def build_vector_index(vectors: np.ndarray, kind: str, settings: Settings, seed: int = 1234):
    """A FAISS inner-product index (cosine, for L2-normalised rows) of ``kind`` holding ``vectors``
    in row order, ready to search."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if kind == FLAT:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index
    if kind != IVF_SQ8:
        raise ValueError(f"unknown index type {kind!r}")
    nlist = ivf_lists(n, settings)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed  # the same library gives the same clusters
    sample = vectors
    if n > nlist * _MAX_POINTS_PER_LIST:
        rows = np.random.default_rng(seed).choice(n, nlist * _MAX_POINTS_PER_LIST, replace=False)
        sample = vectors[np.sort(rows)]
    index.train(sample)
    index.add(vectors)
    prepare_for_search(index, settings)
    return index


def prepare_for_search(index, settings: Settings) -> None:
    """Search-time parameters of a built or loaded index: ``nprobe`` for IVF (not stored in the
    file), and the id map that ``reconstruct`` needs (the retriever reads units' vectors back)."""
    import faiss

    if isinstance(index, faiss.IndexIVF):
        index.nprobe = min(settings.ivf_nprobe, index.nlist)
        index.make_direct_map()


def index_type_of(index) -> str:
    import faiss

    return IVF_SQ8 if isinstance(index, faiss.IndexIVFScalarQuantizer) else FLAT
