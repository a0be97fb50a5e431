"""The onnxruntime encoder against sentence-transformers (the real model, both ways), and the
answer path without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from assistant.evaluation.evaluate import load_questions
from assistant.library import load_report
from assistant.search.embedder import Embedder, get_embedder, resolve_model
from assistant.search.index import build_units, unit_sentences
from assistant.search.onnx_encoder import ModelRecipe, OnnxEmbedder, encoder_sha256, export_dir, export_record
from assistant.settings import Settings
from assistant.text import search_text

pytestmark = pytest.mark.model

FIXTURES = Path(__file__).parent / "fixtures"
HEAVY = ("torch", "transformers", "sentence_transformers")


def _unpc_sample() -> tuple[list[str], list[str]]:
    rows = [line.split("\t") for line in (FIXTURES / "unpc_sample.tsv").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    return [r[1] for r in rows], [r[2] for r in rows]


def fidelity_texts() -> list[str]:
    """200 texts: 60 English and 60 French UN sentences (committed sample of the UN Parallel
    Corpus), 50 of the report's sentences, 26 English eval questions, and 4 hard cases (two
    paragraphs longer than the model's 512 tokens, noisy characters, a single word)."""
    english, french = _unpc_sample()
    report = load_report()
    sentences = [s for _, s in unit_sentences(build_units(report))]
    questions = [q.question for q in load_questions() if q.lang == "en"]
    long_text = " ".join(p.text for p in report.paragraphs[10:16])
    hard = [long_text, long_text[::-1], "Ünïcödé ﬁ nbsp\u00a0here, zero\u200bwidth, tab\there 😀 中文 </s>", "ONUDC"]
    texts = english[:60] + french[:60] + sentences[::len(sentences) // 50][:50] + questions[:26] + hard
    assert len(texts) == 200
    return texts


@pytest.fixture(scope="module")
def onnx_embedder() -> OnnxEmbedder:
    embedder = get_embedder(Settings())
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(resolve_model(Settings()))


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


@pytest.mark.parametrize("kind", ["queries", "passages"])
def test_same_vectors_as_sentence_transformers(onnx_embedder, torch_embedder, kind):
    texts = fidelity_texts()
    ours = getattr(onnx_embedder, f"embed_{kind}")(texts)  # padded batches, sorted by length
    theirs = getattr(torch_embedder, f"embed_{kind}")(texts)
    cosines = _cosines(ours, theirs)
    print(f"\n{kind}: cosine to sentence-transformers over {len(texts)} texts: mean {cosines.mean():.7f}, "
          f"min {cosines.min():.7f}")
    assert cosines.mean() >= 0.9999 and cosines.min() >= 0.999
    one_by_one = np.stack([getattr(onnx_embedder, f"embed_{kind}")([t])[0] for t in texts[::10]])
    assert _cosines(one_by_one, ours[::10]).min() >= 0.9999  # batching and padding change nothing


def test_same_top5_on_every_eval_question(onnx_embedder, torch_embedder):
    units = build_units(load_report())
    passages = [u.embed_text for u in units]
    sentences = [search_text(s) for _, s in unit_sentences(units)]
    questions = [q.question for q in load_questions()]
    differ = []
    for name, texts in (("units", passages), ("sentences", sentences)):
        ours = onnx_embedder.embed_queries(questions) @ onnx_embedder.embed_passages(texts).T
        theirs = torch_embedder.embed_queries(questions) @ torch_embedder.embed_passages(texts).T
        top_ours, top_theirs = np.argsort(-ours, axis=1)[:, :5], np.argsort(-theirs, axis=1)[:, :5]
        differ += [(name, q) for q, a, b in zip(questions, top_ours, top_theirs, strict=True) if list(a) != list(b)]
    print(f"\ntop-5 units and sentences identical on {len(questions) - len(differ)}/{len(questions)} questions")
    assert differ == []


def test_prompts_and_truncation_are_the_model_folders(onnx_embedder, torch_embedder):
    folder = resolve_model(Settings()).path
    recipe = ModelRecipe.read(folder)
    config = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert recipe.prompts == config["prompts"]
    assert all(torch_embedder._st.prompts[name] == prompt for name, prompt in recipe.prompts.items())
    assert recipe.prompts["query"] == "query: " and recipe.prompts["passage"] == "passage: "
    assert recipe.max_seq_length == torch_embedder._st.max_seq_length == 512
    long_ids = onnx_embedder._tokenizer.encode("passage: " + "mot " * 2000)
    reference = torch_embedder._st.tokenizer("passage: " + "mot " * 2000, truncation=True, max_length=512)["input_ids"]
    assert long_ids == reference and len(long_ids) == 512 and long_ids[-1] == 2  # </s> kept, as ST does


def test_the_export_is_recorded_and_named_by_the_manifest(onnx_embedder):
    settings = Settings()
    model = resolve_model(settings)
    folder = export_dir(model, settings)
    record = export_record(folder, model)
    assert record is not None and record["model_sha256"] == model.sha256
    assert folder.parent == model.path.parent and not (model.path / "encoder.onnx").exists()
    assert onnx_embedder.encoder_sha256 == encoder_sha256(record, int8=False)
    manifest = json.loads((settings.index_dir / "manifest.json").read_text())
    assert manifest["encoder"] == "onnx" and manifest["encoder_sha256"] == onnx_embedder.encoder_sha256


def test_concurrent_queries_get_the_same_vectors(onnx_embedder):
    questions = [q.question for q in load_questions()][:64]
    alone = onnx_embedder.embed_queries(questions[:1])
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda q: onnx_embedder.embed_queries([q])[0], questions))
    sequential = [onnx_embedder.embed_queries([q])[0] for q in questions]
    assert np.allclose(together, sequential, atol=1e-6) and np.allclose(alone[0], sequential[0], atol=1e-6)


def test_the_background_embedder_is_a_one_thread_copy_giving_the_same_vectors(onnx_embedder):
    """What a rebuild while serving embeds with (refresh.rebuild_in_background)."""
    background = onnx_embedder.for_background()
    assert background is not onnx_embedder and background.encoder_sha256 == onnx_embedder.encoder_sha256
    texts = fidelity_texts()[::4]
    assert _cosines(background.embed_passages(texts), onnx_embedder.embed_passages(texts)).min() >= 0.9999


_NO_TORCH = textwrap.dedent("""
    import json, sys
    {body}
    print("HEAVY=" + json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})))
""")


def _heavy_modules_after(body: str) -> list[str]:
    code = _NO_TORCH.format(body=textwrap.dedent(body), heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "ASSISTANT_ENCODER": "onnx"})
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("HEAVY="))
    return json.loads(line[len("HEAVY="):])


def test_answer_and_ask_never_import_torch():
    assert _heavy_modules_after("""
        import assistant
        a = assistant.answer("Combien d'États sont parties à la Convention contre la corruption ?")
        assert [c.paragraph for c in a.citations] == [46], a
        from assistant.app.cli import main
        assert main(["ask", "How many users consulted the SHERLOC portal in 2019?"]) == 0
    """) == []


def test_serve_never_imports_torch():
    assert _heavy_modules_after("""
        import socket
        from assistant.settings import Settings
        from assistant.app.ui import serve
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        demo = serve(Settings.from_env(port=port), block=False)
        from gradio_client import Client
        result = Client(f"http://127.0.0.1:{port}/", verbose=False).predict("What did UNODC do in Somalia?", 5,
                                                                            api_name="/ask")
        assert result["citations"], result
        demo.close()
    """) == []
