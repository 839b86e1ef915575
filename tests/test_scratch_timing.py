"""The timing helper: the table's shape and labels (speed itself is never asserted)."""

from __future__ import annotations

import pytest

from utils.scratch_timing import machine, markdown_table, seconds, time_pooling


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_time_pooling_rows(kind):
    rows = time_pooling(sizes=((1, 1, 6, 6), (1, 2, 40, 40)), kind=kind, min_run_time=0.01,
                        loops_max_cells=100)  # fmt: skip
    assert [r["input"] for r in rows] == ["1×1×6×6", "1×2×40×40"]
    assert rows[0]["loops ms"] != "—" and rows[1]["loops ms"] == "—"  # too big for loops
    assert all(r["vectorized / PyTorch"].endswith("×") for r in rows)
    table = markdown_table(rows)
    assert table.count("\n") == 3 and "vectorized ms" in table


def test_bad_kind_and_helpers():
    with pytest.raises(ValueError, match="'max' or 'avg'"):
        time_pooling(kind="min")
    assert seconds(sum, [1, 2], min_run_time=0.01) > 0
    assert "torch" in machine()
    assert markdown_table([]) == ""
