"""The gate: the full system on the test split must stay at or above the floors in evals/floors.json."""

from __future__ import annotations

import pytest

from assistant.evaluation import eval_report, evaluate

pytestmark = pytest.mark.eval


def test_test_split_meets_the_floors():
    run = evaluate.run(split="test", baselines=True)
    paths = eval_report.save(run)
    print("\n" + eval_report.table(run) + "\n" + "\n".join(map(str, paths.values())))
    assert evaluate.floors_failures(run) == []
