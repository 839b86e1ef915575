"""Lesson 05's experiment (no dropout vs dropout p=0.5) over many seeds, best-epoch and final numbers.

    .venv/bin/python tools/dropout_seed_sweep.py              # seeds 0..19
    .venv/bin/python tools/dropout_seed_sweep.py --seeds 5 --ps 0 0.2 0.5 0.8

Each seed draws its own data set and initial weights (the same for every p) and trains with the loop of
notebooks/05_dropout_overfitting.ipynb §3 (utils.dropout.train). Prints one line per seed and p, then a
mean ± sd table: "best" is the epoch of lowest validation loss (what early stopping would keep),
"final" the last epoch. It reports; it does not judge.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from utils.dropout import best_and_final, make_dataset, make_model, train  # noqa: E402

COLUMNS = ("best_val_loss", "best_val_acc", "final_val_loss", "final_val_acc")


def mean_sd(values) -> str:
    """``"0.412 ± 0.013"`` (sample standard deviation)."""
    values = list(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def seed_table(results: dict[float, list[dict]]) -> str:
    """One line per p: mean ± sd over seeds of ``best_and_final`` numbers."""
    lines = ["p     " + "".join(f"{c:>17}" for c in COLUMNS)]
    for p, rows in results.items():
        lines.append(f"{p:<6g}" + "".join(f"{mean_sd(r[c] for r in rows):>17}" for c in COLUMNS))
    return "\n".join(lines)


def sweep(seeds, ps=(0.0, 0.5), epochs: int = 300, verbose: bool = True) -> dict[float, list[dict]]:
    """``{p: [best_and_final(history) for each seed]}``."""
    results: dict[float, list[dict]] = {p: [] for p in ps}
    for seed in seeds:
        train_set, val_set = make_dataset(seed)
        for p in ps:
            row = best_and_final(train(make_model(p, seed), train_set, val_set, epochs=epochs, seed=seed))
            results[p].append(row)
            if verbose:
                print(f"seed {seed:3d}  p {p:<4g} best epoch {row['best_epoch']:3d}  "
                      f"best val loss {row['best_val_loss']:.3f} acc {row['best_val_acc']:.3f}  "
                      f"final val loss {row['final_val_loss']:.3f} acc {row['final_val_acc']:.3f}",
                      flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1 (default 20)")
    parser.add_argument("--ps", type=float, nargs="+", default=[0.0, 0.5], help="drop probabilities")
    parser.add_argument("--epochs", type=int, default=300)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest
    start = time.perf_counter()
    results = sweep(range(args.seeds), args.ps, args.epochs)
    print(f"\nmean ± sd over {args.seeds} seeds ({time.perf_counter() - start:.0f} s)")
    print(seed_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
