"""The library's index, persisted under ``settings.index_dir`` with a manifest, kept in step with
the documents of ``settings.corpus_dir`` without embedding anything twice.

Files:
- ``docs/<slug>-<file sha>/``: what one document contributes, each file written on its own:
  ``report.json`` (its parse, so that a start does not read every PDF again), ``units.json``,
  ``vectors.npy`` (one row per unit) and ``sentences.npy`` (one row per sentence of its paragraphs).
- ``units.faiss``: every unit of every document, documents in id order (inner product over
  L2-normalised vectors, i.e. cosine; exact or IVF-SQ8 by the library's size,
  ``scale.choose_index_type``), assembled from the documents' vectors.
- ``lexical-<language>.*``: one BM25 index per language of the library (``lexical.py`` says why),
  saved with bm25s instead of being rebuilt by every process.
- ``manifest.json``: format version, model id and hash, the encoder that embedded and its hash,
  the parser's hash; index type and dimension; per document its id, file, the file's sha256,
  language and the sha256 of each of its files; the sha256 of the FAISS and BM25 files. Written
  last: a half-written index never validates.

Incremental: a document whose file, the parser, the model and the encoder are unchanged keeps its
stored vectors; adding or removing one embeds only what is new and reassembles FAISS and BM25
from the stored vectors. A stale or corrupt index is brought up to date with one log line (only
the documents whose stored files do not check out are embedded again). The temporary files of a
write that was killed are removed at the next start. An index that cannot be written (read-only
folder, full disk) is used from memory with one warning; an update that fails otherwise is
remembered, so the next call does not spend minutes embedding to fail again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..files import atomic_write, check_writable, file_sha256, remove_interrupted_writes
from ..ingest.corpus import CorpusFile, corpus_files, read_corpus
from ..records import Report, Unit, report_from_dict, report_to_dict, slug, unit_id
from ..settings import Settings
from ..text import search_text, sentences, unify_variants
from .embedder import Embedder, encoder_identity, get_embedder, resolve_model
from .lexical import _STEMMERS, LibraryLexical, lexical_file_names, lexical_files
from .scale import build_vector_index, choose_index_type, prepare_for_search

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
FAISS_FILE, MANIFEST_FILE = "units.faiss", "manifest.json"
DOCS_DIR = "docs"
REPORT_FILE, UNITS_FILE, VECTORS_FILE, SENTENCES_FILE = "report.json", "units.json", "vectors.npy", "sentences.npy"
DOCUMENT_FILES = (REPORT_FILE, UNITS_FILE, VECTORS_FILE, SENTENCES_FILE)
# The files of the first format (one report), removed when the library's index replaces them.
_OLD_FILES = ("units.json", "sentences.npy")
_LANGUAGES = (*sorted(_STEMMERS), "zh", "xx")


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


_SUMMARY_LEAD = {"fr": ("Résumé", "Résumé du rapport : "), "en": ("Summary", "Summary of the report: ")}


def build_units(report: Report) -> list[Unit]:
    """Paragraphs (embedded with their section path as context), section headings and the
    summary (when the report has one), each a unit of its own, ids prefixed by the document's."""
    doc = report.doc_id
    variants = report.acronym_variants  # its OCR garbles, searched as their acronym
    units = []
    if report.summary:
        title, lead = _SUMMARY_LEAD.get(report.language, _SUMMARY_LEAD["en" if report.language else "fr"])
        summary = unify_variants(report.summary, variants)
        units.append(Unit(id=unit_id(doc, "summary"), kind="summary", paragraph=None, section=(title,),
                          text=report.summary, search_text=summary, embed_text=f"{lead}{summary}", document=doc))
    for h in report.headings:
        span = f" (§{h.paragraphs[0]}–§{h.paragraphs[-1]})" if h.paragraphs else ""
        units.append(Unit(id=unit_id(doc, f"h:{h.label}"), kind="heading", paragraph=None, section=h.section,
                          text=f"{h.title}{span}", search_text=unify_variants(" ".join(h.section), variants),
                          embed_text=unify_variants(" > ".join(h.section), variants), document=doc))
    for p in report.paragraphs:
        context = " > ".join(s.split(". ", 1)[-1] for s in p.section)
        units.append(Unit(id=unit_id(doc, f"p{p.number}"), kind="paragraph", paragraph=p.number, section=p.section,
                          text=p.text, search_text=p.search_text,
                          embed_text=f"{context} : {p.search_text}", document=doc))
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
    #: doc id -> Report, in id order: the library this index holds.
    reports: dict[str, Report] = field(default_factory=dict)
    #: BM25 per language (``lexical.LibraryLexical``); None: the retriever builds it.
    lexical: LibraryLexical | None = None

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(unit position, cosine) pairs, best first."""
        k = min(k, len(self.units))
        if k <= 0:
            return []
        scores, ids = self.vectors.search(query_vector.reshape(1, -1).astype(np.float32), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    @property
    def languages(self) -> dict[str, str]:
        """doc id -> language."""
        return {doc: r.language for doc, r in self.reports.items()}


@dataclass
class _Stored:
    """One document's part of the index."""

    file: CorpusFile
    report: Report
    units: list[Unit]
    vectors: np.ndarray
    sentence_vectors: np.ndarray
    store: str  # its folder, relative to the index folder
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256, once written

    def entry(self) -> dict:
        r = self.report
        return {"id": r.doc_id, "file": self.file.path.name, "sha256": self.file.sha256, "language": r.language,
                "title": r.title, "paragraphs": len(r.paragraphs), "units": len(self.units),
                "sentences": int(self.sentence_vectors.shape[0]), "store": self.store, "files": self.files}


# --- what built it -----------------------------------------------------------------------------------

# Relative to the package: the parsers (``ingest/``, the seed's markdown reader included) and what
# they build on.
_PARSER_SOURCES = ("text.py", "records.py", "ingest")


@lru_cache(maxsize=1)
def parser_sha256() -> str:
    """The hash of the parsers' code: a changed parser reads every document again (embedding
    again only those whose units changed)."""
    package = Path(__file__).parent.parent
    h = hashlib.sha256()
    for name in _PARSER_SOURCES:
        for path in sorted((package / name).rglob("*.py")) if (package / name).is_dir() else [package / name]:
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def model_identity(settings: Settings, progress: bool = False) -> dict:
    """The model and the encoder that embed, as the manifest records them (the default model is
    converted first if it is missing)."""
    model = resolve_model(settings, progress=progress)
    return {"model_id": model.id, "model_sha256": model.sha256, **encoder_identity(settings)}


def _identity(settings: Settings) -> dict:
    return {"format_version": FORMAT_VERSION, **model_identity(settings), "parser_sha256": parser_sha256()}


def _read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StaleIndexError(f"no index at {folder}") from exc
    except (OSError, ValueError) as exc:
        raise StaleIndexError(f"unreadable manifest: {exc}") from exc
    if not isinstance(manifest, dict):
        raise StaleIndexError("unreadable manifest: not an object")
    return manifest


def _matches(folder: Path, name: str, sha: object) -> bool:
    path = folder / name
    try:
        return path.is_file() and file_sha256(path) == sha
    except OSError as exc:  # unreadable (permissions, I/O error): as good as missing
        raise StaleIndexError(f"cannot read {name}: {_reason(exc)}") from exc


def cached_parse(settings: Settings) -> Callable[[CorpusFile], Report | None]:
    """The index's copy of a file's parse, for files it holds unchanged (by sha256) and when the
    parser has not changed since: ``read_corpus`` then reads no PDF again. None for the others."""
    folder = settings.index_dir
    try:
        manifest = _read_manifest(folder)
    except StaleIndexError:
        manifest = {}
    entries = {}
    if manifest.get("format_version") == FORMAT_VERSION and manifest.get("parser_sha256") == parser_sha256():
        entries = {e.get("sha256"): e for e in manifest.get("documents", []) if isinstance(e, dict)}

    def lookup(cf: CorpusFile) -> Report | None:
        entry = entries.get(cf.sha256)
        if entry is None:
            return None
        try:
            store = folder / entry["store"]
            if not _matches(store, REPORT_FILE, entry["files"][REPORT_FILE]):
                return None
            return report_from_dict(json.loads((store / REPORT_FILE).read_text(encoding="utf-8")))
        except Exception:  # damaged or from an older record layout: parse the file instead
            return None

    return lookup


# --- loading and checking ----------------------------------------------------------------------------

def _load_store(folder: Path, entry: dict, cf: CorpusFile, report: Report | None = None) -> _Stored:
    """A document's stored part, checked against its manifest entry; ``StaleIndexError`` says why
    it cannot be used."""
    try:
        store, files = entry["store"], entry["files"]
        for name in DOCUMENT_FILES:
            if not _matches(folder / store, name, files[name]):
                raise StaleIndexError(f"{name} of {entry['id']} is missing or does not match the manifest (corrupt)")
        base = folder / store
        if report is None:
            report = report_from_dict(json.loads((base / REPORT_FILE).read_text(encoding="utf-8")))
        units = [Unit(**{**u, "section": tuple(u["section"])})
                 for u in json.loads((base / UNITS_FILE).read_text(encoding="utf-8"))]
        vectors = np.load(base / VECTORS_FILE, allow_pickle=False)
        sentence_vectors = np.load(base / SENTENCES_FILE, allow_pickle=False)
    except StaleIndexError:
        raise
    except Exception as exc:  # json ValueError, Unit() TypeError, a missing key, numpy's errors
        raise StaleIndexError(f"cannot read the stored files of {entry.get('id', '?')}: {exc}") from exc
    if units != build_units(report):
        raise StaleIndexError(f"the indexed units of {report.doc_id} differ from the parser's (the parser changed)")
    if vectors.shape[0] != len(units) or sentence_vectors.shape[0] != len(unit_sentences(units)):
        raise StaleIndexError(f"the stored vectors of {report.doc_id} do not match its units")
    return _Stored(cf, report, units, vectors, sentence_vectors, store, dict(files))


def load_index(settings: Settings | None = None) -> Index:
    """Load and check the index; ``StaleIndexError`` says why it cannot be used as it is."""
    import faiss

    settings = settings or Settings.from_env()
    folder = settings.index_dir
    manifest = _read_manifest(folder)
    for key, want in _identity(settings).items():
        if manifest.get(key) != want:
            raise StaleIndexError(f"index built with {key}={manifest.get(key)!r}, expected {want!r}")
    entries = [e for e in manifest.get("documents", []) if isinstance(e, dict)]
    indexed = {(e.get("file"), e.get("sha256")) for e in entries + manifest.get("left_out", [])}
    on_disk = {cf.path.name: cf for cf in corpus_files(settings)}
    if {(name, cf.sha256) for name, cf in on_disk.items()} != indexed:
        added = sorted(set(on_disk) - {name for name, _ in indexed})
        removed = sorted({name for name, _ in indexed} - set(on_disk))
        changed = sorted(name for name, cf in on_disk.items() if name not in added
                         and (name, cf.sha256) not in indexed)
        what = "; ".join(f"{label} {', '.join(names)}" for label, names in
                         (("added", added), ("removed", removed), ("changed", changed)) if names)
        raise StaleIndexError(f"the library changed: {what}")
    stores = [_load_store(folder, e, on_disk[e["file"]]) for e in entries]
    if sorted(s.report.doc_id for s in stores) != [s.report.doc_id for s in stores]:
        raise StaleIndexError("the manifest's documents are out of order")
    if not _matches(folder, FAISS_FILE, manifest.get("faiss_sha256")):
        raise StaleIndexError(f"{FAISS_FILE} is missing or does not match the manifest (corrupt)")
    lexical_entry = manifest.get("lexical") or {}
    for name in lexical_files(lexical_entry):
        sha = next(files[name] for files in lexical_entry.values() if name in files)
        if not _matches(folder, name, sha):
            raise StaleIndexError(f"{name} is missing or does not match the manifest (corrupt)")
    units = [u for s in stores for u in s.units]
    reports = {s.report.doc_id: s.report for s in stores}
    try:
        vectors = faiss.read_index(str(folder / FAISS_FILE))
        lexical = LibraryLexical.load(folder, lexical_entry, units, reports)
    except Exception as exc:  # faiss raises RuntimeError, bm25s ValueError or OSError
        raise StaleIndexError(f"cannot read the index files: {exc}") from exc
    wanted = choose_index_type(len(units), settings)
    if manifest.get("index_type") != wanted:
        raise StaleIndexError(f"a library of {len(units)} vectors gets a {wanted} index, "
                              f"not {manifest.get('index_type')}")
    prepare_for_search(vectors, settings)
    if vectors.ntotal != len(units) or vectors.d != manifest.get("dimension"):
        raise StaleIndexError("the FAISS index does not match its manifest")
    sentence_vectors = _stack([s.sentence_vectors for s in stores], vectors.d)
    if sentence_vectors.shape != (len(unit_sentences(units)), vectors.d):
        raise StaleIndexError("the sentence vectors do not match the units")
    return Index(units, vectors, get_embedder(settings), manifest, sentence_vectors, reports, lexical)


def _stack(arrays: list[np.ndarray], dim: int) -> np.ndarray:
    return np.ascontiguousarray(np.vstack(arrays) if arrays else np.zeros((0, dim)), dtype=np.float32)


# --- building -----------------------------------------------------------------------------------------

def build_index(settings: Settings | None = None, progress: bool = False) -> Index:
    """Embed every document of the library afresh and write the index under
    ``settings.index_dir``. Returns it. (``update_index`` embeds only what changed.)"""
    return update_index(settings, progress=progress, rebuild=True)


def update_index(settings: Settings | None = None, progress: bool = False, rebuild: bool = False,
                 background: bool = False) -> Index:
    """Bring the index in line with the library folder: documents whose stored part checks out
    are kept as they are, the others parsed and embedded (all of them with ``rebuild``); FAISS
    and BM25 are reassembled and everything written, the manifest last. Returns the index.
    ``background`` (a rebuild while the process answers): what is embedded is embedded by the
    encoder's one-thread copy (``for_background``, made only if something is to be embedded),
    in the calling thread; the index answers with the process-wide embedder either way.
    ``IndexWriteError`` (holding the index, built in memory) when it cannot be written."""
    settings = settings or Settings.from_env()
    folder = settings.index_dir
    identity = _identity(settings)
    try:
        old = _read_manifest(folder)
    except StaleIndexError:
        old = {}
    reusable: dict[str, dict] = {}
    # Vectors outlive a change of the parser (a document whose units come out the same keeps
    # them); a change of the model or the encoder is a new index.
    if not rebuild and all(old.get(k) == v for k, v in identity.items() if k != "parser_sha256"):
        reusable = {e["sha256"]: e for e in old.get("documents", []) if isinstance(e, dict) and "sha256" in e}
    reparsed = old.get("parser_sha256") != identity["parser_sha256"]
    documents, left_out = read_corpus(settings, cached_parse(settings))
    stores: list[_Stored] = []
    fresh: list[_Stored] = []
    embedder = None
    for cf, report in documents:
        entry = reusable.get(cf.sha256)
        stored = None
        if entry is not None:
            try:
                stored = _load_store(folder, entry, cf, report)
            except StaleIndexError as why:
                log.warning("embedding %s again: %s", report.doc_id, why)
        if stored is None:
            if embedder is None:
                embedder = get_embedder(settings, progress=progress)
                if background and hasattr(embedder, "for_background"):
                    embedder = embedder.for_background()
            stored = _embed(cf, report, embedder, progress)
            fresh.append(stored)
        elif reparsed:  # the same vectors, with the new parse beside them
            fresh.append(stored)
        stores.append(stored)
    dim = int(stores[0].vectors.shape[1]) if stores else (embedder or get_embedder(settings)).dim
    units = [u for s in stores for u in s.units]
    vectors = _stack([s.vectors for s in stores], dim)
    sentence_vectors = _stack([s.sentence_vectors for s in stores], dim)
    index_type = choose_index_type(len(units), settings)
    vector_index = build_vector_index(vectors, index_type, settings)
    reports = {s.report.doc_id: s.report for s in stores}
    lexical = LibraryLexical.build(units, reports)
    manifest = {**identity, "index_type": index_type, "dimension": dim, "units": len(units),
                "documents": [s.entry() for s in stores], "left_out": [asdict(x) for x in left_out]}
    embedder = get_embedder(settings)  # what questions are embedded with
    try:
        _write(folder, manifest, stores, fresh, vector_index, lexical)
    except (OSError, RuntimeError) as exc:  # faiss reports a failed write as a RuntimeError
        # The manifest is written last: what did get written never validates, and the next start
        # brings it up to date. The index itself is whole, in memory.
        raise IndexWriteError(f"cannot write the index in {folder}: {_reason(exc)}",
                              Index(units, vector_index, embedder, manifest, sentence_vectors, reports,
                                    lexical)) from exc
    _remove_unused(folder, manifest)
    return Index(units, vector_index, embedder, manifest, sentence_vectors, reports, lexical)


def _embed(cf: CorpusFile, report: Report, embedder, progress: bool) -> _Stored:
    units = build_units(report)
    if progress:
        print(f"embedding {report.doc_id}: {len(units)} units", file=sys.stderr, flush=True)
    vectors = embedder.embed_passages([u.embed_text for u in units], progress=progress)
    sentence_vectors = embedder.embed_passages([search_text(s, report.acronym_variants)
                                                for _, s in unit_sentences(units)],
                                               progress=progress)
    dim = vectors.shape[1] if len(vectors) else getattr(embedder, "dim", 384)
    store = f"{DOCS_DIR}/{slug(report.doc_id) or 'document'}-{cf.sha256[:12]}"
    return _Stored(cf, report, units, np.asarray(vectors, dtype=np.float32).reshape(-1, dim),
                   np.asarray(sentence_vectors, dtype=np.float32).reshape(-1, dim), store)


def _write(folder: Path, manifest: dict, stores: list[_Stored], fresh: list[_Stored], vector_index,
           lexical: LibraryLexical) -> None:
    import faiss

    for s in fresh:
        base = folder / s.store
        atomic_write(base / REPORT_FILE, lambda p, r=s.report: p.write_text(
            json.dumps(report_to_dict(r), ensure_ascii=False), encoding="utf-8"))
        atomic_write(base / UNITS_FILE, lambda p, u=s.units: p.write_text(
            json.dumps([asdict(x) for x in u], ensure_ascii=False), encoding="utf-8"))
        atomic_write(base / VECTORS_FILE, lambda p, v=s.vectors: _save_npy(p, v))
        atomic_write(base / SENTENCES_FILE, lambda p, v=s.sentence_vectors: _save_npy(p, v))
        s.files.update({name: file_sha256(base / name) for name in DOCUMENT_FILES})
    manifest["documents"] = [s.entry() for s in stores]
    atomic_write(folder / FAISS_FILE, lambda p: faiss.write_index(vector_index, str(p)))
    manifest["faiss_sha256"] = file_sha256(folder / FAISS_FILE)
    manifest["lexical"] = lexical.save(folder)
    atomic_write(folder / MANIFEST_FILE, lambda p: p.write_text(json.dumps(manifest, indent=2, ensure_ascii=False),
                                                                  encoding="utf-8"))


def _remove_unused(folder: Path, manifest: dict) -> None:
    """Stored parts of documents no longer in the library, lexical files of languages it no longer
    has, the first format's files: removed once the manifest no longer names them."""
    keep = {e["store"] for e in manifest["documents"]}
    kept_files = set(lexical_files(manifest.get("lexical") or {}))
    try:
        docs = folder / DOCS_DIR
        for store in docs.iterdir() if docs.is_dir() else []:
            if store.is_dir() and f"{DOCS_DIR}/{store.name}" not in keep:
                shutil.rmtree(store, ignore_errors=True)
        for lang in _LANGUAGES:
            for name in lexical_file_names(lang).values():
                if name not in kept_files:
                    (folder / name).unlink(missing_ok=True)
        for name in _OLD_FILES:
            (folder / name).unlink(missing_ok=True)
    except OSError as exc:  # a leftover costs disk space, not correctness
        log.warning("could not remove unused index files in %s: %s", folder, _reason(exc))


def _reason(exc: BaseException) -> str:
    """An OS error's own words ("No space left on device"), or the first line of faiss's."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def ensure_writable(settings: Settings) -> None:
    """``IndexWriteError`` unless the index folder can be written: checked before minutes of
    embedding by ``assistant index``, whose job is to write it."""
    try:
        check_writable(settings.index_dir)
    except OSError as exc:
        raise IndexWriteError(f"cannot write the index in {settings.index_dir}: {_reason(exc)}") from exc


def _save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:  # a file object, so numpy does not append ".npy" to the temp name
        np.save(f, array, allow_pickle=False)


# --- the process's index -------------------------------------------------------------------------------

_lock = threading.Lock()
_loaded: dict[tuple, Index] = {}
_failed: dict[tuple, str] = {}  # index key -> why its update failed, for the rest of the process
#: What the index folder holds at its top; a killed write leaves ``.<name>.XXXXXXXX`` beside it.
INDEX_FILES = (FAISS_FILE, MANIFEST_FILE, *(n for lang in _LANGUAGES for n in lexical_file_names(lang).values()))
#: The settings that decide what an index holds and how it is searched (one cached index each).
INDEX_FIELDS = ("corpus_dir", "embedding_model", "cache_dir", "index_dir", "encoder", "exact_search_max",
                "ivf_nlist", "ivf_nprobe")


def index_key(settings: Settings) -> tuple:
    return tuple(getattr(settings, name) for name in INDEX_FIELDS)


def installed(settings: Settings) -> Index | None:
    """The index this process answers from for these settings, if it has loaded one."""
    with _lock:
        return _loaded.get(index_key(settings))


def install(settings: Settings, index: Index) -> None:
    """Make ``index`` (rebuilt while answering went on) what ``ensure_index`` returns from now on."""
    with _lock:
        _loaded[index_key(settings)] = index
        _failed.pop(index_key(settings), None)


def remove_leftovers(settings: Settings) -> None:
    """Remove the temporary files of index writes that were killed (one warning line)."""
    removed = remove_interrupted_writes(settings.index_dir, INDEX_FILES)
    docs = settings.index_dir / DOCS_DIR
    try:
        stores = [p for p in docs.iterdir() if p.is_dir()] if docs.is_dir() else []
    except OSError:
        stores = []
    for store in stores:
        removed += [f"{DOCS_DIR}/{store.name}/{n}" for n in remove_interrupted_writes(store, DOCUMENT_FILES)]
    if removed:
        log.warning("removed %d temporary file(s) of an interrupted index write in %s: %s",
                    len(removed), settings.index_dir, ", ".join(removed))


def ensure_index(settings: Settings | None = None, progress: bool = False, *, keep_unsaved: bool = True) -> Index:
    """The index for these settings: loaded from disk if current, else brought up to date (one
    log line; only what changed is embedded). Cached per process.

    An index that cannot be written is used from memory with one warning (with
    ``keep_unsaved=False``, as ``assistant index`` wants, ``IndexWriteError`` instead, raised before
    embedding when the folder cannot be written at all). An update that fails otherwise raises
    ``IndexUnavailableError``, and so does every later call for the same index, at once.
    """
    settings = settings or Settings.from_env()
    key = index_key(settings)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        if key in _failed:
            raise IndexUnavailableError(_failed[key])
        model_identity(settings, progress=progress)  # converts the default model once if needed
        remove_leftovers(settings)
        try:
            index = load_index(settings)
        except StaleIndexError as why:
            if not keep_unsaved:
                ensure_writable(settings)
            log.warning("updating the index in %s: %s", settings.index_dir, why)
            index = _rebuild(settings, key, progress, keep_unsaved)
        _loaded[key] = index
        return index


def _rebuild(settings: Settings, key: tuple, progress: bool, keep_unsaved: bool) -> Index:
    try:
        return update_index(settings, progress=progress)
    except IndexWriteError as exc:
        if not keep_unsaved or exc.index is None:
            raise
        log.warning("%s; answering from the index rebuilt in memory until this process ends "
                    "(the next start rebuilds it again)", exc)
        return exc.index
    except (OSError, RuntimeError, MemoryError) as exc:
        _failed[key] = f"cannot build the index in {settings.index_dir}: {_reason(exc)}"
        raise IndexUnavailableError(_failed[key]) from exc
