"""Bring the index up to date with the library folder while the assistant keeps answering, then
swap it in (documents added or removed since: only they are embedded; ``full`` embeds all again).
``install_fresh`` does the same in the caller's thread, for ``add_report`` and ``remove_report``.

Answering never waits for a rebuild: the new index is built and its retriever (BM25 and the rest)
prepared without any lock that answering takes; only the hand-over (two dictionary writes) is
under the caches' locks. Questions asked meanwhile are answered from the last good index, in
memory; the files on disk are replaced one by one, each atomically, the manifest last.
``assistant serve`` updates on SIGHUP (``kill -HUP <pid>``) and rebuilds everything on SIGUSR1,
which is how ``assistant bench --load`` measures answering during both.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

from ..settings import Settings

log = logging.getLogger(__name__)

_building = threading.Lock()  # one rebuild at a time; answering never takes it


def rebuild_and_swap(settings: Settings, full: bool = False, background: bool = False) -> float | None:
    """Update (``full``: rebuild) the index for ``settings`` from the library folder and swap it
    in. Returns the seconds it took, or None when another rebuild was already running (this one
    is then skipped). ``background``: documents are embedded on one thread of the caller's
    (``index.update_index``), not on the threads answering uses."""
    from . import index as index_module
    from . import retrieval

    if not _building.acquire(blocking=False):
        log.warning("a rebuild is already running; this one is skipped")
        return None
    try:
        started = time.perf_counter()
        answering = index_module.installed(settings)
        index = None
        if not full:
            # Nothing changed (a SIGHUP with no new file): the index on disk is read, not rebuilt
            # and written again; reassembling FAISS and BM25 from every unit is what costs at
            # scale. (Here, not in update_index: its other callers come to it knowing the index is
            # stale, and each check hashes every file of the library.)
            try:
                index = index_module.load_index(settings)
            except index_module.StaleIndexError:
                pass
        if index is None:
            index = index_module.update_index(settings, rebuild=full, background=background)
        if not full and answering is not None and index.manifest == answering.manifest:
            log.info("the index is current: nothing to swap")  # its retriever stays as it is
            return time.perf_counter() - started
        retriever = retrieval.Retriever(index, settings)
        index_module.install(settings, index)
        retrieval.install(retriever)
        return time.perf_counter() - started
    finally:
        _building.release()


def install_fresh(settings: Settings, progress: bool = False):
    """Update the index to the library folder as it is now (``index.update_index``) and make it
    what this process answers from (its retriever is built at the next question). Used after
    adding or removing a document. Returns the ``index.Index``."""
    from . import index as index_module
    from . import retrieval

    index_module.remove_leftovers(settings)
    index = index_module.update_index(settings, progress=progress)
    index_module.install(settings, index)
    retrieval.forget(settings)
    return index


def rebuild_in_background(settings: Settings, on_done=None, full: bool = False) -> threading.Thread:
    """``rebuild_and_swap`` in a daemon thread; ``on_done(seconds or None)`` when it ends (a
    failed rebuild is logged and leaves the last good index answering)."""

    def work():
        _lower_priority()
        try:
            took = rebuild_and_swap(settings, full=full, background=True)
        except Exception:
            log.exception("the index rebuild failed; answering goes on from the last good index")
            took = None
        if on_done is not None:
            on_done(took)

    thread = threading.Thread(target=work, name="index-rebuild", daemon=True)
    thread.start()
    return thread


def _lower_priority() -> None:
    """This thread (and the onnxruntime session it makes) yields the cores to answering: a full
    rebuild embedding on both cores made answers wait (50 clients: p95 2.0-2.1 s against 1.4 s
    steady). Linux gives each thread its own nice value; elsewhere it would be the whole
    process's, so it is left alone there."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _BACKGROUND_NICENESS)
        except OSError as exc:  # not allowed: the rebuild runs at the same priority
            log.warning("could not lower the rebuild's priority: %s", exc)


# Niceness added to the rebuild thread (0-19: 10 lets answering win the cores without starving it).
_BACKGROUND_NICENESS = 10
