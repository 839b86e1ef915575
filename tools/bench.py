"""`make bench`: speed ratios measured side by side in one run, printed as a markdown table.

    .venv/bin/python tools/bench.py                 # everything (a few minutes)
    .venv/bin/python tools/bench.py --only pooling  # pooling | notebooks | tensorboard

1. Pooling: utils.scratch (vectorized, from primitives) vs torch.nn.functional at
   (8, 64, 112, 112), kernel 3, stride 2, padding 1. Target: scratch <= 2x native.
2. Notebooks: every course notebook (lessons and solutions), each in a fresh kernel, vs the floor:
   a bare notebook that only imports torch, torchvision, tensorboard and matplotlib, times the
   number of notebooks. Target: <= 2x the floor.
3. TensorBoard: the original lesson's workload shape (10,000 synthetic 3x32x32 images in 157
   steps of 64, the last 16, plus their 3x3 max-pooled outputs) through utils.tensorboard_logging
   .ImageRun vs a plain SummaryWriter.add_images loop vs the floor (make_grid + PNG encoding
   alone, no writing). Target: our helper within 10% of the plain loop. Also event file sizes.

Each ratio is the median over rounds that alternate the contestants (a busy machine slows all of
them alike), followed by the spread: the smallest and largest ratio of a single round. Nothing here is a test: speed is never asserted in the test suite.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import nbformat  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils import benchmark  # noqa: E402

from utils import scratch  # noqa: E402

POOL_SHAPE = (8, 64, 112, 112)
POOL_ARGS = (3, 2, 1)  # kernel_size, stride, padding
TB_IMAGES, TB_BATCH = 10_000, 64  # CIFAR-10 test set in batches of 64: 157 steps, the last 16

FLOOR_SOURCE = (
    "import torch\nimport torchvision\nimport tensorboard\nimport matplotlib.pyplot as plt"
)


def seconds(fn, *args, min_run_time: float = 0.2, **kwargs) -> float:
    """Median seconds per call of ``fn(*args, **kwargs)`` (torch.utils.benchmark, warm-up included)."""
    timer = benchmark.Timer(stmt="fn(*args, **kwargs)",
                            globals={"fn": fn, "args": args, "kwargs": kwargs})
    return timer.blocked_autorange(min_run_time=min_run_time).median


def machine() -> str:
    """CPU model, cores, threads and library versions, for the caption of the table."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{model}, {os.cpu_count()} logical cores, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), Python {platform.python_version()}")


def spread(ours: list[float], reference: list[float]) -> tuple[float, str]:
    """Median ratio over the rounds, and ``"1.71× (1.52–2.10)"``: the median and the min–max of rounds."""
    ratios = [o / r for o, r in zip(ours, reference, strict=True)]
    median = statistics.median(ratios)
    return median, f"{median:.2f}× ({min(ratios):.2f}–{max(ratios):.2f})"


def row(what, ours, reference, ratio, target, note=""):
    return {"what": what, "ours": ours, "reference": reference, "ratio": ratio,
            "target": target, "note": note}  # fmt: skip


def verdict(ratio: float, limit: float) -> str:
    return f"≤ {limit:g}× {'✓' if ratio <= limit else '✗'}"


# ---------------------------------------------------------------------------------------------
# 1. Pooling
# ---------------------------------------------------------------------------------------------
def bench_pooling(rounds: int = 3, min_run_time: float = 1.0) -> list[dict]:
    x = torch.randn(POOL_SHAPE, generator=torch.Generator().manual_seed(0))
    cases = [
        ("max_pool2d", scratch.max_pool2d, F.max_pool2d, {}),
        ("max_pool2d, return_indices=True", scratch.max_pool2d, F.max_pool2d,
         {"return_indices": True}),
        ("avg_pool2d", scratch.avg_pool2d, F.avg_pool2d, {}),
    ]  # fmt: skip
    rows = []
    for name, ours, native, kwargs in cases:
        a, b = ours(x, *POOL_ARGS, **kwargs), native(x, *POOL_ARGS, **kwargs)
        if isinstance(a, tuple):  # values and indices: exactly equal
            same = torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
        else:
            same = torch.allclose(a, b, atol=1e-6)
        t_ours, t_native = [], []
        for _ in range(rounds):  # alternate, so load changes hit both
            t_native.append(seconds(native, x, *POOL_ARGS, **kwargs, min_run_time=min_run_time))
            t_ours.append(seconds(ours, x, *POOL_ARGS, **kwargs, min_run_time=min_run_time))
        o, n = statistics.median(t_ours), statistics.median(t_native)
        ratio, shown = spread(t_ours, t_native)
        limit = 2.0 if not kwargs else None
        rows.append(row(
            f"scratch `{name}` vs `F.{name.split(',')[0]}`, {'×'.join(map(str, POOL_SHAPE))}, "
            "k3 s2 p1",
            f"{o * 1e3:.1f} ms", f"{n * 1e3:.1f} ms", shown,
            verdict(ratio, limit) if limit else "(none)",
            "results equal" if same else "RESULTS DIFFER",
        ))  # fmt: skip
    return rows


# ---------------------------------------------------------------------------------------------
# 2. Notebooks
# ---------------------------------------------------------------------------------------------
def bench_notebooks(floor_runs: int = 3) -> tuple[list[dict], list[str]]:
    from run_notebooks import execute_notebook, lesson_notebooks, solution_notebooks

    notebooks = lesson_notebooks() + solution_notebooks()
    details = []
    with tempfile.TemporaryDirectory(prefix="course-bench-") as tmp:
        tmp = Path(tmp)
        env = {"COURSE_LOGS_DIR": str(tmp / "logs"), "COURSE_BUILD_DIR": str(tmp / "build")}
        floor_nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FLOOR_SOURCE)])
        floor_path = tmp / "floor.ipynb"
        nbformat.write(floor_nb, floor_path)
        floors, total = [], 0.0
        execute_notebook(floor_path, env=env)  # warm the disk cache once, untimed
        for i, path in enumerate(notebooks):
            if i < floor_runs:  # interleave the floor runs with the notebooks
                floors.append(execute_notebook(floor_path, env=env)[1])
            _, sec = execute_notebook(path, env=env)
            total += sec
            details.append(f"{path.relative_to(ROOT)}: {sec:.1f} s")
        while len(floors) < floor_runs:
            floors.append(execute_notebook(floor_path, env=env)[1])
    floor = statistics.median(floors)
    ratio = total / (floor * len(notebooks))
    low, high = total / (max(floors) * len(notebooks)), total / (min(floors) * len(notebooks))
    details.append(f"floor notebook (imports only), median of {floor_runs}: {floor:.2f} s")
    return [
        row(f"all {len(notebooks)} course notebooks (lessons + solutions), fresh kernel each",
            f"{total:.1f} s", f"{floor * len(notebooks):.1f} s = {len(notebooks)} × {floor:.2f} s "
            "floor", f"{ratio:.2f}× ({low:.2f}–{high:.2f})", verdict(ratio, 2.0),
            f"mean {total / len(notebooks):.1f} s per notebook")
    ], details  # fmt: skip


# ---------------------------------------------------------------------------------------------
# 3. TensorBoard logging
# ---------------------------------------------------------------------------------------------
def _batches():
    g = torch.Generator().manual_seed(0)
    for start in range(0, TB_IMAGES, TB_BATCH):
        images = torch.rand(min(TB_BATCH, TB_IMAGES - start), 3, 32, 32, generator=g)
        yield images, F.max_pool2d(images, 3)  # the lesson's MaxPool2d(3): 10×10 outputs


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _log_helper(logdir: Path, batches, padding: int = 2) -> Path:
    from utils.tensorboard_logging import ImageRun

    name = f"helper_padding{padding}"
    with ImageRun(name, logdir=logdir, padding=padding) as run:
        for step, (images, pooled) in enumerate(batches):
            run.log_pair(step, images, pooled)
    return logdir / name


def _log_helper_unpadded(logdir: Path, batches) -> Path:
    return _log_helper(logdir, batches, padding=0)


def _log_plain(logdir: Path, batches) -> Path:
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(logdir / "plain"))
    for step, (images, pooled) in enumerate(batches):
        writer.add_images("input", images, step)
        writer.add_images("output", pooled, step)
    writer.close()
    return logdir / "plain"


def _floor(_logdir: Path, batches) -> None:
    from PIL import Image
    from torchvision.utils import make_grid

    for images, pooled in batches:
        for batch in (images, pooled):
            grid = make_grid(batch, nrow=8, padding=2, pad_value=1.0)
            pixels = grid.mul(255).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
            Image.fromarray(pixels).save(io.BytesIO(), format="PNG")


def bench_tensorboard(rounds: int = 3) -> list[dict]:
    batches = list(_batches())
    contestants = {"helper": _log_helper, "unpadded": _log_helper_unpadded, "plain": _log_plain,
                   "floor": _floor}
    times = {name: [] for name in contestants}
    sizes = {}
    with tempfile.TemporaryDirectory(prefix="course-bench-tb-") as tmp:
        for r in range(rounds):
            for name, fn in contestants.items():
                logdir = Path(tmp) / f"round{r}"
                start = time.perf_counter()
                out = fn(logdir, batches)
                times[name].append(time.perf_counter() - start)
                if out is not None:
                    sizes[name] = _folder_bytes(out)
    med = {name: statistics.median(t) for name, t in times.items()}
    steps = len(batches)
    mb = {name: f"{size / 1e6:.1f} MB" for name, size in sizes.items()}
    helper, helper_shown = spread(times["helper"], times["plain"])
    unpadded, unpadded_shown = spread(times["unpadded"], times["plain"])
    _, floor_shown = spread(times["helper"], times["floor"])
    return [
        row(f"TensorBoard: `ImageRun.log_pair`, {steps} steps × 64 images 3×32×32 + pooled",
            f"{med['helper']:.2f} s", f"{med['plain']:.2f} s (plain `add_images` loop)",
            helper_shown, verdict(helper, 1.1),
            f"event files: ours {mb['helper']}, plain {mb['plain']}"),
        row("TensorBoard: `ImageRun(padding=0)`, the same grid layout as `add_images`",
            f"{med['unpadded']:.2f} s", f"{med['plain']:.2f} s (plain `add_images` loop)",
            unpadded_shown, verdict(unpadded, 1.1), f"event files: {mb['unpadded']}"),
        row("TensorBoard: `ImageRun.log_pair` vs the floor (make_grid + PNG encoding only)",
            f"{med['helper']:.2f} s", f"{med['floor']:.2f} s", floor_shown, "(none)",
            f"plain loop vs floor: {med['plain'] / med['floor']:.2f}×"),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
def markdown(rows: list[dict]) -> str:
    keys = ["what", "ours", "reference", "ratio", "target", "note"]
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join("---" for _ in keys) + "|"]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["pooling", "notebooks", "tensorboard"], action="append",
                        help="run only these parts (repeatable); default: all")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per contestant")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads in this process (default: torch's choice); "
                             "on a busy shared machine 1 avoids thread oversubscription")  # fmt: skip
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    parts = args.only or ["pooling", "notebooks", "tensorboard"]

    rows, details = [], []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if "pooling" in parts:
        print("pooling ...", file=sys.stderr, flush=True)
        rows += bench_pooling(rounds=args.rounds)
    if "notebooks" in parts:
        print("notebooks ...", file=sys.stderr, flush=True)
        nb_rows, details = bench_notebooks(floor_runs=args.rounds)
        rows += nb_rows
    if "tensorboard" in parts:
        print("tensorboard ...", file=sys.stderr, flush=True)
        rows += bench_tensorboard(rounds=args.rounds)

    print(f"Machine: {machine()}.  ")
    print(
        f"Run: {started}, load average at start {load:.1f}, {args.rounds} alternating rounds. "
        "Ratio = ours / reference (lower is better): the median over rounds, then (min–max).\n"
    )
    print(markdown(rows))
    if details:
        print("\nPer notebook: " + "; ".join(details) + ".")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
