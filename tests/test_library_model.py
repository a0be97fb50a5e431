"""The library with the real model and FAISS (issue #14): the seed and two sample PDFs. Adding a
document embeds it alone (counted), list and remove, the documents filter, the right document
cited, and the seed's own questions still answered from the seed in the mixed library."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from conftest import SEED, SEED_ID

from assistant import Citation, add_report, answer, library_reports, remove_report, retrieve
from assistant.search import index as index_module
from assistant.search.index import MANIFEST_FILE, build_units, load_index, unit_sentences
from assistant.settings import ROOT, Settings

pytestmark = pytest.mark.model

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "un-samples"
ADDED = ("S_2025_303.en.pdf", "S_2025_420.en.pdf")  # two UNODC reports on Haiti: close neighbours


class CountingEmbedder:
    """The real embedder, counting the passages it embeds."""

    def __init__(self, real):
        self.real = real
        self.passages = 0

    def embed_passages(self, texts, progress=False):
        self.passages += len(texts)
        return self.real.embed_passages(texts, progress=progress)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """The seed (its vectors taken from the project's index, as `make index` built them) and two
    sample PDFs added one by one; yields (settings, {doc id: passages embedded when added}, the
    counting embedder, {doc id: seconds to add})."""
    root = tmp_path_factory.mktemp("library")
    (root / "corpus").mkdir()
    shutil.copy(SEED, root / "corpus")
    if not (ROOT / "index" / MANIFEST_FILE).is_file():
        pytest.fail("the project's index is missing: run `make index` (or `assistant index`) first")
    shutil.copytree(ROOT / "index", root / "index")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    counting = CountingEmbedder(index_module.get_embedder(settings))
    embedded, took = {}, {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index_module, "get_embedder", lambda s, progress=False: counting)
        for name in ADDED:
            before, started = counting.passages, time.perf_counter()
            report = add_report(SAMPLES / name, settings)
            took[report.doc_id] = time.perf_counter() - started
            embedded[report.doc_id] = counting.passages - before
        yield settings, embedded, counting, took


def test_adding_a_document_embeds_it_alone(library):
    settings, embedded, _, took = library
    for doc, count in embedded.items():
        units = build_units(library_reports(settings)[doc])
        assert count == len(units) + len(unit_sentences(units)), doc  # not one passage of the others
    print(f"\nadd: {', '.join(f'{d} {t:.1f} s' for d, t in took.items())}")


def test_list_and_a_new_process(library):
    settings, _, counting, _ = library
    assert list(library_reports(settings)) == ["S/2025/303", "S/2025/420", SEED_ID]
    before = counting.passages
    index = load_index(settings)  # what another process finds: current, nothing to embed
    assert list(index.reports) == ["S/2025/303", "S/2025/420", SEED_ID] and counting.passages == before


@pytest.mark.parametrize("question, document, paragraph, fact", [
    ("Where did Dominican security forces raid a commercial establishment linked to arms trafficking?",
     "S/2025/303", 25, "Elías Piña"),
    ("Which former official did the Anti-Corruption Unit issue a wanted notice for in March 2025?",
     "S/2025/303", 55, "Ombudsman"),
    # Known miss (since fusion by scaled scores; under reciprocal ranks too once the ten sample
    # reports are in the library): S/2025/303 §10 tells of the same prison attack in the question's
    # words and comes first; where residents fled stands in S/2025/420 §31 ("fled to nearby towns
    # such as Lascahobas"), which is quoted third, by another sentence.
    pytest.param("Where did residents flee after the attack on the Mirebalais prison?", "S/2025/420", 31,
                 "Lascahobas", marks=pytest.mark.xfail(strict=True, reason="S/2025/303 §10 is quoted first")),
    ("What did the Minister of Justice of Haiti instruct the chief prosecutor to freeze?", "S/2025/420", 43,
     "bank accounts"),
    ("Combien d'États sont parties à la Convention contre la corruption ?", SEED_ID, 46, "187 parties"),
    ("How many users consulted the SHERLOC portal in 2019?", SEED_ID, 24, "338 196"),
])
def test_the_right_document_is_cited(library, question, document, paragraph, fact):
    settings = library[0]
    a = answer(question, settings)
    assert not a.abstained and a.citations[0].document == document, a.text
    assert Citation(document, paragraph) in a.citations and fact in a.text
    assert f"({document} §{paragraph})" in a.text  # several documents: the mark names it


def test_the_documents_filter(library):
    settings = library[0]
    question = "What do the criminal groups use to transport weapons along the coast?"
    for document in ("S/2025/303", "S/2025/420"):
        a = answer(question, settings, documents=[document])
        assert {p.document for p in a.passages} == {document}
        assert all(c.document == document for c in a.citations)
        assert f"{document} §" not in a.text  # one document searched: "(§N)"
    passages = retrieve(question, 5, settings, documents=[SEED_ID])
    assert {p.document for p in passages} == {SEED_ID}


def test_removing_a_document(library):
    settings, _, counting, _ = library
    before = counting.passages
    remove_report("S/2025/420", settings)
    assert list(library_reports(settings)) == ["S/2025/303", SEED_ID] and counting.passages == before
    a = answer("Where did residents flee after the attack on the Mirebalais prison?", settings)
    assert all(c.document != "S/2025/420" for c in a.citations)
