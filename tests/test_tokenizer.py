"""The sentencepiece conversion of the model's tokenizer gives the ids of ``tokenizers`` (the real
model's tokenizer.json), and anything it cannot convert stays on ``tokenizers``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from assistant.evaluation.evaluate import load_questions
from assistant.library import load_report
from assistant.search.embedder import resolve_model
from assistant.search.onnx_encoder import export_dir
from assistant.search.tokenizer import (
    CHECK_TEXTS,
    FALLBACK_MARKER,
    SENTENCEPIECE_FILE,
    HfTokenizer,
    SentencePieceTokenizer,
    convert,
    load_tokenizer,
)
from assistant.settings import Settings

pytestmark = pytest.mark.model

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def tokenizer_json() -> Path:
    return resolve_model(Settings()).path / "tokenizer.json"


@pytest.fixture(scope="module")
def both(tokenizer_json) -> tuple[SentencePieceTokenizer, HfTokenizer]:
    converted = convert(json.loads(tokenizer_json.read_text(encoding="utf-8")))
    assert converted is not None, "the e5 tokenizer is XLM-R's unigram: it must convert"
    return SentencePieceTokenizer(*converted, 512), HfTokenizer(tokenizer_json, 512)


def _real_texts() -> list[str]:
    rows = [line.split("\t") for line in (FIXTURES / "unpc_sample.tsv").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    texts = [r[1] for r in rows] + [r[2] for r in rows]
    samples = Path(__file__).parent.parent / "evals" / "questions_samples.jsonl"
    texts += [q.question for q in load_questions()] + [q.question for q in load_questions(samples)]
    texts += [p.text for p in load_report().paragraphs]
    return texts + ["query: " + t for t in texts[:300]] + ["passage: " + t for t in texts[-200:]]


def test_same_ids_as_tokenizers_on_real_text(both):
    ours, theirs = both
    texts = _real_texts()
    assert len(texts) > 1500
    differing = [t for t in texts if ours.encode(t) != theirs.encode(t)]
    assert differing == []


def test_same_ids_on_the_check_texts_and_truncation(both):
    ours, theirs = both
    for text in CHECK_TEXTS:
        assert ours.encode(text) == theirs.encode(text), text
    long = ours.encode(CHECK_TEXTS[-1])
    assert len(long) == 512 and long[0] == 0 and long[-1] == 2


def test_a_model_without_special_tokens_reads_the_text_whole(tokenizer_json, both):
    converted = convert(json.loads(tokenizer_json.read_text(encoding="utf-8")))
    plain = SentencePieceTokenizer(converted[0], {**converted[1], "special": {}}, 512)
    assert plain.encode(CHECK_TEXTS[0]) == both[1].encode(CHECK_TEXTS[0])


def test_equal_score_ties_use_the_same_pieces(both):
    """The one known difference: runs of one character can be cut into the same pieces in
    another order (equal scores). Same pieces, same count."""
    ours, theirs = both
    for run in ("x" * 20, "=" * 50, "ab" * 40):
        assert Counter(ours.encode(run)) == Counter(theirs.encode(run))


def test_the_served_encoder_uses_the_cached_conversion():
    from assistant.search.embedder import get_embedder

    embedder = get_embedder(Settings())
    assert isinstance(embedder._tokenizer, SentencePieceTokenizer)
    assert (export_dir(resolve_model(Settings()), Settings()) / SENTENCEPIECE_FILE).is_file()


def test_a_tokenizer_of_another_shape_stays_on_tokenizers(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    wordlevel = Tokenizer(models.WordLevel({"[UNK]": 0, "hello": 1, "world": 2}, unk_token="[UNK]"))
    wordlevel.pre_tokenizer = pre_tokenizers.Whitespace()
    path = tmp_path / "tokenizer.json"
    wordlevel.save(str(path))
    assert convert(json.loads(path.read_text(encoding="utf-8"))) is None
    tokenizer = load_tokenizer(path, 16, tmp_path)
    assert isinstance(tokenizer, HfTokenizer)
    assert tokenizer.encode("hello world") == [1, 2]
    assert (tmp_path / FALLBACK_MARKER).is_file() and not (tmp_path / SENTENCEPIECE_FILE).exists()


def test_a_damaged_conversion_falls_back_and_a_missing_one_is_rebuilt(tokenizer_json, tmp_path, caplog):
    (tmp_path / SENTENCEPIECE_FILE).write_bytes(b"\x05\x00\x00\x00{bad}garbage")
    assert isinstance(load_tokenizer(tokenizer_json, 512, tmp_path), HfTokenizer)
    assert "unreadable" in caplog.text
    (tmp_path / SENTENCEPIECE_FILE).unlink()
    rebuilt = load_tokenizer(tokenizer_json, 512, tmp_path)
    assert isinstance(rebuilt, SentencePieceTokenizer)
    assert rebuilt.encode(CHECK_TEXTS[0]) == HfTokenizer(tokenizer_json, 512).encode(CHECK_TEXTS[0])
