"""The learned English -> French lexicon: its file, some general UN vocabulary, the learner on a
planted corpus, and that learning is deterministic."""

from __future__ import annotations

import random
import re

import pytest

from assistant.search.glossary import parse_glossary
from assistant.search.lexical import tokenize
from assistant.search.lexicon import LEXICON, lexicon, restricted
from assistant.search.lexicon_learn import DEFAULT_DATA, learn, main, render

# A tiny parallel corpus whose translations are known: ten words, and one term whose French is no
# word-for-word rendering ("money laundering" -> "blanchiment d'argent", order reversed).
PLANTED = {"cat": "chat", "dog": "chien", "house": "maison", "garden": "jardin", "river": "fleuve",
           "bread": "pain", "window": "fenêtre", "school": "école", "teacher": "enseignant", "judge": "juge",
           "money": "argent"}
TERM = ("money laundering", "blanchiment d'argent")


def _planted_corpus(n: int = 400, seed: int = 3) -> list[tuple[str, str]]:
    """Sentences "the X and the Y …" / "le X et le Y …" of 2-5 planted words, a tenth with the term;
    a third in the reverse order in French and a seventh with a French word no English one means."""
    rng = random.Random(seed)
    words = sorted(PLANTED)
    pairs = []
    for k in range(n):
        chosen = rng.sample(words, rng.randint(2, 5))
        english, french = [f"the {w}" for w in chosen], [f"le {PLANTED[w]}" for w in chosen]
        if k % 10 == 0:
            at = rng.randint(0, len(chosen))
            english.insert(at, f"the {TERM[0]}")
            french.insert(at, f"le {TERM[1]}")
        if k % 3 == 0:
            french.reverse()
        if k % 7 == 0:
            french.insert(rng.randint(0, len(french)), "également")
        pairs.append((" and ".join(english).capitalize() + ".", " et ".join(french).capitalize() + "."))
    return pairs


def _stems(french_terms: list[str]) -> set[str]:
    return {s for f in french_terms for s in tokenize(f)}


def test_the_file_parses_as_a_glossary_and_stays_small():
    text = LEXICON.read_text(encoding="utf-8")
    assert "Ziemski" in text and "United Nations" in text and "python -m assistant.search.lexicon_learn" in text
    lines = [line for line in text.splitlines() if line.split("#", 1)[0].strip()]
    assert 1000 < len(lines) <= 8000
    assert len(lexicon().entries) == len(lines)  # one English key a line


@pytest.mark.parametrize("english, french", [
    ("trafficking", "trafic"),
    ("money laundering", "blanchiment"),
    ("corruption", "corruption"),
    ("women", "femmes"),
    ("children", "enfants"),
    ("human rights", "droits de l'homme"),
    ("international cooperation", "coopération internationale"),
])
def test_general_un_vocabulary_reaches_french_stems(english, french):
    assert set(tokenize(french)) <= _stems(lexicon().french_for(english))


@pytest.mark.parametrize("english, french", [
    ("States parties", "états parties"),
    ("Member States", "états membres"),
    ("the General Assembly", "assemblée générale"),
    ("the Security Council", "conseil de sécurité"),
    ("the United Nations", "nations unies"),
    ("the rule of law", "état de droit"),
])
def test_un_terms_are_read_whole(english, french):
    assert french in lexicon().french_for(english)


def test_the_learner_recovers_planted_pairs_exactly():
    entries = learn(_planted_corpus())
    words = {e.english[0]: [t.french for t in e.translations] for e in entries if " " not in e.english[0]}
    terms = {e.english[0]: [t.french for t in e.translations] for e in entries if " " in e.english[0]}
    assert words == {**{w: [f] for w, f in PLANTED.items()}, "laundering": ["blanchiment"]}
    assert terms == {TERM[0]: [TERM[1]]}


def test_counts_are_what_the_corpus_holds():
    pairs = _planted_corpus()
    cats = sum(len(re.findall(r"\bcat\b", e.lower())) for e, _ in pairs)
    (cat,) = [e for e in learn(pairs) if e.english == ("cat",)]
    assert cat.count == cats and 0.95 * cats <= cat.translations[0].count <= cats  # linked nearly every time


def test_learning_is_deterministic():
    pairs = _planted_corpus(seed=5)
    assert render(learn(pairs), len(pairs)) == render(learn(list(pairs)), len(pairs))


def test_the_file_regenerates_from_its_corpus(tmp_path):
    if not (DEFAULT_DATA / "UNv1.0.devset.en").exists():
        pytest.skip(f"no UN Parallel Corpus extract at {DEFAULT_DATA}")
    out = tmp_path / "lexicon.txt"
    assert main(["--data", str(DEFAULT_DATA), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == LEXICON.read_text(encoding="utf-8")


def test_restricted_keeps_the_french_a_corpus_holds():
    g = parse_glossary("trafficking = trafic, traite\nmoney laundering = blanchiment d'argent\nbank = banque")
    report = ["La traite des personnes et le blanchiment d'argent.", "Les argents blanchis."]
    r = restricted(g, report)
    assert r.french_for("trafficking") == ["traite"]
    assert r.french_for("money laundering") == ["blanchiment d'argent"]
    assert r.french_for("bank") == []  # no French left: no entry
    assert r.longest == 2


def test_the_whole_lexicon_restricted_to_a_french_text_still_reads_its_vocabulary():
    text = "Les États parties luttent contre la corruption, la traite et le trafic de drogues."
    r = restricted(lexicon(), [text])
    assert r.french_for("States parties") == ["états parties"]
    assert {"trafic", "traite"} & set(r.french_for("trafficking"))
    assert len(r.entries) < len(lexicon().entries) / 10
