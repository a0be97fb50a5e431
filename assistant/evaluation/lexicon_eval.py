"""How good the learned lexicon is (``search/lexicon_learn.py``):

    python -m assistant.evaluation.lexicon_eval [--data ../shared/unpc] [--lexicon FILE] [--grid]

Two measures, each against something the lexicon was not learned from:

* held out: a lexicon learned on the devset only is applied to the testset's English sentences
  (other UN documents: no document is in both sets); a French term it proposes counts as right when
  its French stems all occur in the aligned French sentence. The same look-ups against an unrelated
  French sentence give the rate of right-by-chance.
* the hand-written glossary (``glossary_en_fr.txt``, written from one report): how many of its
  English terms the shipped lexicon has, and whether their French terms agree, compared after the
  lexical side's French stemming and accent folding.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..search.glossary import GLOSSARY, Glossary, parse_glossary
from ..search.lexical import tokenize
from ..search.lexicon_learn import (
    DEFAULT_DATA,
    LEXICON,
    LearnSettings,
    _is_content_english,
    align,
    extract,
    read_pairs,
    render,
)

_CHANCE_SHIFT = 2000  # the unrelated French sentence: this many lines further (another document)


def _stems(french: str) -> frozenset[str]:
    return frozenset(tokenize(french))


# --- held out ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class HeldOut:
    lookups: int  # English words or terms of the test sentences the lexicon translates
    coverage: float  # share of the English content words inside such a look-up
    term_precision: float  # share of proposed French terms found in the aligned French sentence
    top1_precision: float  # the same for each look-up's first French term
    lookup_precision: float  # share of look-ups with at least one French term found
    chance_term_precision: float  # term_precision against an unrelated French sentence
    chance_lookup_precision: float


def held_out(lexicon: Glossary, pairs: list[tuple[str, str]]) -> HeldOut:
    """``lexicon`` applied to the English side of ``pairs``, checked against the French side."""
    french = [_stems(f) for _, f in pairs]
    content = covered = lookups = 0
    terms = top1 = any_found = chance_terms = chance_any = proposed = 0
    for k, (english, _) in enumerate(pairs):
        unrelated = french[(k + _CHANCE_SHIFT) % len(pairs)]
        for words, translations in lexicon.spans(english):
            n_content = sum(_is_content_english(w) for w in words.split())
            content += n_content
            if not translations or not n_content:
                continue
            covered += n_content
            lookups += 1
            found = [bool(s) and s <= french[k] for s in map(_stems, translations)]
            by_chance = [bool(s) and s <= unrelated for s in map(_stems, translations)]
            proposed += len(found)
            terms += sum(found)
            top1 += found[0]
            any_found += any(found)
            chance_terms += sum(by_chance)
            chance_any += any(by_chance)
    return HeldOut(lookups, covered / max(content, 1), terms / max(proposed, 1), top1 / max(lookups, 1),
                   any_found / max(lookups, 1), chance_terms / max(proposed, 1), chance_any / max(lookups, 1))


# --- against the hand-written glossary --------------------------------------------------------

@dataclass(frozen=True)
class Agreement:
    terms: int  # English terms of the glossary (one per English stem sequence)
    coverage: float  # share the lexicon has as an entry of its own
    lookup_coverage: float  # share for which a look-up gives French (a phrase through its words too)
    precision_at_1: float  # of the covered: the lexicon's first French term agrees with the glossary
    precision_at_3: float  # of the covered: one of its first three does
    strict_precision_at_3: float  # the same, agreeing only when the stems are the same set
    lookup_precision: float  # of the looked up: one French term of the look-up agrees
    disagreements: list[tuple[str, tuple[str, ...], tuple[str, ...]]]  # English, glossary, lexicon


def _agrees(learned: str, reference: tuple[str, ...], strict: bool = False) -> bool:
    """One French term matches another when their stems are the same set, or (not strict) one set
    holds the other ("blanchiment" for "blanchiment d'argent")."""
    a = _stems(learned)
    for r in map(_stems, reference):
        if a and r and (a == r or (not strict and (a <= r or r <= a))):
            return True
    return False


def agreement(lexicon: Glossary, reference_text: str) -> Agreement:
    reference = parse_glossary(reference_text, "reference")
    surface = _english_surfaces(reference_text)
    covered = at1 = at3 = strict3 = looked = lookup_ok = 0
    disagreements = []
    for key, french in reference.entries.items():
        looked_up = lexicon.french_for(surface[key])
        if looked_up:
            looked += 1
            lookup_ok += any(_agrees(f, french) for f in looked_up)
        learned = lexicon.entries.get(key)
        if not learned:
            continue
        covered += 1
        at1 += _agrees(learned[0], french)
        at3 += any(_agrees(f, french) for f in learned[:3])
        strict3 += any(_agrees(f, french, strict=True) for f in learned[:3])
        if not any(_agrees(f, french) for f in learned[:3]):
            disagreements.append((surface[key], french, learned[:3]))
    n = len(reference.entries)
    return Agreement(n, covered / n, looked / n, at1 / max(covered, 1), at3 / max(covered, 1),
                     strict3 / max(covered, 1), lookup_ok / max(looked, 1), disagreements)


def _english_surfaces(text: str) -> dict[tuple[str, ...], str]:
    """Each English term of a glossary text as written, by its key (the first spelling wins)."""
    from ..search.glossary import _stem_words

    out: dict[tuple[str, ...], str] = {}
    for raw in text.splitlines():
        english = raw.split("#", 1)[0].partition("=")[0]
        for term in (t.strip() for t in english.split(",")):
            if term:
                out.setdefault(tuple(_stem_words(term)), term)
    return out


# --- the report -------------------------------------------------------------------------------

def report(data: Path, lexicon_path: Path = LEXICON, settings: LearnSettings | None = None,
           grid: bool = False) -> str:
    """Held-out figures (learned on devset, checked on testset) and the shipped lexicon's agreement
    with the hand-written glossary, as text."""
    started = time.monotonic()
    settings = settings or LearnSettings()
    dev, test = read_pairs(data, ("devset",)), read_pairs(data, ("testset",))
    aligned = align(dev, settings)
    out = [f"Held out: learned on devset ({len(dev):,} pairs), checked on testset ({len(test):,} pairs)"]
    variants = _grid(settings) if grid else [settings]
    out.append(f"  {'settings':<44} {'entries':>7} {'cover':>6} {'term P':>6} {'top-1':>6} {'any':>6}"
               f" {'chance':>6}")
    for s in variants:
        entries = extract(aligned, s)
        h = held_out(parse_glossary(render(entries, len(dev)), "devset lexicon"), test)
        label = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(s).items()
                          if v != getattr(LearnSettings(), k)) or "as shipped"
        out.append(f"  {label:<44} {len(entries):>7,} {h.coverage:>6.3f} {h.term_precision:>6.3f}"
                   f" {h.top1_precision:>6.3f} {h.lookup_precision:>6.3f} {h.chance_term_precision:>6.3f}")
    out.append("  cover: share of English content words translated; term P: share of proposed French terms")
    out.append("  in the reference French sentence; top-1: the first term's; any: look-ups with one found;")
    out.append("  chance: term P against an unrelated French sentence.")

    shipped = parse_glossary(lexicon_path.read_text(encoding="utf-8"), lexicon_path.name)
    a = agreement(shipped, GLOSSARY.read_text(encoding="utf-8"))
    out += ["", f"Against the hand-written glossary ({GLOSSARY.name}, {a.terms} English terms), "
                f"lexicon {lexicon_path.name} ({len(shipped.entries):,} English keys):",
            f"  coverage (an entry of its own)    {a.coverage:.3f}",
            f"  lookup coverage (phrases by words) {a.lookup_coverage:.3f}",
            f"  precision@1 / @3 (of covered)     {a.precision_at_1:.3f} / {a.precision_at_3:.3f}"
            f"   (same stem set only: @3 {a.strict_precision_at_3:.3f})",
            f"  lookup precision (of looked up)   {a.lookup_precision:.3f}",
            f"  covered terms whose first three French terms disagree: {len(a.disagreements)}"]
    out += [f"    {en:<28} glossary: {', '.join(ref):<40} learned: {', '.join(got)}"
            for en, ref, got in a.disagreements]
    out.append(f"\n({time.monotonic() - started:.0f} s)")
    return "\n".join(out)


def _grid(base: LearnSettings) -> list[LearnSettings]:
    """The shipped thresholds and each moved one step either way (and the mutual rule off)."""
    changes = [{}, {"mutual_forward": 1.1}, {"mutual_backward": 0.2}, {"mutual_backward": 0.5},
               {"min_forward": 0.15}, {"min_forward": 0.4}, {"min_backward": 0.02}, {"min_backward": 0.15},
               {"min_count": 3}, {"phrase_min_count": 2}, {"phrase_min_prob": 0.5}]
    return [dataclasses.replace(base, **c) for c in changes]


# --- command line -----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.evaluation.lexicon_eval",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of UNv1.0.{devset,testset}.{en,fr}")
    parser.add_argument("--lexicon", type=Path, default=LEXICON, help="the lexicon file compared with the glossary")
    parser.add_argument("--grid", action="store_true", help="held-out figures for other thresholds too")
    args = parser.parse_args(argv)
    print(report(args.data, args.lexicon, grid=args.grid))
    return 0


if __name__ == "__main__":
    sys.exit(main())
