"""The persisted index: manifest, per-document stores, atomic files, stale and corrupt indexes
brought up to date (embedding only what does not check out).

Most tests build with the fake embedder (tests/conftest.py), as what is tested is what happens
around the embedding; the manifest of an index the real model built is checked in the slow tier."""

from __future__ import annotations

import json
import logging

import pytest
from conftest import SEED_ID

from assistant.library import load_report
from assistant.search.index import (
    DOCS_DIR,
    FAISS_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    SENTENCES_FILE,
    UNITS_FILE,
    StaleIndexError,
    build_index,
    build_units,
    ensure_index,
    load_index,
    parser_sha256,
    unit_sentences,
)
from assistant.settings import Settings


def test_units_cover_paragraphs_headings_and_summary():
    units = build_units(load_report())
    kinds = [u.kind for u in units]
    assert kinds.count("paragraph") == 116 and kinds.count("summary") == 1
    assert kinds.count("heading") == len(load_report().headings)
    p20 = next(u for u in units if u.paragraph == 20)
    assert p20.embed_text.startswith("Mesures prises par l'Office") and "ONUDC" in p20.search_text
    assert p20.id == f"{SEED_ID}#p20" and p20.local_id == "p20" and p20.document == SEED_ID
    heading = next(u for u in units if u.id == f"{SEED_ID}#h:IV.E")
    assert heading.paragraph is None and heading.text.endswith("(§76–§82)") and heading.heading_label == "IV.E"
    assert units[0].embed_text.startswith("Résumé du rapport : ")  # the seed's summary, in its language


@pytest.fixture
def built(library):
    build_index(library)
    return library


def _store(settings) -> str:
    return json.loads((settings.index_dir / MANIFEST_FILE).read_text())["documents"][0]["store"]


def test_manifest_records_what_built_the_index_and_each_document(built, fake_embedder):
    manifest = json.loads((built.index_dir / MANIFEST_FILE).read_text())
    assert manifest["format_version"] == FORMAT_VERSION == 2 and manifest["model_id"] == "fake"
    assert manifest["parser_sha256"] == parser_sha256() and manifest["index_type"] == "flat"
    [entry] = manifest["documents"]
    report = load_report()
    units = build_units(report)
    assert (entry["id"], entry["file"], entry["language"], entry["paragraphs"]) == (
        SEED_ID, "unodc-crime-prevention-report-2020.fr.md", "fr", 116)
    assert entry["units"] == manifest["units"] == len(units) and entry["sentences"] == len(unit_sentences(units))
    assert entry["store"].startswith(f"{DOCS_DIR}/{SEED_ID}-")
    assert sorted(entry["files"]) == ["report.json", "sentences.npy", "units.json", "vectors.npy"]
    assert list(manifest["lexical"]) == ["fr"]
    assert all(name.startswith("lexical-fr.") for name in manifest["lexical"]["fr"])
    assert fake_embedder.calls == 2  # the units, then the sentences
    everything = [p for p in built.index_dir.rglob("*")]
    assert [p.name for p in everything if p.name.startswith(".")] == []  # temp files renamed, none left


def test_load_checks_and_returns_the_same_units(built, fake_embedder):
    index = load_index(built)
    assert index.units == build_units(load_report())
    assert index.vectors.ntotal == len(index.units) and list(index.reports) == [SEED_ID]
    assert index.reports[SEED_ID] == load_report() and fake_embedder.calls == 2  # loading embeds nothing


def _edit_manifest(folder, **changes):
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    (folder / MANIFEST_FILE).write_text(json.dumps({**manifest, **changes}))


def _edit_document(folder, **changes):
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["documents"][0].update(changes)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))


def _in_store(folder, name):
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    return folder / manifest["documents"][0]["store"] / name


DAMAGE = {
    "faiss": (lambda d: (d / FAISS_FILE).write_bytes(b"garbage"), "units.faiss .*corrupt"),
    "units": (lambda d: _in_store(d, UNITS_FILE).write_text("[]"), "units.json of .*corrupt"),
    "sentences": (lambda d: _in_store(d, SENTENCES_FILE).unlink(), "sentences.npy of .* missing"),
    "lexical": (lambda d: (d / "lexical-fr.vocab.index.json").write_text("{}"), "lexical-fr.vocab.*corrupt"),
    "manifest": (lambda d: (d / MANIFEST_FILE).write_text("{not json"), "unreadable manifest"),
    "corpus": (lambda d: _edit_document(d, sha256="0" * 64), "the library changed: changed unodc"),
    "model": (lambda d: _edit_manifest(d, model_sha256="f" * 64), "model_sha256"),
    "format": (lambda d: _edit_manifest(d, format_version=1), "format_version"),
    "encoder": (lambda d: _edit_manifest(d, encoder="torch"), "encoder"),
    "encoder file": (lambda d: _edit_manifest(d, encoder_sha256="e" * 64), "encoder_sha256"),
    "parser": (lambda d: _edit_manifest(d, parser_sha256="p" * 64), "parser_sha256"),
    "index type": (lambda d: _edit_manifest(d, index_type="ivf-sq8"), "gets a flat index"),
    "absent": (lambda d: (d / MANIFEST_FILE).unlink(), "no index"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_stale_or_corrupt_index_is_refused(built, case):
    damage, reason = DAMAGE[case]
    damage(built.index_dir)
    with pytest.raises(StaleIndexError, match=reason):
        load_index(built)


# What bringing each damaged index up to date embeds again: nothing when the documents' stored
# vectors check out (FAISS, BM25 and the manifest are reassembled from them), the document whose
# store does not, everything when the model or the format changed.
EMBEDS_AGAIN = {"faiss": 0, "lexical": 0, "index type": 0, "parser": 0, "units": 2, "sentences": 2, "corpus": 2,
                "model": 2, "format": 2, "manifest": 2, "absent": 2}


@pytest.mark.parametrize("case", sorted(EMBEDS_AGAIN))
def test_a_refused_index_is_brought_up_to_date_with_one_log_line(built, fake_embedder, caplog, case):
    damage, reason = DAMAGE[case]
    damage(built.index_dir)
    before = fake_embedder.calls
    with caplog.at_level(logging.WARNING, logger="assistant.search.index"):
        index = ensure_index(built)
    updated = [r.getMessage() for r in caplog.records if "updating the index" in r.getMessage()]
    assert len(updated) == 1 and updated[0].startswith(f"updating the index in {built.index_dir}: ")
    assert fake_embedder.calls - before == EMBEDS_AGAIN[case]
    assert load_index(built).manifest == index.manifest  # what was written now validates


def test_crossing_the_size_threshold_rebuilds_with_the_other_index_type(built, fake_embedder, caplog):
    """A library at or above Settings.exact_search_max gets IVF-SQ8; an index of the other type
    is stale and reassembled without being asked (and without embedding)."""
    import faiss

    from assistant.search.retrieval import Retriever

    exact = Retriever(load_index(built), built)
    settings = built.replace(exact_search_max=100)  # the seed's ~150 units cross it
    with caplog.at_level(logging.WARNING, logger="assistant.search.index"):
        index = ensure_index(settings)
    assert any("gets a ivf-sq8 index, not flat" in r.getMessage() for r in caplog.records)
    assert index.manifest["index_type"] == "ivf-sq8" and isinstance(index.vectors, faiss.IndexIVFScalarQuantizer)
    assert load_index(settings).manifest == index.manifest and fake_embedder.calls == 2
    # IVF-SQ8 searching every cluster (nprobe >= nlist here) ranks as exact search does, to 8 bits.
    approximate = Retriever(index, settings)
    for question in ("Combien d'États sont parties à la Convention contre la corruption ?",
                     "How many users consulted the SHERLOC portal in 2019?"):
        assert approximate.retrieve(question)[0].unit_id == exact.retrieve(question)[0].unit_id


@pytest.mark.model
def test_the_real_models_manifest(tmp_path):
    """The project's index: built with the converted model and the onnxruntime encoder."""
    settings = Settings(index_dir=tmp_path / "index")
    build_index(settings)
    manifest = json.loads((settings.index_dir / MANIFEST_FILE).read_text())
    assert manifest["model_id"] == "intfloat/multilingual-e5-small" and len(manifest["model_sha256"]) == 64
    assert manifest["encoder"] == "onnx" and len(manifest["encoder_sha256"]) == 64
    assert manifest["dimension"] == 384 and manifest["index_type"] == "flat"  # ~150 units: exact search
    assert [d["id"] for d in manifest["documents"]] == [SEED_ID]
    assert load_index(settings).units == build_units(load_report())
