"""The library (issue #14) with the fake embedder: documents added, listed and removed, the index
kept in step embedding only what is new, the documents filter, citations with their document,
BM25 per language, the command line. Seconds, no model (tests/conftest.py)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, SEED, SEED_ID

from assistant import Citation, LibraryError, add_report, answer, library_reports, remove_report, retrieve
from assistant.app import cli
from assistant.compose.answering import lead
from assistant.compose.citations import numbers_outside_citations
from assistant.compose.generate import verify
from assistant.ingest.corpus import load_any
from assistant.ingest.structure import PdfParseError
from assistant.library import library_examples
from assistant.records import Passage, Report, report_from_dict, report_to_dict, slug
from assistant.search import index as index_module
from assistant.search.index import MANIFEST_FILE, build_units, ensure_index, load_index, unit_sentences
from assistant.search.lexical import LexicalIndex, LibraryLexical, analyzer
from assistant.search.retrieval import Retrieval, StructuralRef, _names
from assistant.text import numbers

MINI_EN = FIXTURES / "mini_report_en.md"  # "mini-report": English, 3 paragraphs
SAMPLES = Path(__file__).resolve().parent / "fixtures" / "un-samples"


def _texts(report: Report) -> int:
    """How many passages embedding a report takes: its units and its sentences."""
    units = build_units(report)
    return len(units) + len(unit_sentences(units))


# --- records ------------------------------------------------------------------------------------------

def test_a_citation_names_document_and_paragraph():
    c = Citation("S/2025/303", 12)
    assert (c.label, str(c)) == ("S/2025/303 §12", "S/2025/303 §12")
    assert dataclasses.asdict(c) == {"document": "S/2025/303", "paragraph": 12}
    assert sorted([Citation("S/2025/303", 12), Citation("A/80/62", 40), Citation("S/2025/303", 2)]) == [
        Citation("A/80/62", 40), Citation("S/2025/303", 2), Citation("S/2025/303", 12)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.paragraph = 3
    assert Passage(12, (), "t", 1.0, document="S/2025/303").citation == c
    assert Passage(None, ("I.",), "t", 1.0, kind="heading").citation is None


def test_document_ids():
    assert load_any(SEED).doc_id == SEED_ID  # no symbol in the seed's text: its file's name
    assert load_any(MINI_EN).doc_id == "mini-report"  # "_en", a language suffix, is no part of the name
    assert (slug("S/2025/303"), slug("Report.FR"), slug("E/CN.5/2025/4")) == ("s-2025-303", "report", "e-cn.5-2025-4")


@pytest.mark.skipif(not (SAMPLES / "S_2025_303.en.pdf").is_file(), reason="sample PDFs not found")
def test_a_pdf_is_named_by_its_symbol_and_round_trips_through_json():
    report = load_any(SAMPLES / "S_2025_303.en.pdf")
    assert report.doc_id == "S/2025/303" and report.language == "en"
    again = report_from_dict(json.loads(json.dumps(report_to_dict(report))))
    assert again == report and again.parts == report.parts and again.footnotes == report.footnotes


def test_the_seed_round_trips_through_json():
    report = load_any(SEED)
    assert report_from_dict(json.loads(json.dumps(report_to_dict(report)))) == report


# --- adding, listing, removing ------------------------------------------------------------------------

def test_adding_a_document_embeds_it_alone(library, fake_embedder):
    ensure_index(library)
    assert fake_embedder.calls == 2 and len(fake_embedder.texts) == _texts(load_any(SEED))
    fake_embedder.texts.clear()
    report = add_report(MINI_EN, library)
    assert report.doc_id == "mini-report" and (library.corpus_dir / MINI_EN.name).is_file()
    assert fake_embedder.calls == 4 and len(fake_embedder.texts) == _texts(report)  # the seed was not embedded
    assert list(library_reports(library)) == ["mini-report", SEED_ID]
    manifest = json.loads((library.index_dir / MANIFEST_FILE).read_text())
    assert [d["id"] for d in manifest["documents"]] == ["mini-report", SEED_ID]
    assert sorted(manifest["lexical"]) == ["en", "fr"]  # a BM25 per language
    # What a new process finds on disk is current: nothing is embedded or parsed again.
    index = load_index(library)
    assert [u.document for u in index.units].count("mini-report") == len(build_units(report))
    assert fake_embedder.calls == 4


# --- example questions, kept beside each document ---------------------------------------------------

def test_example_questions_are_a_document_s_data_not_a_document(library, fake_embedder):
    from assistant.ingest.corpus import corpus_files, examples_file

    assert library_examples(library_reports(library).values(), library) == []  # none yet: the chat's generic ones
    seed_examples = examples_file(SEED)
    assert seed_examples.name == "unodc-crime-prevention-report-2020.fr.examples.txt" and seed_examples.is_file()
    shutil.copy(seed_examples, library.corpus_dir)
    assert [cf.path.name for cf in corpus_files(library)] == [SEED.name]  # not read as a report
    index = ensure_index(library)
    assert json.loads((library.index_dir / MANIFEST_FILE).read_text())["left_out"] == []
    examples = library_examples(index.reports.values(), library)
    assert examples[0] == "Combien d'États sont parties à la Convention contre la corruption ?" and len(examples) == 5
    assert not any(q.startswith("#") for q in examples)


def test_the_chat_shows_the_library_s_examples_or_generic_ones(library, fake_embedder):
    from assistant.app.ui import GENERIC_EXAMPLES, build_app
    from assistant.ingest.corpus import examples_file

    def shown() -> list[str]:
        datasets = [c for c in build_app(library).config["components"] if c.get("type") == "dataset"]
        return [row[0] for c in datasets for row in c["props"]["samples"]]

    assert shown() == GENERIC_EXAMPLES
    shutil.copy(examples_file(SEED), library.corpus_dir)
    assert shown() == library_examples(library_reports(library).values(), library) and len(shown()) == 5


def test_adding_a_document_brings_its_examples_and_removing_it_takes_them(library, fake_embedder, tmp_path):
    source = tmp_path / MINI_EN.name
    shutil.copy(MINI_EN, source)
    add_report(source, library)  # no examples beside it: nothing breaks
    assert library_examples(library_reports(library).values(), library) == []
    remove_report("mini-report", library)
    (tmp_path / "mini_report_en.examples.txt").write_text("# comment\n\nWhat was trained?\n", encoding="utf-8")
    add_report(source, library)
    assert (library.corpus_dir / "mini_report_en.examples.txt").is_file()
    assert library_examples(library_reports(library).values(), library) == ["What was trained?"]
    remove_report("mini-report", library)
    assert sorted(p.name for p in library.corpus_dir.iterdir()) == [SEED.name]


def test_adding_reports_progress_only_when_asked(library, fake_embedder, capsys):
    """`assistant add` on a terminal passes progress=True: a line per document (and the real
    embedder's bar); a script's add prints nothing."""
    ensure_index(library)
    capsys.readouterr()
    add_report(MINI_EN, library)
    assert "embedding" not in capsys.readouterr().err
    remove_report("mini-report", library)
    add_report(MINI_EN, library, progress=True)
    assert "embedding mini-report: " in capsys.readouterr().err


def test_removing_a_document_embeds_nothing(library, fake_embedder):
    add_report(MINI_EN, library)
    calls = fake_embedder.calls
    removed = remove_report("mini-report", library)
    assert removed.doc_id == "mini-report" and not (library.corpus_dir / MINI_EN.name).exists()
    assert fake_embedder.calls == calls and list(library_reports(library)) == [SEED_ID]
    stores = sorted(p.name for p in (library.index_dir / "docs").iterdir())
    assert len(stores) == 1 and stores[0].startswith(SEED_ID)  # the removed document's store is gone
    assert not list(library.index_dir.glob("lexical-en.*"))
    with pytest.raises(LibraryError, match="no document 'mini-report' in the library"):
        remove_report("mini-report", library)
    assert [u.document for u in ensure_index(library).units] == [SEED_ID] * len(build_units(load_any(SEED)))


def test_an_unreadable_file_leaves_the_library_unchanged(library, fake_embedder, tmp_path):
    ensure_index(library)
    manifest = (library.index_dir / MANIFEST_FILE).read_bytes()
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7 not really")
    with pytest.raises(PdfParseError, match="not a readable PDF"):
        add_report(bad, library)
    with pytest.raises(FileNotFoundError):
        add_report(tmp_path / "missing.md", library)
    assert sorted(p.name for p in library.corpus_dir.iterdir()) == [SEED.name]
    assert (library.index_dir / MANIFEST_FILE).read_bytes() == manifest and fake_embedder.calls == 2


def test_the_same_document_twice(library, fake_embedder, tmp_path):
    again = add_report(SEED, library)  # the file the library holds: nothing to do
    assert again.doc_id == SEED_ID and fake_embedder.calls == 2
    edited = tmp_path / "unodc-crime-prevention-report-2020.md"  # another file, the same name once read
    edited.write_text(SEED.read_text(encoding="utf-8").replace("187 parties", "188 parties"), encoding="utf-8")
    with pytest.raises(LibraryError, match=f"{SEED_ID} is already in the library .*remove it first"):
        add_report(edited, library)
    assert sorted(p.name for p in library.corpus_dir.iterdir()) == [SEED.name]


def test_a_file_put_into_the_folder_by_hand_is_indexed_and_a_broken_one_left_out(library, fake_embedder):
    shutil.copy(MINI_EN, library.corpus_dir)
    (library.corpus_dir / "notes.txt").write_text("no numbered paragraph here\n")
    index = ensure_index(library)
    assert list(index.reports) == ["mini-report", SEED_ID]
    manifest = json.loads((library.index_dir / MANIFEST_FILE).read_text())
    assert [x["file"] for x in manifest["left_out"]] == ["notes.txt"]
    assert load_index(library).manifest == manifest  # the broken file is remembered, not read at every start


# --- asking the library -------------------------------------------------------------------------------

QUESTION_EN = "How many police officers did the mission train?"


def test_citations_carry_their_document(library, fake_embedder):
    add_report(MINI_EN, library)
    a = answer(QUESTION_EN, library)
    assert not a.abstained and a.citations[0] == Citation("mini-report", 1)
    assert "« The demonstration mission trained 340 police officers" in a.text
    assert "(mini-report §1)" in a.text  # two documents searched: the citation names its document
    assert a.text.startswith("The report says:")  # an English document, quoted to an English question
    assert [q.citation for q in a.quotes][:1] == [Citation("mini-report", 1)]
    seed = answer("Combien d'États sont parties à la Convention contre la corruption ?", library)
    assert seed.citations[0] == Citation(SEED_ID, 46) and f"({SEED_ID} §46)" in seed.text


def test_the_documents_filter(library, fake_embedder):
    add_report(MINI_EN, library)
    a = answer(QUESTION_EN, library, documents=["mini-report"])
    assert a.citations[0] == Citation("mini-report", 1) and "(§1)" in a.text  # one document in scope
    assert {p.document for p in a.passages} == {"mini-report"}
    assert {p.document for p in retrieve(QUESTION_EN, 5, library, documents=[SEED_ID])} == {SEED_ID}
    both = retrieve(QUESTION_EN, 10, library, documents=[SEED_ID, "mini-report"])
    assert both == retrieve(QUESTION_EN, 10, library)
    with pytest.raises(ValueError, match="no document 'S/1999/1' in the library; it holds: mini-report, unodc"):
        answer(QUESTION_EN, library, documents=["S/1999/1"])
    with pytest.raises(ValueError, match="not a str"):
        retrieve(QUESTION_EN, 5, library, documents="mini-report")
    with pytest.raises(ValueError, match=r"documents\[0\] must be a document id"):
        answer(QUESTION_EN, library, documents=[7])


def test_paragraph_numbers_belong_to_the_one_document_searched(library, fake_embedder):
    add_report(MINI_EN, library)
    direct = answer("What does paragraph 2 say?", library, documents=["mini-report"])
    assert direct.mode == "direct" and direct.citations == [Citation("mini-report", 2)]
    assert "Armed groups kept running checkpoints" in direct.text
    # Two documents: "paragraph 2" is no one paragraph; the question is searched like any other.
    assert answer("What does paragraph 2 say?", library).mode != "direct"
    missing = answer("What does paragraph 9 say?", library, documents=["mini-report"])
    assert missing.abstained and "no paragraph 9: its paragraphs run from 1 to 3" in missing.text


def test_the_words_a_question_on_the_documents_says_nothing_with_come_from_them(library, fake_embedder):
    from assistant.search.retrieval import get_retriever

    add_report(MINI_EN, library)
    # The seed's ONUDC stands in most of its paragraphs (Report.common_acronyms): with UNODC, its
    # English name, it says nothing of what a question asks, wherever the seed is searched.
    assert get_retriever(library).common_stems == {"onudc", "unodc"}
    assert get_retriever(library, [SEED_ID]).common_stems == {"onudc", "unodc"}
    assert get_retriever(library, ["mini-report"]).common_stems == frozenset()


def test_restricted_retrievers_are_shared_and_keep_their_settings(library, fake_embedder):
    from assistant.search.retrieval import get_retriever

    add_report(MINI_EN, library)
    a = get_retriever(library, ["mini-report"])
    b = get_retriever(library.replace(k=3), ["mini-report"])
    assert a.index is b.index and (a.settings.k, b.settings.k) == (5, 3) and a.single_document == "mini-report"
    named = get_retriever(library.replace(k=2)).for_question("What does mini-report say about patrols?")
    assert named.single_document == "mini-report" and named.settings.k == 2 and named.index is a.index
    assert len(retrieve("What does mini-report say about patrols?", 2, library)) == 2


def test_the_cross_language_shift_lifts_units_in_another_language(library, fake_embedder):
    from assistant.search.retrieval import get_retriever

    add_report(MINI_EN, library)  # English, beside the French seed
    retriever = get_retriever(library)
    shift = retriever._language_shift(QUESTION_EN)
    french = np.array([u.document == SEED_ID for u in retriever.index.units])
    assert shift is not None and set(shift[french]) == {0.04} and set(shift[~french]) == {0.0}
    assert retriever._language_shift("Combien de policiers la mission a-t-elle formés ?") is None  # no fr>en shift
    assert get_retriever(library.replace(cross_language_shift="none"))._language_shift(QUESTION_EN) is None
    # A shift large enough puts the seed first for an English question about the English report.
    assert retrieve(QUESTION_EN, 1, library.replace(cross_language_shift="none"))[0].document == "mini-report"
    assert retrieve(QUESTION_EN, 1, library.replace(cross_language_shift="en>fr:5"))[0].document == SEED_ID
    with pytest.raises(ValueError, match="is not 'asked>unit:number'"):
        retrieve(QUESTION_EN, 1, library.replace(cross_language_shift="en=fr"))


def test_a_background_update_embeds_nothing_new_and_a_full_rebuild_everything(library, fake_embedder):
    """What `assistant serve` does on SIGHUP (update) and SIGUSR1 (full rebuild)."""
    from assistant.search.refresh import rebuild_in_background

    ensure_index(library)
    fake_embedder.texts.clear()
    took = []
    rebuild_in_background(library, on_done=took.append).join()
    assert fake_embedder.texts == [] and took[0] is not None
    rebuild_in_background(library, on_done=took.append, full=True).join()
    assert len(fake_embedder.texts) == _texts(load_any(SEED)) and took[1] is not None


def test_an_update_with_nothing_changed_rewrites_nothing_and_swaps_nothing(library, fake_embedder):
    """A SIGHUP with no new file: the index on disk is read, not reassembled and written again,
    and the index answering stays the one installed."""
    from assistant.search.index import installed
    from assistant.search.refresh import rebuild_in_background

    answering = ensure_index(library)
    files = {p: p.stat().st_mtime_ns for p in library.index_dir.rglob("*") if p.is_file()}
    fake_embedder.texts.clear()
    took = []
    rebuild_in_background(library, on_done=took.append).join()
    assert took[0] is not None and fake_embedder.texts == []
    assert {p: p.stat().st_mtime_ns for p in library.index_dir.rglob("*") if p.is_file()} == files
    assert installed(library) is answering
    # A changed library is still taken in: a new document is embedded and swapped in.
    add_report(MINI_EN, library)
    assert installed(library) is not answering and "mini-report" in installed(library).reports


def test_a_background_rebuild_embeds_on_its_own_lower_priority_thread(library, fake_embedder):
    """A rebuild while serving embeds with the encoder's one-thread copy (``for_background``),
    from a thread of lower priority; the index answers with the process-wide embedder, and the
    threads answering keep their priority."""
    import os
    import sys
    import threading

    from assistant.search.refresh import rebuild_in_background

    seen = []

    class Background(type(fake_embedder)):
        def embed_passages(self, texts, progress=False):
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return super().embed_passages(texts, progress)

    background = Background()
    fake_embedder.for_background = lambda: background
    ensure_index(library)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    fake_embedder.texts.clear()
    rebuild_in_background(library, full=True).join()
    assert fake_embedder.texts == [] and len(background.texts) == _texts(load_any(SEED))
    if sys.platform.startswith("linux"):
        assert seen and all(p > mine for p in seen)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
    assert ensure_index(library).embedder is fake_embedder


def test_a_one_language_library_is_never_shifted(library, fake_embedder):
    from assistant.search.retrieval import get_retriever

    assert get_retriever(library)._language_shift("How many States are parties?") is None


def test_a_question_naming_a_document_searches_it():
    assert _names("What does S/2025/303 say about ammunition?", "S/2025/303")
    assert _names("que dit s/2025/303 ?", "S/2025/303")
    assert not _names("What does S/2025/3030 say?", "S/2025/303")
    assert not _names("See E/CN.5/2025/4.1", "E/CN.5/2025/4")
    assert _names("In E/CN.5/2025/4.", "E/CN.5/2025/4")


def test_an_empty_library_says_how_to_fill_it(tmp_path, fake_embedder):
    from assistant.settings import Settings

    empty = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    (tmp_path / "corpus").mkdir()
    with pytest.raises(ValueError, match="holds no document: add one with `assistant add FILE`"):
        answer(QUESTION_EN, empty)


def test_an_answer_says_in_which_language_it_quotes():
    languages = {"S/2025/303": "en", "A/80/62": "en", SEED_ID: "fr"}
    assert lead("fr", [SEED_ID], languages) == "Selon le rapport :"
    assert lead("en", [SEED_ID, SEED_ID], languages) == "The report says (in French):"
    assert lead("en", ["S/2025/303"], languages) == "The report says:"
    assert lead("fr", ["S/2025/303"], languages) == "Selon le rapport (en anglais) :"
    assert lead("en", ["S/2025/303", "A/80/62"], languages) == "The reports say:"
    assert lead("fr", ["S/2025/303", SEED_ID], languages) == "Selon les rapports :"


def test_numbers_in_citation_marks_are_not_the_answers():
    text = "« 340 officers » (S/2025/303 §12)\n« two » (§4)\n« x » (E/CN.5/2025/4 §3, §5)"
    assert numbers_outside_citations(text).split() == ["«", "340", "officers", "»", "«", "two", "»", "«", "x", "»"]
    # A section's answer says where it runs: paragraphs, not figures (the eval counted them as
    # numbers outside the citations until 2026-12-03: 7 section questions of dev).
    section = "La partie « V. Gouvernance » couvre les paragraphes §93 à §103. En 2019 : « 1 800 » (§95)"
    assert numbers(numbers_outside_citations(section)) == ["2019", "1800"]


def test_generated_citations_are_resolved_to_a_document():
    passages = [Passage(1, ("I.",), "The mission trained 340 police officers.", 1.0, document="mini-report"),
                Passage(1, ("I.",), "Le rapport compte 187 parties.", 0.9, document=SEED_ID),
                Passage(2, ("I.",), "Patrols every week.", 0.8, document="mini-report")]
    found = Retrieval("q", passages, np.zeros(4), np.zeros(3), StructuralRef())
    text, warnings, abstained, cited = verify(
        "It trained 340 officers (mini-report §1). Patrols run weekly (§2). It trained 340 people (§1).", found, "en")
    assert not abstained and cited == [Citation("mini-report", 1), Citation("mini-report", 2)]
    assert text == "It trained 340 officers (mini-report §1). Patrols run weekly (mini-report §2)."
    assert any("§1" in w and "not retrieved" in w for w in warnings)  # "§1" alone: two documents have one


# --- BM25 per language --------------------------------------------------------------------------------

def test_each_language_is_read_with_its_own_stemmer_and_stop_words():
    assert analyzer("en")("The groups kept running checkpoints") == ["group", "kept", "run", "checkpoint"]
    assert analyzer("fr")("Les groupes ont tenu des postes") == ["group", "tenu", "post"]
    assert analyzer("xx")("Ünïcödé 338 196 words") == ["unicode", "338196", "words"]  # no stemmer: folded only


def test_the_library_lexical_index_reads_each_document_in_its_language(tmp_path):
    seed, mini = load_any(SEED), load_any(MINI_EN)
    units = build_units(mini) + build_units(seed)
    reports = {"mini-report": mini, SEED_ID: seed}
    assert (mini.language, seed.language) == ("en", "fr")
    lexical = LibraryLexical.build(units, reports)
    scores = lexical.scores("checkpoints running on roads")
    best = units[int(np.argmax(scores))]
    assert best.id == "mini-report#p2"  # "running" meets "runs" only through the English stemmer
    assert LexicalIndex([units[2]], "fr").scores("running")[0] == 0.0
    french = lexical.scores("Combien d'États sont parties à la Convention contre la corruption ?")
    assert units[int(np.argmax(french))].id == f"{SEED_ID}#p46"
    files = lexical.save(tmp_path)
    again = LibraryLexical.load(tmp_path, files, units, reports)
    assert np.array_equal(again.scores("checkpoints running on roads"), scores)


# --- the command line ---------------------------------------------------------------------------------

def test_cli_add_list_ask_remove(library, fake_embedder, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(library.corpus_dir))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(library.index_dir))
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7 not really")
    assert cli.main(["add", str(MINI_EN), str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out.startswith("added mini-report — Report of the Secretary-General on a small demonstration mission")
    assert "(en, 3 paragraphs) in " in out and out.count("\n") == 1
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {bad}: ") and "not a readable PDF" in err
    assert cli.main(["list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split() == ["document", "lang", "§", "title", "(file)"]
    assert listed[1].split()[:3] == ["mini-report", "en", "3"] and listed[2].split()[:3] == [SEED_ID, "fr", "116"]
    assert cli.main(["ask", "--document", "mini-report", QUESTION_EN]) == 0
    out = capsys.readouterr().out
    assert "(§1)" in out and "Citations: §1" in out
    assert cli.main(["ask", "--json", QUESTION_EN]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["citations"][0] == {"document": "mini-report", "paragraph": 1}
    assert cli.main(["remove", "mini-report"]) == 0
    assert capsys.readouterr().out == "removed mini-report (mini_report_en.md)\n"
    assert cli.main(["remove", "mini-report"]) == 2
    assert capsys.readouterr().err.startswith("error: no document 'mini-report' in the library (it holds: unodc")


def test_index_update_is_atomic_per_file(library, fake_embedder, monkeypatch):
    """A write that fails half-way leaves the last manifest, which still names only what it had;
    the next update finishes the job (embedding the new document again: a store the manifest does
    not name is not trusted)."""
    ensure_index(library)
    index_module._loaded.clear()
    shutil.copy(MINI_EN, library.corpus_dir)
    real = index_module.atomic_write

    def fails_on_faiss(path, write):
        if path.name == index_module.FAISS_FILE:
            raise OSError(28, "No space left on device")
        return real(path, write)

    monkeypatch.setattr(index_module, "atomic_write", fails_on_faiss)
    with pytest.raises(index_module.IndexWriteError, match="No space left on device"):
        index_module.update_index(library)
    manifest = json.loads((library.index_dir / MANIFEST_FILE).read_text())
    assert [d["id"] for d in manifest["documents"]] == [SEED_ID]  # the old manifest, untouched
    monkeypatch.setattr(index_module, "atomic_write", real)
    calls = fake_embedder.calls
    index = index_module.update_index(library)
    assert list(index.reports) == ["mini-report", SEED_ID] and fake_embedder.calls == calls + 2
    assert load_index(library).manifest == index.manifest
