"""Shared fixtures. Unit tests use tiny fixtures and fakes; tests marked ``model``, ``server``,
``browser`` and ``eval`` use the real model, index, server and browser."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def mini_report_text() -> str:
    return (FIXTURES / "mini_report.md").read_text(encoding="utf-8")
