"""Timing the from-scratch pooling against PyTorch's, with torch.utils.benchmark.

Used by lesson 06 (a small table, shown, never asserted) and by ``tools/bench.py``.
Timings depend on the machine and on whoever else is using it: compare numbers measured side by
side in one run, never numbers from different runs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils import benchmark

from utils import scratch, scratch_loops

__all__ = ["machine", "markdown_table", "seconds", "time_pooling"]

IMPLEMENTATIONS = {
    "max": (scratch_loops.max_pool2d_loops, scratch.max_pool2d, F.max_pool2d),
    "avg": (scratch_loops.avg_pool2d_loops, scratch.avg_pool2d, F.avg_pool2d),
}


def seconds(fn, *args, min_run_time: float = 0.2, **kwargs) -> float:
    """Median seconds per call of ``fn(*args, **kwargs)`` (torch.utils.benchmark, warm-up included)."""
    timer = benchmark.Timer(
        stmt="fn(*args, **kwargs)", globals={"fn": fn, "args": args, "kwargs": kwargs}
    )
    return timer.blocked_autorange(min_run_time=min_run_time).median


def _ms(s: float | None) -> str:
    return "—" if s is None else (f"{s * 1e3:.3f}" if s < 0.01 else f"{s * 1e3:.1f}")


def time_pooling(
    sizes=((1, 1, 8, 8), (1, 3, 32, 32), (8, 16, 64, 64)),
    kind: str = "max",
    kernel_size=3,
    stride=2,
    padding=1,
    min_run_time: float = 0.2,
    loops_max_cells: int = 20_000,
    seed: int = 0,
) -> list[dict]:
    """One row per input size: milliseconds per call of the loop version, the vectorized version
    and PyTorch, and the ratio vectorized / PyTorch. The loop version is timed only when the input
    has at most ``loops_max_cells`` elements (it visits every cell in Python)."""
    if kind not in IMPLEMENTATIONS:
        raise ValueError(f"kind must be 'max' or 'avg', got {kind!r}")
    loops, vectorized, native = IMPLEMENTATIONS[kind]
    args = (kernel_size, stride, padding)
    rows = []
    generator = torch.Generator().manual_seed(seed)
    for size in sizes:
        x = torch.rand(size, generator=generator)
        t_loops = (
            seconds(loops, x, *args, min_run_time=min_run_time)
            if x.numel() <= loops_max_cells
            else None
        )
        t_vec = seconds(vectorized, x, *args, min_run_time=min_run_time)
        t_native = seconds(native, x, *args, min_run_time=min_run_time)
        rows.append(
            {
                "input": "×".join(map(str, size)),
                "loops ms": _ms(t_loops),
                "vectorized ms": _ms(t_vec),
                "PyTorch ms": _ms(t_native),
                "loops / PyTorch": "—" if t_loops is None else f"{t_loops / t_native:,.0f}×",
                "vectorized / PyTorch": f"{t_vec / t_native:.2f}×",
            }
        )
    return rows


def markdown_table(rows: list[dict]) -> str:
    """Rows of equal keys -> a GitHub markdown table."""
    if not rows:
        return ""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join("---" for _ in keys) + "|"]
    lines += ["| " + " | ".join(str(row[k]) for k in keys) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """CPU model, cores, threads and library versions, for the caption of a timing table."""
    import os
    import platform

    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next(
                line.split(":", 1)[1].strip() for line in f if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return (
        f"{model}, {os.cpu_count()} logical cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), Python {platform.python_version()}"
    )
