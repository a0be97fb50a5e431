"""Learn an English -> French lexicon from line-aligned UN sentences (tooling: run once, never
imported at query time).

    python -m assistant.search.lexicon_learn      # learn, write assistant/search/data/lexicon_en_fr.txt
    python -m assistant.evaluation.lexicon_eval   # held-out figures and agreement with the glossary

The file it writes has the glossary's format (``glossary.parse_glossary`` reads it), so English
questions can reach the French lexical side through vocabulary learned from general UN text rather
than from one report. How, in order (the knobs are ``LearnSettings``):

1. Tokens. English: the glossary's own words (lower case, hyphenated compounds whole) keyed by
   English Snowball stem, which is what ``parse_glossary`` looks up. French: ``\\w+`` words as the
   BM25 side reads them, keyed by French Snowball stem with accents folded (``lexical.tokenize``'s
   tokens), so "traite" and "traites" are one French word; the file gives the written form most
   often linked, which the French stemmer maps back to the same key.
2. Word alignment. IBM Model 1 with fast_align's diagonal prior (a French word at 40 % of its
   sentence most likely translates an English word near 40 % of its own; tension fixed, not
   learned), a few EM iterations in each direction; each direction's most probable links are
   symmetrised by grow-diag-final-and, as phrase-based MT does.
3. Words. An English stem linked c times to a French stem is kept when c >= ``min_count`` and the
   link is a large share of both words' occurrences (``min_forward`` of the English word's,
   ``min_backward`` of the French word's), or a smaller share of the English word's when the
   French word is mostly its translation (``mutual_*``: "law" -> "loi" beside "droit"); at most
   ``max_french`` translations, most linked first. Counts are per English occurrence.
4. Phrases. English 2-3 word terms (no function word at either end, no number, no punctuation
   inside) seen at least ``phrase_min_count`` times, each with the French spans consistent with
   the links (both end words linked, no French word inside linked outside; French function words
   at the ends trimmed), kept when they are ``phrase_min_prob`` of the term's occurrences:
   "member states" -> "états membres", "rule of law" -> "état de droit". A single word's
   several-word French ("stakeholders" -> "parties prenantes") is found the same way and joins
   its word entry, replacing the single French words it holds.

Measured (``evaluation/lexicon_eval.py``): learned on the devset and applied to the testset
(other documents), the alignment variants (no diagonal prior, 3 or 10 iterations, NULL share 0.2)
all moved the figures by less than 0.01; the thresholds trade coverage against precision (its
``--grid``).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..settings import ROOT
from .lexicon import LEXICON

#: The UN Parallel Corpus extract the project keeps beside its checkouts (shared/unpc).
DEFAULT_DATA = ROOT.parent / "shared" / "unpc"
SPLITS = ("devset", "testset")

_EN_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")  # glossary._WORD: the lookup's words
_FR_WORD = re.compile(r"\w+")  # lexical._WORD: the BM25 side's words
_FR_PHRASE = re.compile(r"[^\W\d_]+(?:['\- ]+[^\W\d_]+)*")  # letters, apostrophes, hyphens, spaces

# English function words never make an entry of their own ("also" -> "également" would only add
# noise to BM25). bm25s's English list (what the lexical side drops) plus the common ones it lacks.
_EN_FUNCTION = frozenset("""
a about above after again against all also am among an and any are as at be been before being
below between both but by can could did do does doing during each either few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
many may me might more most much must my myself neither nor no not now of off on once only or other our ours
ourselves out over own per same shall she should so some such than that the their theirs them
themselves then there these they this those through thus to too under until up upon us very was we
were what when where whether which while who whom whose why will with within without would yet you
your yours
""".split())


@dataclass(frozen=True)
class LearnSettings:
    # --- alignment ----------------------------------------------------------------------------
    # EM iterations per direction; Model 1's link choices hardly move after 5 (fast_align uses 5).
    iterations: int = 5
    # fast_align's diagonal tension and NULL share (its defaults): UN English and French run in
    # nearly the same order, so a link far from the diagonal needs more evidence.
    diagonal_tension: float = 4.0
    null_probability: float = 0.08

    # --- words --------------------------------------------------------------------------------
    # A pair linked once is as often an alignment error as a translation.
    min_count: int = 2
    # Share of the English word's occurrences linked to this French word.
    min_forward: float = 0.25
    # Share of the French word's occurrences linked to this English word: drops a frequent French
    # word that is linked to a rare English one by chance.
    min_backward: float = 0.05
    # ...or a smaller share of the English word's occurrences when the French word is mostly this
    # English word's translation: "law" -> "loi" (16 % of "law", 45 % of "loi"), beside "droit".
    mutual_forward: float = 0.1
    mutual_backward: float = 0.3
    max_french: int = 3

    # --- phrases ------------------------------------------------------------------------------
    max_phrase_words: int = 3
    max_french_phrase_words: int = 5
    phrase_min_count: int = 3
    phrase_min_prob: float = 0.3

    # --- file ---------------------------------------------------------------------------------
    max_entries: int = 8000


# --- records ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Side:
    """One side of a sentence pair: its lower-cased text, words, match keys and word spans."""

    text: str
    words: tuple[str, ...]
    keys: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Translation:
    french: str  # as written in UN text (lower case)
    count: int  # times linked to the English term


@dataclass(frozen=True)
class Entry:
    english: tuple[str, ...]  # written forms, most frequent first (one key: same English stems)
    count: int  # occurrences of the English term in the corpus
    translations: tuple[Translation, ...]


@dataclass(frozen=True)
class Aligned:
    """Sentence pairs with their symmetrised word links, ready for ``extract``."""

    english: list[Side]
    french: list[Side]
    links: list[frozenset[tuple[int, int]]]  # (English position, French position)


# --- tokens -----------------------------------------------------------------------------------

@lru_cache(maxsize=2)
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(language)


def _fold(text: str) -> str:
    from ..text import fold

    return fold(text)


@lru_cache(maxsize=1)
def _french_stopwords() -> frozenset[str]:
    from .lexical import _stopwords

    return _stopwords("fr")  # French and English stop words, as the French analyzer drops


def english_side(sentence: str) -> Side:
    text = sentence.lower().replace("’", "'")
    found = list(_EN_WORD.finditer(text))
    words = tuple(m.group(0) for m in found)
    return Side(text, words, tuple(_stemmer("english").stemWords(words)), tuple(m.span() for m in found))


def french_side(sentence: str) -> Side:
    text = sentence.lower().replace("’", "'")
    found = list(_FR_WORD.finditer(text))
    words = tuple(m.group(0) for m in found)
    keys = tuple(_fold(s) for s in _stemmer("french").stemWords(words))
    return Side(text, words, keys, tuple(m.span() for m in found))


def _is_content_english(word: str) -> bool:
    return word not in _EN_FUNCTION and len(word) > 1 and word.isascii() and not any(c.isdigit() for c in word)


def _is_content_french(word: str) -> bool:
    return _fold(word) not in _french_stopwords() and len(word) > 1 and not any(c.isdigit() for c in word)


# --- alignment --------------------------------------------------------------------------------

def align(pairs: list[tuple[str, str]], settings: LearnSettings = LearnSettings()) -> Aligned:
    """Tokenise ``pairs`` (English, French) and link their words (Model 1 with a diagonal prior,
    both directions, grow-diag-final-and)."""
    english = [english_side(e) for e, _ in pairs]
    french = [french_side(f) for _, f in pairs]
    en_ids, fr_ids = _vocabulary_ids([s.keys for s in english]), _vocabulary_ids([s.keys for s in french])
    fr_given_en = _viterbi(en_ids, fr_ids, settings)  # each French word's English position or -1
    en_given_fr = _viterbi(fr_ids, en_ids, settings)
    links = []
    for e2f, f2e in zip(fr_given_en, en_given_fr, strict=True):
        forward = {(int(i), j) for j, i in enumerate(e2f) if i >= 0}
        backward = {(i, int(j)) for i, j in enumerate(f2e) if j >= 0}
        links.append(frozenset(_grow_diag_final_and(forward, backward)))
    return Aligned(english, french, links)


def _vocabulary_ids(sentences: list[tuple[str, ...]]) -> list[np.ndarray]:
    vocabulary: dict[str, int] = {}
    return [np.array([vocabulary.setdefault(k, len(vocabulary)) for k in keys], dtype=np.int64)
            for keys in sentences]


def _viterbi(source: list[np.ndarray], target: list[np.ndarray], s: LearnSettings) -> list[np.ndarray]:
    """For each target word, the source position it most probably translates (-1: none), after
    EM on p(target word | source word). Every (target word, candidate source word or NULL) of the
    corpus is one row of flat arrays, so an EM iteration is three ``bincount``s."""
    null = 1 + max((int(a.max()) for a in source if len(a)), default=0)
    n_target = 1 + max((int(a.max()) for a in target if len(a)), default=0)
    codes, priors, groups, shapes = [], [], [], []
    group = 0
    for src, tgt in zip(source, target, strict=True):
        m, n = len(src), len(tgt)
        shapes.append((n, m + 1))
        if n == 0:
            continue
        prior = np.full((n, m + 1), s.null_probability)
        if m:
            i = (np.arange(m) + 0.5) / m
            j = (np.arange(n) + 0.5) / n
            diagonal = np.exp(-s.diagonal_tension * np.abs(i[None, :] - j[:, None]))
            prior[:, :m] = (1 - s.null_probability) * diagonal / diagonal.sum(axis=1, keepdims=True)
        codes.append((np.append(src, null)[None, :] * n_target + tgt[:, None]).ravel())
        priors.append(prior.ravel())
        groups.append(np.repeat(np.arange(group, group + n), m + 1))
        group += n
    if not codes:
        return [np.full(n, -1) for n, _ in shapes]
    code, prior, grp = np.concatenate(codes), np.concatenate(priors), np.concatenate(groups)
    pairs, row_pair = np.unique(code, return_inverse=True)
    pair_source = pairs // n_target
    t = np.ones(len(pairs))
    for _ in range(s.iterations):
        weight = prior * t[row_pair]
        posterior = weight / np.bincount(grp, weights=weight, minlength=group)[grp]
        counts = np.bincount(row_pair, weights=posterior, minlength=len(pairs))
        t = counts / np.bincount(pair_source, weights=counts, minlength=null + 1)[pair_source]
    score = prior * t[row_pair]
    out, start = [], 0
    for n, width in shapes:
        if n == 0:
            out.append(np.full(0, -1))
            continue
        best = score[start:start + n * width].reshape(n, width).argmax(axis=1)
        out.append(np.where(best == width - 1, -1, best))  # the last column is NULL
        start += n * width
    return out


_NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def _grow_diag_final_and(forward: set[tuple[int, int]], backward: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Koehn et al.'s symmetrisation: the links both directions agree on, grown into adjacent links
    of either direction that reach a still unlinked word, then either direction's links between
    two unlinked words."""
    union = forward | backward
    links = forward & backward
    linked_en, linked_fr = {i for i, _ in links}, {j for _, j in links}
    grown = True
    while grown:
        grown = False
        for i, j in sorted(links):
            for di, dj in _NEIGHBOURS:
                cand = (i + di, j + dj)
                if cand in union and cand not in links and (cand[0] not in linked_en or cand[1] not in linked_fr):
                    links.add(cand)
                    linked_en.add(cand[0])
                    linked_fr.add(cand[1])
                    grown = True
    for direction in (forward, backward):
        for i, j in sorted(direction):
            if i not in linked_en and j not in linked_fr:
                links.add((i, j))
                linked_en.add(i)
                linked_fr.add(j)
    return links


# --- entries ----------------------------------------------------------------------------------

def extract(aligned: Aligned, settings: LearnSettings = LearnSettings()) -> list[Entry]:
    """The confident word and phrase translations of ``aligned``, alphabetical, words first."""
    phrases = _phrase_entries(aligned, settings)
    words = _with_multiword(_word_entries(aligned, settings), [e for e in phrases if " " not in e.english[0]],
                            settings.max_french)
    entries = words + [e for e in phrases if " " in e.english[0]]
    if len(entries) > settings.max_entries:  # the most frequent English terms are the most useful
        keep = sorted(entries, key=lambda e: (-e.count, e.english))[:settings.max_entries]
        entries = [e for e in entries if e in set(keep)]
    return entries


def learn(pairs: list[tuple[str, str]], settings: LearnSettings = LearnSettings()) -> list[Entry]:
    """Entries learned from ``pairs`` of (English, French) sentences."""
    return extract(align(pairs, settings), settings)


def _word_entries(aligned: Aligned, s: LearnSettings) -> list[Entry]:
    en_count, fr_count = Counter(), Counter()
    en_forms: dict[str, Counter] = defaultdict(Counter)
    linked: Counter = Counter()
    fr_forms: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for e, f, links in zip(aligned.english, aligned.french, aligned.links, strict=True):
        en_count.update(e.keys)
        fr_count.update(f.keys)
        for word, key in zip(e.words, e.keys, strict=True):
            en_forms[key][word] += 1
        # An English word linked to two French words of one stem ("Hérat … Hérat") counts once, so
        # that a count never exceeds the English word's occurrences.
        for i, j in links:
            fr_forms[e.keys[i], f.keys[j]][f.words[j]] += 1
        linked.update((e.keys[i], key) for i, key in {(i, f.keys[j]) for i, j in links})
    by_english: dict[str, list[Translation]] = defaultdict(list)
    for (en, fr), c in linked.items():
        french = _most_common(fr_forms[en, fr])
        forward, backward = c / en_count[en], c / fr_count[fr]
        if (c >= s.min_count and _is_content_french(french)
                and (forward >= s.min_forward and backward >= s.min_backward
                     or forward >= s.mutual_forward and backward >= s.mutual_backward)):
            by_english[en].append(Translation(french, c))
    entries = []
    for en, translations in by_english.items():
        forms = [w for w, _ in sorted(en_forms[en].items(), key=lambda kv: (-kv[1], kv[0]))]
        if not _is_content_english(forms[0]):
            continue
        entries.append(Entry(tuple(forms[:3]), en_count[en], _best(translations, s.max_french)))
    return sorted(entries, key=lambda e: e.english)


def _phrase_entries(aligned: Aligned, s: LearnSettings) -> list[Entry]:
    """English terms of 2-3 words, and single words whose French is several ("firearms" -> "armes à
    feu"), with the French phrases consistently linked to them."""
    seen: Counter = Counter()
    for e in aligned.english:
        for i, n in _terms(e, s.max_phrase_words):
            seen[e.keys[i:i + n]] += 1
    frequent = {k for k, c in seen.items() if c >= s.phrase_min_count}
    en_forms: dict[tuple[str, ...], Counter] = defaultdict(Counter)
    linked: dict[tuple[str, ...], Counter] = defaultdict(Counter)
    fr_forms: dict[tuple, Counter] = defaultdict(Counter)
    for e, f, links in zip(aligned.english, aligned.french, aligned.links, strict=True):
        fr_of: dict[int, set[int]] = defaultdict(set)
        en_of: dict[int, set[int]] = defaultdict(set)
        for i, j in links:
            fr_of[i].add(j)
            en_of[j].add(i)
        for i, n in _terms(e, s.max_phrase_words):
            key = e.keys[i:i + n]
            if key not in frequent:
                continue
            en_forms[key][e.text[e.spans[i][0]:e.spans[i + n - 1][1]]] += 1
            span = _consistent_span(range(i, i + n), fr_of, en_of, s.max_french_phrase_words)
            if span is None:
                continue
            first, last = span
            # "l'état de droit" -> "état de droit": the French side's function words at the ends
            # are the lexical side's stop words, and read badly alone.
            while first <= last and not _is_content_french(f.words[first]):
                first += 1
            while last >= first and not _is_content_french(f.words[last]):
                last -= 1
            french = f.text[f.spans[first][0]:f.spans[last][1]] if first <= last else ""
            if _FR_PHRASE.fullmatch(french):
                linked[key][f.keys[first:last + 1]] += 1
                fr_forms[key, f.keys[first:last + 1]][french] += 1
    entries = []
    for key, counts in linked.items():
        kept = [Translation(_most_common(fr_forms[key, fr]), c) for fr, c in counts.items()
                if c >= s.phrase_min_count and c / seen[key] >= s.phrase_min_prob and (len(key) > 1 or len(fr) > 1)]
        if kept:
            english = (_most_common(en_forms[key]),)
            entries.append(Entry(english, seen[key], _best(kept, s.max_french)))
    return sorted(entries, key=lambda e: e.english)


def _terms(side: Side, longest: int):
    """(start, length) of the English terms of 1 to ``longest`` words in ``side``: content words
    at both ends, no number, nothing but spaces between the words (no term across a comma)."""
    for i in range(len(side.words)):
        if not _is_content_english(side.words[i]):
            continue
        yield i, 1
        for n in range(2, longest + 1):
            last = i + n - 1
            if last >= len(side.words) or side.text[side.spans[last - 1][1]:side.spans[last][0]].strip():
                break
            if any(c.isdigit() for c in side.words[last]):
                break
            if _is_content_english(side.words[last]):
                yield i, n


def _with_multiword(words: list[Entry], multiword: list[Entry], limit: int) -> list[Entry]:
    """Word entries with the word's multi-word French renderings ("firearms" -> "armes à feu")
    among their translations, in place of the single words these hold ("feu")."""
    by_word = {e.english[0]: e for e in multiword}
    out = []
    for entry in words:
        extra = [by_word.pop(w) for w in entry.english if w in by_word]
        if extra:
            phrases = [t for x in extra for t in x.translations]
            held = [set(french_side(t.french).keys) for t in phrases]
            rest = [t for t in entry.translations if not any(set(french_side(t.french).keys) <= h for h in held)]
            entry = Entry(entry.english, entry.count, _best(phrases + rest, limit))
        out.append(entry)
    return sorted(out + list(by_word.values()), key=lambda e: e.english)


def _consistent_span(english: range, fr_of: dict[int, set[int]], en_of: dict[int, set[int]],
                     longest: int) -> tuple[int, int] | None:
    """The French words (first, last) that the English positions translate, if both end words are
    linked (an inner "of" need not be) and no French word in between is linked outside them."""
    if not fr_of.get(english[0]) or not fr_of.get(english[-1]):
        return None
    french = set().union(*(fr_of[i] for i in english))
    first, last = min(french), max(french)
    if last - first + 1 > longest:
        return None
    if any(not en_of[j] <= set(english) for j in range(first, last + 1) if j in en_of):
        return None
    return first, last


def _most_common(counter: Counter) -> str:
    return min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _best(translations: list[Translation], limit: int) -> tuple[Translation, ...]:
    return tuple(sorted(translations, key=lambda t: (-t.count, t.french))[:limit])


# --- the file ---------------------------------------------------------------------------------

HEADER = """\
# English -> French lexicon LEARNED from general UN text (not from any report).
#
# Made by assistant/lexicon_learn.py from {sentences} English-French sentence pairs of the United
# Nations Parallel Corpus v1.0 ({splits}: UN documents of 2015, translated by the UN): words
# aligned by IBM Model 1 with a diagonal prior in both directions, links symmetrised
# (grow-diag-final-and); an English word or 2-3 word term keeps the French words or phrases it is
# most often linked to when the link is frequent and a large share of both sides' occurrences.
# Thresholds (LearnSettings in lexicon_learn.py), chosen on held-out UN text:
#   words: linked >= {s.min_count} times, in >= {s.min_forward:.0%} of the English word's occurrences and
#          >= {s.min_backward:.0%} of the French word's (or >= {s.mutual_forward:.0%} and >= {s.mutual_backward:.0%});
#   terms, and a word's several-word French: >= {s.phrase_min_count} times and >= {s.phrase_min_prob:.0%} of the
#          English term's occurrences; at most {s.max_french} French terms each.
# The comment after each line gives how often the English term occurs and how often it was linked
# to each French term.
#
# Format: that of glossary_en_fr.txt ("english, english = français, français"), parsed by
# glossary.parse_glossary: English terms are looked up by English stem, French terms are written
# as in UN text and matched after French stemming and accent folding. {entries} entries.
#
# Source and terms of use: the United Nations is the source of this information. The corpus is
# made available by the UN without warranty of any kind (its DISCLAIMER). Ziemski, M.,
# Junczys-Dowmunt, M., and Pouliquen, B. (2016) The United Nations Parallel Corpus v1.0, Language
# Resources and Evaluation (LREC'16), Portorož, Slovenia, May 2016.
#
# Regenerate (from the repository root; --data defaults to ../shared/unpc):
#     python -m assistant.search.lexicon_learn --data {data}
"""


def render(entries: list[Entry], sentences: int, splits: tuple[str, ...] = SPLITS,
           data: str = "../shared/unpc", settings: LearnSettings = LearnSettings()) -> str:
    """The lexicon file's text: header, then one line per entry, words then phrases."""
    words = [e for e in entries if len(e.english[0].split()) == 1]
    phrases = [e for e in entries if len(e.english[0].split()) > 1]
    lines = [HEADER.format(sentences=f"{sentences:,}", splits=" + ".join(splits), entries=f"{len(entries):,}",
                           data=data, s=settings)]
    for title, group in (("words", words), ("terms of two or three words", phrases)):
        lines.append(f"\n# --- {title} ({len(group):,}) " + "-" * (80 - len(title)) + "\n")
        lines += [_line(e) for e in group]
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


def _line(entry: Entry) -> str:
    french = ", ".join(t.french for t in entry.translations)
    counts = ", ".join(str(t.count) for t in entry.translations)
    return f"{', '.join(entry.english)} = {french}  # {entry.count}: {counts}"


def read_pairs(data: Path, splits: tuple[str, ...] = SPLITS) -> list[tuple[str, str]]:
    """The line-aligned (English, French) sentences of ``splits`` in ``data``."""
    pairs = []
    for split in splits:
        english = (data / f"UNv1.0.{split}.en").read_text(encoding="utf-8").splitlines()
        french = (data / f"UNv1.0.{split}.fr").read_text(encoding="utf-8").splitlines()
        if len(english) != len(french):
            raise ValueError(f"{data}/UNv1.0.{split}: {len(english)} English lines, {len(french)} French")
        pairs += zip(english, french, strict=True)
    return pairs


# --- command line -----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.search.lexicon_learn",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of UNv1.0.{devset,testset}.{en,fr}")
    parser.add_argument("--out", type=Path, default=LEXICON)
    args = parser.parse_args(argv)
    started = time.monotonic()
    pairs = read_pairs(args.data)
    entries = learn(pairs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(entries, len(pairs)), encoding="utf-8")
    print(f"{args.out}: {len(entries):,} entries from {len(pairs):,} sentence pairs "
          f"in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
