"""Text to token ids for the onnxruntime encoder, in a fraction of the memory.

Why: the ``tokenizers`` library holds the multilingual e5 tokenizer (a 250,002-piece unigram
model, XLM-RoBERTa's) in ~280 MB of the serving process, more than half of it. The same model
run by ``sentencepiece``, the library it was trained with, takes ~55 MB and gives the same ids.
So, once per model, ``tokenizer.json`` is converted into a sentencepiece model (pieces, scores,
the precompiled normaliser), checked against ``tokenizers`` on texts chosen to break it
(whitespace of every kind, special tokens typed in the text, six scripts) and cached beside the
ONNX export; any tokenizer that is not of that shape, or that the check finds different, stays
on ``tokenizers``. ``tests/test_tokenizer.py`` compares the two on every eval question, the
seed's paragraphs and UN sentences.

One difference remains, measured and left: where two segmentations score exactly the same (runs
of one repeated character, "xxxxxxxx"), the two libraries may order the same pieces differently.
No text of the eval, the corpora or the UN sentences hits it.

Two behaviours of ``tokenizers`` are reproduced by hand, because sentencepiece has no option
for them: special tokens typed in the text ("<s>", "</s>", ...) are split out and become their
ids, and a text whose normalised form ends in whitespace ends with the lone "▁" piece.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

SENTENCEPIECE_FILE, FALLBACK_MARKER = "tokenizer.spm", "tokenizer.hf-only"

# Texts on which a conversion must give exactly the ids of ``tokenizers`` to be used.
CHECK_TEXTS = [
    "query: Combien d'États sont parties à la Convention contre la corruption ?",
    "passage: UNODC trained more than 1,800 criminal justice practitioners in 2019.",
    "ÉTATS-UNIS d’Amérique — « test » … l'ONUDC/ONUSUDC (A/75/123), 3,5 millions de dollars",
    "Как ООН борется с коррупцией?", "ما هي مكافحة الفساد؟", "联合国毒品和犯罪问题办公室", "¿Cuántos Estados?",
    "  double  spaces  ", "trailing space ", "tab\tnew\nline\r\n", "nbsp\u00a0end\u00a0", "zero\u200bwidth\u200b",
    "ideographic\u3000", "control \x01", "ﬁ ligature Ｆｕｌｌｗｉｄｔｈ ①②", "e\u0301 é", "emoji 🙂 ✓",
    "<s> literal </s>", "a<mask>b <unk> <pad>", " ", "", "\n",
    "Le rapport décrit l'assistance technique de l'ONUDC aux États Membres. " * 60,  # truncated at 512
]


class TextTokenizer(Protocol):
    def encode(self, text: str) -> list[int]: ...

    def encode_batch(self, texts: list[str]) -> list[list[int]]: ...


class HfTokenizer:
    """``tokenizers``' own tokenizer: special tokens added, truncated at ``max_length``, no padding."""

    def __init__(self, tokenizer_json: Path, max_length: int):
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(tokenizer_json))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length)

    def encode(self, text: str) -> list[int]:
        return self._tokenizer.encode(text).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self._tokenizer.encode_batch(texts)]


class SentencePieceTokenizer:
    """The same ids from a sentencepiece model converted from ``tokenizer.json`` (see the module)."""

    def __init__(self, model: bytes, spec: dict, max_length: int):
        import sentencepiece as spm

        self._pieces = spm.SentencePieceProcessor(model_proto=model)
        self._normaliser = spm.SentencePieceProcessor(model_proto=_normaliser_only(model))
        self._bos, self._eos, self._space = spec["bos"], spec["eos"], spec["space"]
        self._special = spec["special"]
        # No special token: no split (an empty alternation would split between every character).
        self._split = (re.compile("(" + "|".join(map(re.escape, sorted(self._special, key=len, reverse=True))) + ")")
                       if self._special else None)
        self._room = max(0, max_length - 2)  # tokenizers truncates the text's ids, then adds <s> and </s>

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for segment in self._split.split(text) if self._split else [text]:
            if segment in self._special:
                ids.append(self._special[segment])
            elif segment:
                ids += self._pieces.encode(segment)
                if self._normaliser.normalize(segment).endswith(" "):
                    ids.append(self._space)
        return [self._bos, *ids[:self._room], self._eos]

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]


def load_tokenizer(tokenizer_json: Path, max_length: int, cache: Path | None) -> TextTokenizer:
    """The tokenizer for ``tokenizer_json``: sentencepiece when a checked conversion is (or can
    be) cached in the folder ``cache``, else ``tokenizers``. ``cache`` None: never converted."""
    if cache is None:
        return HfTokenizer(tokenizer_json, max_length)
    converted, marker = cache / SENTENCEPIECE_FILE, cache / FALLBACK_MARKER
    if not converted.is_file() and not marker.is_file():
        _convert_and_check(tokenizer_json, cache)
    if converted.is_file():
        try:
            model, spec = _read(converted)
            return SentencePieceTokenizer(model, spec, max_length)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:  # damaged cache: the slow path still works
            log.warning("%s unreadable (%s); using tokenizers", converted, exc)
    return HfTokenizer(tokenizer_json, max_length)


def _convert_and_check(tokenizer_json: Path, cache: Path) -> None:
    """Write ``tokenizer.spm`` if the conversion gives the same ids on ``CHECK_TEXTS``, else the
    marker that says not to try again. Both atomically."""
    from ..files import atomic_write

    converted = convert(json.loads(tokenizer_json.read_text(encoding="utf-8")))
    reason = "not a sentencepiece-shaped unigram tokenizer"
    if converted is not None:
        model, spec = converted
        ours, theirs = SentencePieceTokenizer(model, spec, 512), HfTokenizer(tokenizer_json, 512)
        differing = [t for t in CHECK_TEXTS if ours.encode(t) != theirs.encode(t)]
        if not differing:
            header = json.dumps(spec, ensure_ascii=False).encode("utf-8")
            atomic_write(cache / SENTENCEPIECE_FILE,
                         lambda p: p.write_bytes(len(header).to_bytes(4, "little") + header + model))
            return
        reason = f"different ids on {len(differing)} check texts, e.g. {differing[0][:40]!r}"
    log.warning("tokenizer %s kept on tokenizers (%s)", tokenizer_json, reason)
    atomic_write(cache / FALLBACK_MARKER, lambda p: p.write_text(reason + "\n", encoding="utf-8"))


def _read(path: Path) -> tuple[bytes, dict]:
    data = path.read_bytes()
    size = int.from_bytes(data[:4], "little")
    spec = json.loads(data[4:4 + size].decode("utf-8"))
    return data[4 + size:], spec


def convert(config: dict) -> tuple[bytes, dict] | None:
    """A sentencepiece model and the ids around it (``bos``, ``eos``, ``space``, ``special``)
    from a parsed ``tokenizer.json``; None unless it is a unigram model with sentencepiece's
    precompiled normaliser, a "▁" metaspace and a "<s> text </s>" template (XLM-R's family)."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    model, normaliser, pre, post = (config.get(k) or {} for k in ("model", "normalizer", "pre_tokenizer",
                                                                   "post_processor"))
    steps = normaliser.get("normalizers", [normaliser]) if normaliser.get("type") == "Sequence" else [normaliser]
    if (model.get("type") != "Unigram" or model.get("byte_fallback") or model.get("unk_id") is None
            or [s.get("type") for s in steps][:1] != ["Precompiled"]
            or any(s != {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "} for s in steps[1:])
            or pre.get("type") != "Metaspace" or pre.get("replacement") != "▁" or not pre.get("split", True)
            or pre.get("prepend_scheme", "always") != "always" or post.get("type") != "TemplateProcessing"):
        return None
    single = post.get("single", [])
    if (len(single) != 3 or "SpecialToken" not in single[0] or "Sequence" not in single[1]
            or "SpecialToken" not in single[2]):
        return None
    added = config.get("added_tokens") or []
    if any(not t.get("special") or t.get("normalized") or t.get("lstrip") or t.get("rstrip") or t.get("single_word")
           for t in added):
        return None
    vocab = model["vocab"]
    special = {t["content"]: int(t["id"]) for t in added}
    pieces = {piece: i for i, (piece, _) in enumerate(vocab)}
    if "▁" not in pieces or any(vocab[i][0] != s for s, i in special.items() if i < len(vocab)):
        return None
    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.vocab_size = len(vocab)
    proto.trainer_spec.unk_id = int(model["unk_id"])
    proto.trainer_spec.bos_id = proto.trainer_spec.eos_id = proto.trainer_spec.pad_id = -1
    spec = proto.normalizer_spec
    spec.name, spec.add_dummy_prefix, spec.remove_extra_whitespaces, spec.escape_whitespaces = (
        "precompiled", True, True, True)
    spec.precompiled_charsmap = base64.b64decode(steps[0]["precompiled_charsmap"])
    kinds = pb.ModelProto.SentencePiece
    for i, (piece, score) in enumerate(vocab):
        entry = proto.pieces.add()
        entry.piece, entry.score = piece, float(score)
        entry.type = (kinds.UNKNOWN if i == model["unk_id"] else kinds.CONTROL if piece in special else kinds.NORMAL)
    bos, eos = (post["special_tokens"][single[i]["SpecialToken"]["id"]]["ids"] for i in (0, 2))
    if len(bos) != 1 or len(eos) != 1:
        return None
    return proto.SerializeToString(), {"bos": bos[0], "eos": eos[0], "space": pieces["▁"], "special": special}


def _normaliser_only(model: bytes) -> bytes:
    """The model's normaliser alone, whitespace kept as is: tells whether a text's normalised
    form ends in whitespace (where tokenizers emits a lone "▁" and sentencepiece nothing)."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    proto = pb.ModelProto()
    proto.ParseFromString(model)
    del proto.pieces[:]
    kinds = pb.ModelProto.SentencePiece
    for piece, kind in (("<unk>", kinds.UNKNOWN), ("a", kinds.NORMAL)):
        entry = proto.pieces.add()
        entry.piece, entry.type, entry.score = piece, kind, 0.0
    proto.trainer_spec.vocab_size, proto.trainer_spec.unk_id = 2, 0
    spec = proto.normalizer_spec
    spec.add_dummy_prefix = spec.remove_extra_whitespaces = spec.escape_whitespaces = False
    return proto.SerializeToString()
