"""The library: every report in ``Settings.corpus_dir``, each known by its ``Report.doc_id``.

``add_report`` reads a file (PDF, markdown or text), copies it into the folder (with its example
questions, when a ``<name>.examples.txt`` stands beside it) and indexes it; ``remove_report`` takes
one out; ``library_reports`` lists what is there; ``library_examples`` gives the documents' example
questions; ``load_report`` parses a file without adding it. The files are read by
``ingest.corpus``; the index follows the folder (``search.index.update_index``): adding or removing
a document embeds only what is new. A file that cannot be read is refused before anything changes;
a file someone put into the folder by hand and that cannot be read is left out of the index with a
warning (the manifest remembers it, so it is not read again at every start).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from .files import atomic_write, file_sha256
from .records import Report
from .settings import Settings


class LibraryError(ValueError):
    """What ``add_report``/``remove_report`` cannot do, said in one line (the library unchanged)."""


def library_reports(settings: Settings | None = None) -> dict[str, Report]:
    """doc id -> Report for every document of the library, in id order. Parses only what the
    index does not already hold (no embedding)."""
    from .ingest.corpus import read_corpus
    from .search.index import cached_parse

    settings = settings or Settings.from_env()
    documents, _ = read_corpus(settings, cached_parse(settings))
    return {report.doc_id: report for _, report in documents}


def library_examples(reports: Iterable[Report], settings: Settings | None = None) -> list[str]:
    """The example questions kept beside the documents' files in the library folder
    (``<file name without suffix>.examples.txt``, one question a line), document by document;
    [] when none has any."""
    from .ingest.corpus import examples_file, read_examples

    settings = settings or Settings.from_env()
    return list(dict.fromkeys(q for r in reports if r.source
                              for q in read_examples(examples_file(settings.corpus_dir / r.source))))


def load_report(path: str | Path | None = None, settings: Settings | None = None) -> Report:
    """Parse a report without adding it to the library: a PDF (a UN report as published), or
    markdown or text like the seed's (``ingest.corpus.load_any`` picks the reader). Without
    ``path``, the library's document when it holds exactly one (the seed, in the project's
    ``corpus/``).

    Raises ``FileNotFoundError`` if the file is missing, ``ReportParseError`` if it cannot be
    parsed (naming the page or line; text that is not UTF-8 included) and ``ValueError`` when
    ``path`` is left out and the library holds several documents or none. Cached per file content.
    """
    if path is None:
        settings = settings or Settings.from_env()
        reports = library_reports(settings)
        if len(reports) != 1:
            held = ", ".join(reports) or "nothing"
            raise ValueError(f"the library in {settings.corpus_dir} holds {len(reports)} documents ({held}): "
                             "name the file to load")
        return next(iter(reports.values()))
    from .ingest.corpus import load_any

    return load_any(path)


def add_report(path: str | Path, settings: Settings | None = None, progress: bool = False) -> Report:
    """Add the report in ``path`` (PDF, markdown or text) to the library: parse it, copy it into
    ``settings.corpus_dir`` and index it, embedding only it (with a progress bar on stderr when
    ``progress``). Returns the parsed report.

    Raises ``FileNotFoundError`` or ``ReportParseError`` (naming the page or line) when the file
    cannot be read, ``LibraryError`` when another file of the library holds the same document or
    has the same name; the library is then unchanged. Adding a file the library already holds does
    nothing. Example questions kept beside the file (``<name>.examples.txt``) are copied with it
    (none is fine: the chat then shows those of the other documents, or generic ones)."""
    from .ingest.corpus import examples_file, load_any, read_corpus
    from .search import index as index_module
    from .search.refresh import install_fresh

    settings = settings or Settings.from_env()
    source = Path(path)
    report = load_any(source)  # refuses an unreadable file before anything changes
    sha = file_sha256(source)
    current = {cf.path.name: (cf, r) for cf, r in read_corpus(settings, index_module.cached_parse(settings))[0]}
    for cf, held in current.values():
        if held.doc_id == report.doc_id:
            if cf.sha256 == sha:
                install_fresh(settings, progress=progress)  # already there: make sure it is indexed
                return held
            raise LibraryError(f"{report.doc_id} is already in the library (from {cf.path.name}): "
                               f"remove it first (assistant remove {report.doc_id})")
    target = settings.corpus_dir / source.name
    copied = False
    if target.exists():
        if file_sha256(target) != sha:
            raise LibraryError(f"{target} already exists and holds another file: rename {source.name}")
    else:
        atomic_write(target, lambda tmp: shutil.copyfile(source, tmp))
        copied = True
    examples, examples_target = examples_file(source), examples_file(target)
    copied_examples = False
    if examples.is_file() and not examples_target.exists():
        atomic_write(examples_target, lambda tmp: shutil.copyfile(examples, tmp))
        copied_examples = True
    try:
        install_fresh(settings, progress=progress)
    except BaseException:
        if copied:  # the library stays as it was
            target.unlink(missing_ok=True)
        if copied_examples:
            examples_target.unlink(missing_ok=True)
        raise
    return report


def remove_report(document: str, settings: Settings | None = None) -> Report:
    """Remove a document (by its id, e.g. "S/2025/303", or its file's name) from the library:
    its file (and its examples file) is deleted from ``settings.corpus_dir`` and the index updated
    without embedding.
    Returns the report removed; ``LibraryError`` if the library holds no such document."""
    from .ingest.corpus import examples_file, read_corpus
    from .search import index as index_module
    from .search.refresh import install_fresh

    settings = settings or Settings.from_env()
    documents, _ = read_corpus(settings, index_module.cached_parse(settings))
    match = [(cf, r) for cf, r in documents if document in (r.doc_id, cf.path.name)]
    if not match:
        held = ", ".join(r.doc_id for _, r in documents) or "nothing"
        raise LibraryError(f"no document {document!r} in the library (it holds: {held})")
    cf, report = match[0]
    cf.path.unlink()
    examples_file(cf.path).unlink(missing_ok=True)
    install_fresh(settings)
    return report
