"""What ``answer()`` and ``retrieve()`` accept, checked in one place before anything deeper runs.

A question is text of at most ``settings.max_question_chars`` characters once cleaned; its
``history`` is a list (or tuple) of the conversation's earlier questions, each held to the same
limits, and the question's own length is checked before a follow-up is merged with the question
before it. Every setting, whether it comes from ``Settings(...)``, an ``ASSISTANT_*`` variable or
a keyword override, is checked for its type, its range and (for reals) finiteness.

Cleaning: control characters become spaces and the ends are stripped. A lone UTF-16 surrogate
(``"\\ud83d"``, which a lenient JSON decoder or a broken client can produce) cannot be encoded as
UTF-8, so the tokenizer cannot read it: it is replaced by U+FFFD, the replacement character, as
a UTF-8 decoder would; a high and a low surrogate that stand together are joined into their
character ("\\ud83d\\ude00" -> "😀").

Anything that cannot be used raises ``InvalidInput``, a ``ValueError`` whose message says what to
do, never a ``TypeError`` or ``AttributeError`` from deep inside.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from pathlib import Path
from typing import NamedTuple

from .settings import Settings, parse_language_shifts

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class InvalidInput(ValueError):
    """An argument of ``answer()``/``retrieve()`` that cannot be used; the message says what to do."""


class UnknownSetting(InvalidInput, TypeError):
    """A keyword that names no setting. Also a ``TypeError``: ``Settings.replace`` raised that
    before, and callers may still catch it."""


# Whole-number settings: (lowest, highest, what it is). The upper bounds only keep absurd values
# out (a k of 10**30 is no request a person makes); the report has 143 units. An int setting not
# listed here must be a whole number from 0 to 10**9.
_WHOLE: dict[str, tuple[int, int, str]] = {
    "k": (1, 1000, "passages to retrieve"),
    "candidates": (1, 10_000, "candidates each retriever hands to the fusion"),
    "rrf_k": (0, 10_000, "the rank-fusion constant"),
    "threads": (1, 256, "torch threads"),
    "max_question_chars": (1, 1_000_000, "the longest question accepted"),
    "max_quotes": (1, 100, "sentences quoted at most"),
    "port": (0, 65_535, "the chat's port"),
    "concurrency": (1, 1024, "answers computed at once"),
    "queue_size": (1, 1_000_000, "requests waiting at most"),
    "embed_batch_size": (1, 4096, "texts embedded per batch"),
    "ivf_nprobe": (1, 1_000_000, "IVF lists searched"),
    "held_terms": (1, 1000, "topic terms a confirming sentence holds"),
    "held_spare_from": (1, 1000, "topic terms before one may be missing"),
    "amount_paragraphs": (1, 1000, "paragraphs searched for a share or sum"),
    "count_window": (1, 1000, "words between a count and what it counts"),
    "ranked_window": (1, 1000, "words either side of a superlative"),
}
_ANY_WHOLE = (0, 10**9, "a setting")
# Real-valued settings: (lowest, what it is); all must be finite. A negative weight, margin or
# share would invert what it weighs. A float setting not listed here need only be finite.
_REAL: dict[str, tuple[float | None, str]] = {
    "dense_weight": (0.0, "a fusion weight"),
    "lexical_weight": (0.0, "a fusion weight"),
    "sentence_weight": (0.0, "a fusion weight"),
    "heading_weight": (0.0, "a heading's score factor"),
    "passage_rank_weight": (0.0, "a sentence-score weight"),
    "paragraph_weight": (0.0, "a sentence-score weight"),
    "overlap_weight": (0.0, "a sentence-score weight"),
    "held_bonus": (0.0, "a sentence-score bonus"),
    "runner_up_margin": (0.0, "a quoting margin"),
    "same_paragraph_margin": (0.0, "a quoting margin"),
    "abstain_standout": (None, "the abstention threshold, in standard deviations"),
}
_ANY_REAL = (None, "a setting")
#: How retrieval combines its rankings (``Settings.fusion``).
FUSIONS = ("minmax", "rrf")
# Every field's kind, from its declared type: a field added to Settings is checked by its type
# without an edit here.
SETTING_KINDS = {f.name: ("whole" if str(f.type) == "int" else "real" if str(f.type) == "float" else
                   "yes/no" if str(f.type) == "bool" else
                   "path" if "Path" in str(f.type) else "optional text" if "None" in str(f.type) else
                   "text" if str(f.type) == "str" else "any") for f in dataclasses.fields(Settings)}
_FIELDS = frozenset(SETTING_KINDS)


class Request(NamedTuple):
    """A checked call: the cleaned question, the cleaned earlier questions, the settings."""

    question: str
    history: list[str]
    settings: Settings


def check_request(question: object, settings: object = None, history: object = None,
                  overrides: dict | None = None, on_token: object = None) -> Request:
    """Everything ``answer()`` is given, checked; ``InvalidInput`` says what is wrong."""
    if on_token is not None and not callable(on_token):
        raise InvalidInput(f"on_token must be a function of one str (or None), not {_kind(on_token)}")
    checked = check_settings(settings, overrides or {})
    return Request(check_question(question, checked), check_history(history, checked), checked)


def clean_text(text: str) -> str:
    """Control characters as spaces, unpaired surrogates as U+FFFD, ends stripped."""
    if _SURROGATE.search(text):
        # UTF-16 with surrogatepass joins a high and a low surrogate into their character; a
        # lone one is then undecodable and becomes U+FFFD.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _CONTROL.sub(" ", text).strip()


def check_question(question: object, settings: Settings) -> str:
    """The question, cleaned (``clean_text``); ``InvalidInput`` if it cannot be asked."""
    if not isinstance(question, str):
        raise InvalidInput(f"the question must be text (a str), not {_kind(question)}")
    cleaned = clean_text(question)
    if not cleaned:
        raise InvalidInput("the question is empty: ask something about the report")
    if len(cleaned) > settings.max_question_chars:
        raise InvalidInput(f"the question is too long ({len(cleaned)} characters; "
                           f"at most {settings.max_question_chars}): shorten it")
    return cleaned


def check_history(history: object, settings: Settings) -> list[str]:
    """The earlier questions, oldest first, cleaned; blank ones are left out (they say nothing
    a follow-up could build on)."""
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        hint = " (wrap a single question in a list: history=[question])" if isinstance(history, str) else ""
        raise InvalidInput("history must be a list of the conversation's earlier questions (str), "
                           f"oldest first, not {_kind(history)}{hint}")
    cleaned = []
    for i, item in enumerate(history):
        if not isinstance(item, str):
            raise InvalidInput(f"history[{i}] must be an earlier question (a str), not {_kind(item)}")
        text = clean_text(item)
        if len(text) > settings.max_question_chars:
            raise InvalidInput(f"history[{i}] is too long ({len(text)} characters; "
                               f"at most {settings.max_question_chars})")
        if text:
            cleaned.append(text)
    return cleaned


def check_documents(documents: object) -> tuple[str, ...] | None:
    """The document ids to search, without repeats; None (the whole library) for None or an
    empty list. Whether the library holds them is checked once it is loaded."""
    if documents is None:
        return None
    if isinstance(documents, str):
        raise InvalidInput("documents must be a list of document ids, not a str (wrap a single one in a list: "
                           f"documents=[{_shown(documents)}])")
    if not isinstance(documents, (list, tuple, set, frozenset)):
        raise InvalidInput(f"documents must be a list of document ids (str), or None for the whole library, "
                           f"not {_kind(documents)}")
    ids = []
    for i, document in enumerate(documents):
        if not isinstance(document, str) or not clean_text(document):
            raise InvalidInput(f"documents[{i}] must be a document id such as 'S/2025/303' (a non-empty str), "
                               f"not {_shown(document)}")
        ids.append(clean_text(document))
    return tuple(dict.fromkeys(ids)) or None


def check_k(k: object) -> int:
    """``k`` as an int from 1 to 1000 (an integral float such as 5.0, as JSON clients send, is
    accepted); ``InvalidInput`` otherwise."""
    return _whole("k", k)


def check_settings(settings: object = None, overrides: dict | None = None) -> Settings:
    """``settings`` (``Settings.from_env()`` when None) with ``overrides`` applied, every field
    checked. Path settings given as ``str`` become ``Path``; integral floats become ``int``."""
    if settings is None:
        settings = Settings.from_env()
    elif not isinstance(settings, Settings):
        raise InvalidInput(f"settings must be an assistant.Settings (or None), not {_kind(settings)}")
    overrides = overrides or {}
    unknown = sorted(str(name) for name in overrides if name not in _FIELDS)
    if unknown:
        raise UnknownSetting(f"unknown setting(s): {', '.join(unknown)}; the settings are the fields of "
                             f"assistant.Settings: {', '.join(sorted(_FIELDS))}")
    values = {name: getattr(settings, name) for name in _FIELDS}
    values.update(overrides)
    fixed = {name: _checked(name, value) for name, value in values.items()}
    changed = {name: value for name, value in fixed.items() if _differs(value, getattr(settings, name))}
    return settings.replace(**changed) if changed else settings


def _checked(name: str, value: object) -> object:
    kind = SETTING_KINDS[name]
    if name == "fusion" and value not in FUSIONS:
        raise InvalidInput(f"fusion must be one of {', '.join(FUSIONS)}, not {_shown(value)}")
    if name == "cross_language_shift" and isinstance(value, str):
        try:
            parse_language_shifts(value)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    if kind == "whole":
        return _whole(name, value)
    if kind == "yes/no":
        if not isinstance(value, bool):  # "no" is a non-empty string, which Python reads as yes
            raise InvalidInput(f"{name} must be True or False, not {_shown(value)}")
        return value
    if kind == "real":
        low, what = _REAL.get(name, _ANY_REAL)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise InvalidInput(f"{name} ({what}) must be a finite number, not {_shown(value)}")
        if low is not None and value < low:
            raise InvalidInput(f"{name} ({what}) must be at least {low:g}, not {_shown(value)}")
        return float(value)
    if kind == "path":
        if isinstance(value, Path):
            return value
        if isinstance(value, str) and value.strip():
            return Path(value).expanduser()
        raise InvalidInput(f"{name} must be a path (pathlib.Path or a non-empty str), not {_shown(value)}")
    if kind == "any" or (kind == "optional text" and value is None):
        return value
    if isinstance(value, str) and value.strip():
        return value
    none = " or None" if kind == "optional text" else ""
    raise InvalidInput(f"{name} must be a non-empty str{none}, not {_shown(value)}")


def _whole(name: str, value: object) -> int:
    low, high, what = _WHOLE.get(name, _ANY_WHOLE)
    number: int | None = None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = int(value)
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    if number is None or not low <= number <= high:
        raise InvalidInput(f"{name} ({what}) must be a whole number from {low} to {high}, not {_shown(value)}")
    return number


def _differs(new: object, old: object) -> bool:
    # 5 == 5.0 and hash alike, but keep the field's declared type (an int stays an int).
    return new != old or type(new) is not type(old)


def _kind(value: object) -> str:
    return "None" if value is None else type(value).__name__


def _shown(value: object) -> str:
    """The value for a message, cut short (a fuzzer's million-character string stays readable)."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
