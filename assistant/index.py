"""The FAISS index of the report's units, persisted under ``index/`` with a manifest.

Files: ``units.faiss`` (inner-product index over L2-normalised vectors, i.e. cosine; exact or
IVF-SQ8 by the library's size, ``scale.choose_index_type``), ``units.json`` (the units, in index
order) and ``manifest.json`` (format version, model id and hash, the encoder that embedded and its
hash, corpus hash, index type, dimension, and the sha256 of the other files). Each file is written to a
temporary name and renamed; the manifest is written last, so a half-written index never
validates. A stale or corrupt index is rebuilt with one log line; the temporary files of a write
that was killed are removed at the next start. A rebuilt index that cannot be written (read-only
folder, full disk) is used from memory with one warning; a rebuild that fails otherwise is
remembered, so the next call does not spend 30 s embedding to fail again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .embedder import Embedder, encoder_identity, get_embedder, resolve_model
from .files import atomic_write, check_writable, remove_interrupted_writes
from .records import Report, Unit
from .report import load_report
from .scale import build_vector_index, choose_index_type, prepare_for_search
from .settings import Settings
from .text import search_text, sentences

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
FAISS_FILE, UNITS_FILE, SENTENCES_FILE, MANIFEST_FILE = ("units.faiss", "units.json", "sentences.npy",
                                                         "manifest.json")


class StaleIndexError(RuntimeError):
    """The index on disk was built from something else, or is damaged."""


class IndexWriteError(OSError):
    """The index could not be written (read-only folder, full disk). ``index`` holds it, built
    in memory, when the failure came after embedding."""

    def __init__(self, message: str, index: Index | None = None):
        super().__init__(message)
        self.index = index


class IndexUnavailableError(RuntimeError):
    """No index can be had: it is not on disk and could not be built. Raised once per process
    for an index folder and then remembered (``ensure_index``)."""


def build_units(report: Report) -> list[Unit]:
    """Paragraphs (embedded with their section path as context), section headings and the
    summary, each a unit of its own."""
    units = [Unit(id="summary", kind="summary", paragraph=None, section=("Résumé",),
                  text=report.summary, search_text=report.summary,
                  embed_text=f"Résumé du rapport : {report.summary}")]
    for h in report.headings:
        span = f" (§{h.paragraphs[0]}–§{h.paragraphs[-1]})" if h.paragraphs else ""
        units.append(Unit(id=f"h:{h.label}", kind="heading", paragraph=None, section=h.section,
                          text=f"{h.title}{span}", search_text=" ".join(h.section),
                          embed_text=" > ".join(h.section)))
    for p in report.paragraphs:
        context = " > ".join(s.split(". ", 1)[-1] for s in p.section)
        units.append(Unit(id=f"p{p.number}", kind="paragraph", paragraph=p.number, section=p.section,
                          text=p.text, search_text=p.search_text,
                          embed_text=f"{context} : {p.search_text}"))
    return units


def unit_sentences(units: list[Unit]) -> list[tuple[int, str]]:
    """(unit position, sentence) for every sentence of every paragraph unit, in order. The answer
    composer scores these against the question; their vectors are built with the index."""
    return [(i, s) for i, u in enumerate(units) if u.kind == "paragraph" for s in sentences(u.text)]


@dataclass
class Index:
    units: list[Unit]
    vectors: object  # faiss.Index over the units
    embedder: Embedder
    manifest: dict
    #: One row per entry of ``unit_sentences(units)``, L2-normalised.
    sentence_vectors: np.ndarray

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(unit position, cosine) pairs, best first."""
        k = min(k, len(self.units))
        scores, ids = self.vectors.search(query_vector.reshape(1, -1).astype(np.float32), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _expected_manifest(settings: Settings, report: Report) -> dict:
    model = resolve_model(settings, convert_if_missing=False)
    return {"format_version": FORMAT_VERSION, "model_id": model.id, "model_sha256": model.sha256,
            **encoder_identity(settings), "corpus_sha256": report.sha256}


def build_index(settings: Settings | None = None, progress: bool = False) -> Index:
    """Embed the report's units and write the index under ``settings.index_dir``. Returns it."""
    import faiss

    settings = settings or Settings.from_env()
    report = load_report(settings=settings)
    embedder = get_embedder(settings, progress=progress)
    units = build_units(report)
    vectors = embedder.embed_passages([u.embed_text for u in units], progress=progress)
    sentence_vectors = embedder.embed_passages([search_text(s) for _, s in unit_sentences(units)],
                                               progress=progress)
    index_type = choose_index_type(len(units), settings)
    index = build_vector_index(vectors, index_type, settings)
    folder = settings.index_dir
    try:
        atomic_write(folder / FAISS_FILE, lambda p: faiss.write_index(index, str(p)))
        atomic_write(folder / SENTENCES_FILE, lambda p: _save_npy(p, sentence_vectors))
        atomic_write(folder / UNITS_FILE, lambda p: p.write_text(
            json.dumps([asdict(u) for u in units], ensure_ascii=False), encoding="utf-8"))
        manifest = {**_expected_manifest(settings, report), "index_type": index_type,
                    "dimension": int(vectors.shape[1]),
                    "units": len(units), "faiss_sha256": _sha256_file(folder / FAISS_FILE),
                    "units_sha256": _sha256_file(folder / UNITS_FILE),
                    "sentences_sha256": _sha256_file(folder / SENTENCES_FILE)}
        atomic_write(folder / MANIFEST_FILE, lambda p: p.write_text(json.dumps(manifest, indent=2),
                                                                      encoding="utf-8"))
    except (OSError, RuntimeError) as exc:  # faiss reports a failed write as a RuntimeError
        # The manifest is written last: what did get written never validates, and the next start
        # rebuilds. The index itself is whole, in memory.
        unsaved = {**_expected_manifest(settings, report), "dimension": int(vectors.shape[1]),
                   "units": len(units)}
        raise IndexWriteError(f"cannot write the index in {folder}: {_reason(exc)}",
                              Index(units, index, embedder, unsaved, sentence_vectors)) from exc
    return Index(units, index, embedder, manifest, sentence_vectors)


def _reason(exc: BaseException) -> str:
    """An OS error's own words ("No space left on device"), or the first line of faiss's."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def ensure_writable(settings: Settings) -> None:
    """``IndexWriteError`` unless the index folder can be written: checked before 30 s of
    embedding by ``assistant index``, whose job is to write it."""
    try:
        check_writable(settings.index_dir)
    except OSError as exc:
        raise IndexWriteError(f"cannot write the index in {settings.index_dir}: {_reason(exc)}") from exc


def _save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:  # a file object, so numpy does not append ".npy" to the temp name
        np.save(f, array, allow_pickle=False)


def load_index(settings: Settings | None = None) -> Index:
    """Load and check the index; ``StaleIndexError`` says why it cannot be used."""
    import faiss

    settings = settings or Settings.from_env()
    folder = settings.index_dir
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StaleIndexError(f"no index at {folder}") from exc
    except (OSError, ValueError) as exc:
        raise StaleIndexError(f"unreadable manifest: {exc}") from exc
    if not isinstance(manifest, dict):
        raise StaleIndexError("unreadable manifest: not an object")
    report = load_report(settings=settings)
    for key, want in _expected_manifest(settings, report).items():
        if manifest.get(key) != want:
            raise StaleIndexError(f"index built with {key}={manifest.get(key)!r}, expected {want!r}")
    for name, key in ((FAISS_FILE, "faiss_sha256"), (UNITS_FILE, "units_sha256"),
                      (SENTENCES_FILE, "sentences_sha256")):
        path = folder / name
        try:
            matches = path.is_file() and _sha256_file(path) == manifest.get(key)
        except OSError as exc:  # unreadable (permissions, I/O error): as good as missing
            raise StaleIndexError(f"cannot read {name}: {_reason(exc)}") from exc
        if not matches:
            raise StaleIndexError(f"{name} is missing or does not match the manifest (corrupt)")
    try:
        vectors = faiss.read_index(str(folder / FAISS_FILE))
        units = [Unit(**{**u, "section": tuple(u["section"])})
                 for u in json.loads((folder / UNITS_FILE).read_text(encoding="utf-8"))]
        sentence_vectors = np.load(folder / SENTENCES_FILE, allow_pickle=False)
    except Exception as exc:  # faiss raises RuntimeError, json ValueError, Unit() TypeError
        raise StaleIndexError(f"cannot read the index files: {exc}") from exc
    if units != build_units(report):
        raise StaleIndexError("the indexed units differ from the parser's (the parser changed)")
    wanted = choose_index_type(len(units), settings)
    if manifest.get("index_type") != wanted:
        raise StaleIndexError(f"a library of {len(units)} vectors gets a {wanted} index, "
                              f"not {manifest.get('index_type')}")
    prepare_for_search(vectors, settings)
    if vectors.ntotal != len(units) or vectors.d != manifest.get("dimension"):
        raise StaleIndexError("the FAISS index does not match its manifest")
    if sentence_vectors.shape != (len(unit_sentences(units)), vectors.d):
        raise StaleIndexError("the sentence vectors do not match the units")
    return Index(units, vectors, get_embedder(settings), manifest, sentence_vectors)


_lock = threading.Lock()
_loaded: dict[tuple, Index] = {}
_failed: dict[tuple, str] = {}  # index key -> why its rebuild failed, for the rest of the process
#: What ``build_index`` writes; a killed write leaves ``.<name>.XXXXXXXX`` beside it.
INDEX_FILES = (FAISS_FILE, UNITS_FILE, SENTENCES_FILE, MANIFEST_FILE)
#: The settings that decide what an index holds and how it is searched (one cached index each).
INDEX_FIELDS = ("report_path", "embedding_model", "cache_dir", "index_dir", "encoder", "exact_search_max",
                "ivf_nlist", "ivf_nprobe")


def index_key(settings: Settings) -> tuple:
    return tuple(getattr(settings, name) for name in INDEX_FIELDS)


def install(settings: Settings, index: Index) -> None:
    """Make ``index`` (rebuilt while answering went on) what ``ensure_index`` returns from now on."""
    with _lock:
        _loaded[index_key(settings)] = index


def ensure_index(settings: Settings | None = None, progress: bool = False, *, keep_unsaved: bool = True) -> Index:
    """The index for these settings: loaded from disk if valid, else rebuilt (one log line).
    Cached per process.

    A rebuilt index that cannot be written is used from memory with one warning (with
    ``keep_unsaved=False``, as ``assistant index`` wants, ``IndexWriteError`` instead, raised before
    embedding when the folder cannot be written at all). A rebuild that fails otherwise raises
    ``IndexUnavailableError``, and so does every later call for the same index, at once.
    """
    settings = settings or Settings.from_env()
    key = index_key(settings)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        if key in _failed:
            raise IndexUnavailableError(_failed[key])
        resolve_model(settings, progress=progress)  # converts the default model once if needed
        if removed := remove_interrupted_writes(settings.index_dir, INDEX_FILES):
            log.warning("removed %d temporary file(s) of an interrupted index write in %s: %s",
                        len(removed), settings.index_dir, ", ".join(removed))
        try:
            index = load_index(settings)
        except StaleIndexError as why:
            if not keep_unsaved:
                ensure_writable(settings)
            log.warning("rebuilding the index in %s: %s", settings.index_dir, why)
            index = _rebuild(settings, key, progress, keep_unsaved)
        _loaded[key] = index
        return index


def _rebuild(settings: Settings, key: tuple, progress: bool, keep_unsaved: bool) -> Index:
    try:
        return build_index(settings, progress=progress)
    except IndexWriteError as exc:
        if not keep_unsaved or exc.index is None:
            raise
        log.warning("%s; answering from the index rebuilt in memory until this process ends "
                    "(the next start rebuilds it again)", exc)
        return exc.index
    except (OSError, RuntimeError, MemoryError) as exc:
        _failed[key] = f"cannot build the index in {settings.index_dir}: {_reason(exc)}"
        raise IndexUnavailableError(_failed[key]) from exc
