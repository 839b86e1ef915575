"""Does dropout shrink the train-validation gap for every seed, not just the committed one?

    .venv/bin/python tools/dropout_seed_sweep.py            # seeds 0..19, default experiment
    .venv/bin/python tools/dropout_seed_sweep.py --seeds 50

Runs utils.overfitting.run_experiment (p = 0 and p = 0.5, same data, weights and budget) for each seed
without logging, prints one line per seed and a summary, and exits 1 if the lesson's claim (smaller
loss gap, smaller accuracy gap AND lower validation loss with dropout) fails for any seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from utils.overfitting import run_experiment  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=20, help="check seeds 0..N-1 (default 20)")
    args = parser.parse_args(argv)
    failures, start = [], time.perf_counter()
    print(
        "seed  loss gap p0 -> p0.5   acc gap p0 -> p0.5   val acc p0 -> p0.5   val loss p0 -> p0.5"
    )
    for seed in range(args.seeds):
        runs = run_experiment(seed=seed, log=False)
        a, b = runs[0.0], runs[0.5]
        ok = (
            b.loss_gap < a.loss_gap
            and b.accuracy_gap < a.accuracy_gap
            and b.final("loss/val") < a.final("loss/val")
        )
        if not ok:
            failures.append(seed)
        print(
            f"{seed:4d}  {a.loss_gap:7.3f} -> {b.loss_gap:6.3f}    "
            f"{a.accuracy_gap:7.3f} -> {b.accuracy_gap:6.3f}    "
            f"{a.final('accuracy/val'):6.3f} -> {b.final('accuracy/val'):6.3f}   "
            f"{a.final('loss/val'):6.3f} -> {b.final('loss/val'):6.3f}  {'ok' if ok else 'FAIL'}",
            flush=True,
        )
    print(
        f"{args.seeds - len(failures)}/{args.seeds} seeds: both gaps and the validation loss smaller with dropout "
        f"({time.perf_counter() - start:.0f} s)" + (f"; failed: {failures}" if failures else "")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
