"""How much the reference questions reuse their gold paragraphs' words.

    .venv/bin/python evals/overlap.py [QUESTIONS.jsonl]

Prints, per split, language, type, style and source, the median share of a question's content
words (stemmed, accents folded, stop words out) that its gold paragraphs use, and the share of
questions below 0.5. Questions written while reading a paragraph reuse its words (median 0.88
before 2026-12); users' own questions do not (a hidden set's median was 0.55), and lexical
tricks look like gains only on the former.
"""

import sys
from pathlib import Path

from assistant import load_report
from assistant.evaluation.eval_report import overlap_table
from assistant.evaluation.evaluate import QUESTIONS, load_questions

if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else QUESTIONS
    print(overlap_table(load_questions(path), load_report()))
