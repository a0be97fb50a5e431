"""The embedding model through onnxruntime, without torch: the query-time (and bulk) encoder.

Why: torch was ~30 ms of a 35 ms answer, 10 s of a cold start and most of 1 GB of memory.
sentence-transformers stays the model format and the tool that builds and converts it; this
module runs the same network exported once to ONNX, and does by hand what sentence-transformers
does around it (read from the model folder's own files):

- the prompt ("query: ", "passage: ") from ``config_sentence_transformers.json``, prepended to
  the text as sentence-transformers does (no stripping);
- the tokenizer of ``tokenizer.json``, truncated at ``max_seq_length``
  (``sentence_bert_config.json``), special tokens kept: run by sentencepiece when a checked
  conversion gives the same ids, in a fifth of the memory (``tokenizer.py``), else by ``tokenizers``;
- mean pooling over the attention mask, prompt tokens included (``1_Pooling/config.json``),
  then L2 normalisation.

The export (``export``) takes the embedding lookup out of the graph: the network's input is
``inputs_embeds``, and the rows of the word-embedding matrix a text needs are read from a raw
file with ``os.pread``. That matrix is 384 MB of the model's 470 MB and a query touches a few
dozen of its 250,037 rows: read this way they stay in the page cache instead of the process's
memory (inside the graph, onnxruntime held the whole matrix, twice while loading). The exported
folder lives beside the converted model (``<cache>/models/<model>-onnx-<sha>``, never inside the
model folder, whose files are its hash) with ``export.json`` recording what built it and the
files' hashes; the index manifest records that hash (``encoder_sha256``).

``tests/test_onnx_encoder.py`` proves the fidelity against sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..files import file_sha256
from ..settings import Settings

log = logging.getLogger(__name__)

EXPORT_FORMAT = "st-onnx-inputs-embeds/1"
ENCODER_FILE, INT8_FILE, EMBEDDINGS_FILE, RECORD_FILE = ("encoder.onnx", "encoder.int8.onnx",
                                                         "word_embeddings.f32", "export.json")
# The export is checked against sentence-transformers on these (padded in one batch) before it
# is kept: a network that does not export faithfully is refused, never used.
_CHECK_TEXTS = ["query: Combien d'États sont parties à la Convention contre la corruption ?",
                "passage: UNODC trained more than 1,800 criminal justice practitioners.",
                "query: x"]
_CHECK_MIN_COSINE = 0.9999
# Bound on batch size × tokens² in a bulk batch (see OnnxEmbedder.encode): 32 texts of 128 tokens.
_BATCH_TOKENS_SQUARED = 32 * 128 * 128


class UnsupportedModelError(RuntimeError):
    """The model folder is not one this encoder reproduces (pooling, lower-casing, no tokenizer.json)."""


@dataclass(frozen=True)
class ModelRecipe:
    """What sentence-transformers does around the network, read from the model folder."""

    prompts: dict[str, str]
    max_seq_length: int
    dimension: int

    @classmethod
    def read(cls, folder: Path) -> ModelRecipe:
        def load(name: str) -> dict:
            try:
                return json.loads((folder / name).read_text(encoding="utf-8"))
            except FileNotFoundError:
                return {}

        modules = load("modules.json")
        kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
        if kinds[:2] != ["Transformer", "Pooling"] or any(k not in ("Normalize",) for k in kinds[2:]):
            raise UnsupportedModelError(f"{folder}: modules {kinds}; only Transformer, Pooling[, Normalize]")
        pooling = load(f"{modules[1].get('path') or '1_Pooling'}/config.json")
        modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
        if modes != ["pooling_mode_mean_tokens"] or not pooling.get("include_prompt", True):
            raise UnsupportedModelError(f"{folder}: pooling {modes} (include_prompt="
                                        f"{pooling.get('include_prompt', True)}); only mean pooling over all tokens")
        st_config = load("sentence_bert_config.json")
        if st_config.get("do_lower_case"):
            raise UnsupportedModelError(f"{folder}: do_lower_case is not reproduced")
        if not (folder / "tokenizer.json").is_file():
            raise UnsupportedModelError(f"{folder}: no tokenizer.json (a fast tokenizer is needed)")
        max_len = st_config.get("max_seq_length")
        if max_len is None:  # sentence-transformers then falls back to the tokenizer's and the model's limits
            limits = [load("tokenizer_config.json").get("model_max_length"),
                      load("config.json").get("max_position_embeddings")]
            max_len = min(int(x) for x in limits if isinstance(x, int | float) and x < 1e6)
        prompts = load("config_sentence_transformers.json").get("prompts") or {}
        return cls(prompts={k: v for k, v in prompts.items() if isinstance(v, str)}, max_seq_length=int(max_len),
                   dimension=int(pooling["word_embedding_dimension"]))


def export_dir(model, settings: Settings) -> Path:
    """Where the ONNX export of ``model`` (a ``ResolvedModel``) lives: beside the converted models."""
    return settings.cache_dir / "models" / f"{model.path.name}-onnx-{model.sha256[:12]}"


def export_record(folder: Path, model) -> dict | None:
    """The export record if ``folder`` holds a complete export of ``model``, else None.
    Sizes are checked, not hashes: re-hashing 470 MB would cost every cold start a second."""
    try:
        record = json.loads((folder / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("format") != EXPORT_FORMAT or record.get("model_sha256") != model.sha256:
        return None
    for name, size in record.get("files", {}).items():
        if not (folder / name).is_file() or (folder / name).stat().st_size != size:
            return None
    return record if ENCODER_FILE in record.get("files", {}) else None


def ensure_export(model, settings: Settings, int8: bool = False) -> tuple[Path, dict]:
    """The export folder and its record, exporting once if needed (this imports torch)."""
    folder = export_dir(model, settings)
    record = export_record(folder, model)
    if record is None:
        log.warning("exporting %s to ONNX in %s (once)", model.id, folder)
        export(model, folder)
        record = export_record(folder, model)
        if record is None:
            raise RuntimeError(f"the ONNX export in {folder} did not validate")
    if int8 and INT8_FILE not in record["files"]:
        record = _quantize(folder, record)
    return folder, record


def encoder_sha256(record: dict, int8: bool) -> str:
    """One hash for what turns text into vectors: the network file used and the embedding rows."""
    names = (INT8_FILE if int8 else ENCODER_FILE, EMBEDDINGS_FILE)
    return hashlib.sha256("".join(record["sha256"][n] for n in names).encode()).hexdigest()


def export(model, target: Path) -> Path:
    """Export ``model``'s network through ``torch.onnx`` (built beside ``target``, checked against
    sentence-transformers, then renamed into place)."""
    import warnings

    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.utils.logging.disable_progress_bar()
    recipe = ModelRecipe.read(model.path)
    st = SentenceTransformer(str(model.path), device="cpu", local_files_only=True)
    if int(st.max_seq_length) != recipe.max_seq_length or (st.prompts or {}).get("query", "") != recipe.prompts.get(
            "query", ""):
        raise UnsupportedModelError(f"{model.path}: sentence-transformers reads max_seq_length "
                                    f"{st.max_seq_length} and prompts {st.prompts}, the folder's files say otherwise")
    network = st[0].auto_model.eval()
    # SDPA attention is traced through Python-side shape checks (TracerWarning: is_causal) that
    # freeze on the example's shape; eager attention is plain tensor ops. Same weights, same maths.
    network.set_attn_implementation("eager")

    class _FromEmbeddings(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, inputs_embeds, attention_mask):
            return self.inner(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        weights = network.get_input_embeddings().weight.detach().numpy().astype("<f4", copy=False)
        weights.tofile(tmp / EMBEDDINGS_FILE)
        example = torch.randn(2, 7, weights.shape[1])
        mask = torch.ones(2, 7, dtype=torch.int64)
        mask[1, 4:] = 0  # a padded row, so the mask path is traced
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings on shapes: the check below is the proof
            torch.onnx.export(_FromEmbeddings(network), (example, mask), str(tmp / ENCODER_FILE), dynamo=False,
                              input_names=["inputs_embeds", "attention_mask"], output_names=["last_hidden_state"],
                              dynamic_axes={"inputs_embeds": {0: "batch", 1: "tokens"},
                                            "attention_mask": {0: "batch", 1: "tokens"},
                                            "last_hidden_state": {0: "batch", 1: "tokens"}},
                              opset_version=17)
        files = {n: (tmp / n).stat().st_size for n in (ENCODER_FILE, EMBEDDINGS_FILE)}
        record = {"format": EXPORT_FORMAT, "model_id": model.id, "model_sha256": model.sha256,
                  "torch": torch.__version__, "opset": 17, "rows": int(weights.shape[0]),
                  "dimension": int(weights.shape[1]), "files": files,
                  "sha256": {n: file_sha256(tmp / n) for n in files}}
        (tmp / RECORD_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
        # prompt="" rather than None: None would let a default prompt name apply.
        reference = st.encode(_CHECK_TEXTS, prompt="", normalize_embeddings=True, convert_to_numpy=True)
        del st, network
        ours = OnnxEmbedder(model, tmp, record, threads=1).encode(_CHECK_TEXTS, None)
        cosine = float((ours * reference).sum(axis=1).min())
        if cosine < _CHECK_MIN_COSINE:
            raise RuntimeError(f"the ONNX export of {model.id} differs from sentence-transformers "
                               f"(cosine {cosine:.5f} < {_CHECK_MIN_COSINE}); not kept")
        if target.exists():  # another process exported meanwhile: theirs is as good
            shutil.rmtree(tmp)
            return target
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _quantize(folder: Path, record: dict) -> dict:
    """Dynamic int8 weights (``encoder.int8.onnx``): an option, not the default (see README)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, tmp = tempfile.mkstemp(prefix=f".{INT8_FILE}.", dir=folder)
    os.close(fd)
    try:
        root, level = logging.getLogger(), logging.getLogger().level
        root.setLevel(logging.ERROR)  # it logs advice ("pre-process first") on the root logger
        try:
            quantize_dynamic(str(folder / ENCODER_FILE), tmp, weight_type=QuantType.QInt8)
        finally:
            root.setLevel(level)
        os.replace(tmp, folder / INT8_FILE)
    finally:
        Path(tmp).unlink(missing_ok=True)
    record = {**record, "files": {**record["files"], INT8_FILE: (folder / INT8_FILE).stat().st_size},
              "sha256": {**record["sha256"], INT8_FILE: file_sha256(folder / INT8_FILE)}}
    from ..files import atomic_write

    atomic_write(folder / RECORD_FILE, lambda p: p.write_text(json.dumps(record, indent=2), encoding="utf-8"))
    return record


class OnnxEmbedder:
    """The same interface as ``embedder.Embedder`` (``embed_queries``, ``embed_passages``, ``dim``).
    Thread-safe: onnxruntime's ``run`` and the tokenizer's ``encode`` may be called concurrently,
    and rows are read with ``pread`` (no shared file position)."""

    def __init__(self, model, folder: Path, record: dict, threads: int = 2, int8: bool = False,
                 batch_size: int = 32, spinning: bool = True, tokenizer=None):
        import onnxruntime as ort

        from .tokenizer import load_tokenizer

        self.model = model
        self._folder, self._record = folder, record
        self.recipe = ModelRecipe.read(model.path)
        self.dim = int(record["dimension"])
        self.batch_size = max(1, batch_size)
        self.encoder = "onnx-int8" if int8 else "onnx"
        self.encoder_sha256 = encoder_sha256(record, int8)
        # Not padded (padded here, to the batch's longest); sentencepiece when it gives the same ids.
        self._tokenizer = tokenizer or load_tokenizer(model.path / "tokenizer.json", self.recipe.max_seq_length,
                                                      folder)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # its warnings about unused initialisers are noise
        # Without its arena, memory a large batch needed goes back to the system when the batch
        # is done; with it, the process kept its largest batch's peak for good.
        options.enable_cpu_mem_arena = False
        # Settings.onnx_spinning: idle pool threads busy-wait a moment before sleeping (faster and
        # cheaper per query, measured), or sleep at once (the cores are shared: concurrent
        # answers, a rebuild, other processes).
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        self._session = ort.InferenceSession(str(folder / (INT8_FILE if int8 else ENCODER_FILE)), options,
                                             providers=["CPUExecutionProvider"])
        self._rows = os.open(folder / EMBEDDINGS_FILE, os.O_RDONLY)
        self._row_bytes = self.dim * 4
        self._vocab_rows = int(record["rows"])

    def for_background(self) -> OnnxEmbedder:
        """A one-thread embedder of the same export, of its own: for a rebuild while the process
        answers. Its session is made in the calling thread and computes there only, so a thread
        of lower priority stays so (``refresh.rebuild_in_background``)."""
        # The tokenizer is shared (~55 MB; its encode is thread-safe, as answering relies on).
        return OnnxEmbedder(self.model, self._folder, self._record, threads=1, int8=self.encoder == "onnx-int8",
                            batch_size=self.batch_size, spinning=False, tokenizer=self._tokenizer)

    def __del__(self):
        try:
            os.close(self._rows)
        except (AttributeError, OSError):
            pass

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts, self.recipe.prompts.get("query"))

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.encode(texts, self.recipe.prompts.get("passage"), progress=progress)

    def encode(self, texts: list[str], prompt: str | None, progress: bool = False) -> np.ndarray:
        """L2-normalised vectors, one row per text, in order. Long lists go in batches of similar
        length (as sentence-transformers does), so little of a batch is padding."""
        texts = [(prompt or "") + t for t in texts]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        if len(texts) == 1:
            out[0] = self._run([self._tokenizer.encode(texts[0])])[0]
            return out
        encodings = self._tokenizer.encode_batch(texts)
        order = np.argsort([-len(e) for e in encodings], kind="stable")
        batches, at = [], 0
        while at < len(order):
            # Attention holds batch × heads × tokens² scores per layer: a batch of 32 texts of 512
            # tokens took 1.3 GB. Long texts go in smaller batches (32 of 128 tokens at most).
            width = len(encodings[order[at]])
            size = max(1, min(self.batch_size, _BATCH_TOKENS_SQUARED // (width * width)))
            batches.append(order[at:at + size])
            at += size
        from tqdm import tqdm

        for batch in tqdm(batches, desc="embedding", unit="batch", disable=not progress):
            out[batch] = self._run([encodings[i] for i in batch])
        return out

    def _run(self, ids: list[list[int]]) -> np.ndarray:
        width = max(len(x) for x in ids)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        tokens = np.zeros((len(ids), width), dtype=np.int64)
        for i, row in enumerate(ids):
            tokens[i, :len(row)] = row
            mask[i, :len(row)] = 1
        hidden = self._session.run(None, {"inputs_embeds": self._lookup(tokens), "attention_mask": mask})[0]
        # Mean pooling over real tokens, then L2 normalisation, as sentence-transformers' Pooling
        # (clamp 1e-9) and Normalize (eps 1e-12) modules do.
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)

    def _lookup(self, tokens: np.ndarray) -> np.ndarray:
        unique, inverse = np.unique(tokens, return_inverse=True)
        if unique[-1] >= self._vocab_rows or unique[0] < 0:
            raise ValueError(f"token id outside the embedding matrix ({self._vocab_rows} rows)")
        rows = np.empty((len(unique), self.dim), dtype=np.float32)
        for j, token in enumerate(unique.tolist()):
            rows[j] = np.frombuffer(os.pread(self._rows, self._row_bytes, token * self._row_bytes), dtype="<f4")
        return rows[inverse.reshape(tokens.shape)]


_lock = threading.Lock()


@lru_cache(maxsize=4)
def _cached(model, folder: Path, threads: int, int8: bool, batch_size: int, spinning: bool) -> OnnxEmbedder:
    record = export_record(folder, model)
    return OnnxEmbedder(model, folder, record, threads=threads, int8=int8, batch_size=batch_size,
                        spinning=spinning)


def get_onnx_embedder(model, settings: Settings) -> OnnxEmbedder:
    """The process-wide onnxruntime embedder for ``model`` and these settings (exported once)."""
    if settings.encoder not in ("onnx", "onnx-int8"):
        raise ValueError(f"not an onnxruntime encoder: {settings.encoder!r}")
    int8 = settings.encoder == "onnx-int8"
    with _lock:  # one export at a time; the session is built once
        folder, _ = ensure_export(model, settings, int8)
        return _cached(model, folder, settings.threads, int8, settings.embed_batch_size, settings.onnx_spinning)


def check_supported(model) -> None:
    """``UnsupportedModelError`` if this encoder cannot reproduce ``model`` (read without torch)."""
    ModelRecipe.read(model.path)


__all__ = ["OnnxEmbedder", "UnsupportedModelError", "ensure_export",
           "get_onnx_embedder"]
