"""The persisted FAISS index: manifest, atomic files, stale and corrupt indexes rebuilt."""

from __future__ import annotations

import json
import logging

import pytest

from assistant.index import (
    FAISS_FILE,
    MANIFEST_FILE,
    SENTENCES_FILE,
    UNITS_FILE,
    StaleIndexError,
    build_index,
    build_units,
    ensure_index,
    load_index,
)
from assistant.report import load_report
from assistant.settings import Settings

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    settings = Settings(index_dir=tmp_path_factory.mktemp("index"))
    build_index(settings)
    return settings


def test_units_cover_paragraphs_headings_and_summary():
    units = build_units(load_report())
    kinds = [u.kind for u in units]
    assert kinds.count("paragraph") == 116 and kinds.count("summary") == 1
    assert kinds.count("heading") == len(load_report().headings)
    p20 = next(u for u in units if u.paragraph == 20)
    assert p20.embed_text.startswith("Mesures prises par l'Office") and "ONUDC" in p20.search_text
    heading = next(u for u in units if u.id == "h:IV.E")
    assert heading.paragraph is None and heading.text.endswith("(§76–§82)")


def test_manifest_records_what_built_the_index(built):
    manifest = json.loads((built.index_dir / MANIFEST_FILE).read_text())
    assert manifest["format_version"] == 1
    assert manifest["model_id"] == "intfloat/multilingual-e5-small"
    assert len(manifest["model_sha256"]) == 64
    assert manifest["corpus_sha256"] == load_report().sha256
    assert manifest["dimension"] == 384 and manifest["units"] == len(build_units(load_report()))
    assert manifest["encoder"] == "onnx" and len(manifest["encoder_sha256"]) == 64
    assert manifest["index_type"] == "flat"  # ~150 units: exact search
    leftovers = [p.name for p in built.index_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # temp files were renamed, none left behind


def test_load_checks_and_returns_the_same_units(built):
    index = load_index(built)
    assert index.units == build_units(load_report())
    assert index.vectors.ntotal == len(index.units)


DAMAGE = {
    "faiss": (lambda d: (d / FAISS_FILE).write_bytes(b"garbage"), "corrupt"),
    "units": (lambda d: (d / UNITS_FILE).write_text("[]"), "corrupt"),
    "sentences": (lambda d: (d / SENTENCES_FILE).unlink(), "missing"),
    "manifest": (lambda d: (d / MANIFEST_FILE).write_text("{not json"), "unreadable manifest"),
    "corpus": (lambda d: _edit_manifest(d, corpus_sha256="0" * 64), "corpus_sha256"),
    "model": (lambda d: _edit_manifest(d, model_sha256="f" * 64), "model_sha256"),
    "format": (lambda d: _edit_manifest(d, format_version=0), "format_version"),
    "encoder": (lambda d: _edit_manifest(d, encoder="torch"), "encoder"),
    "encoder file": (lambda d: _edit_manifest(d, encoder_sha256="e" * 64), "encoder_sha256"),
    "index type": (lambda d: _edit_manifest(d, index_type="ivf-sq8"), "gets a flat index"),
    "absent": (lambda d: (d / MANIFEST_FILE).unlink(), "no index"),
}


def _edit_manifest(folder, **changes):
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    (folder / MANIFEST_FILE).write_text(json.dumps({**manifest, **changes}))


def _copy(built, tmp_path) -> Settings:
    for path in built.index_dir.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    return Settings(index_dir=tmp_path)


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_stale_or_corrupt_index_is_refused(built, tmp_path, case):
    settings = _copy(built, tmp_path)
    damage, reason = DAMAGE[case]
    damage(tmp_path)
    with pytest.raises(StaleIndexError, match=reason):
        load_index(settings)


@pytest.mark.parametrize("case", ["faiss", "corpus"])
def test_a_refused_index_is_rebuilt_with_one_log_line(built, tmp_path, caplog, case):
    settings = _copy(built, tmp_path)
    damage, reason = DAMAGE[case]
    damage(tmp_path)
    with caplog.at_level(logging.WARNING, logger="assistant.index"):
        index = ensure_index(settings)
    rebuilt = [r for r in caplog.records if "rebuilding the index" in r.getMessage()]
    assert len(rebuilt) == 1 and reason in rebuilt[0].getMessage()
    assert load_index(settings).manifest == index.manifest  # what was rebuilt now validates


def test_crossing_the_size_threshold_rebuilds_with_the_other_index_type(built, tmp_path, caplog):
    """A library at or above Settings.exact_search_max gets IVF-SQ8; an index of the other type
    is stale and rebuilt without being asked."""
    import faiss

    from assistant.retrieval import Retriever

    settings = _copy(built, tmp_path).replace(exact_search_max=100)  # the report's ~150 units cross it
    with caplog.at_level(logging.WARNING, logger="assistant.index"):
        index = ensure_index(settings)
    assert any("gets a ivf-sq8 index, not flat" in r.getMessage() for r in caplog.records)
    assert index.manifest["index_type"] == "ivf-sq8" and isinstance(index.vectors, faiss.IndexIVFScalarQuantizer)
    assert load_index(settings).manifest == index.manifest
    # IVF-SQ8 searching every cluster (nprobe >= nlist here) ranks as exact search does, to 8 bits.
    exact = Retriever(load_index(built), built)
    approximate = Retriever(index, settings)
    for question in ("Combien d'États sont parties à la Convention contre la corruption ?",
                     "How many users consulted the SHERLOC portal in 2019?"):
        assert approximate.retrieve(question)[0].paragraph == exact.retrieve(question)[0].paragraph
