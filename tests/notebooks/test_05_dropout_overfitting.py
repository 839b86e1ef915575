"""Lesson 05's claims, checked on the values the executed notebook computed (and against PyTorch,
TensorBoard's own reader, and the saved copy of the loop in utils.dropout)."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from utils.dropout import best_and_final, make_dataset, make_model, train

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "notebooks" / "05_dropout_overfitting.ipynb"
PS = ("0.0", "0.5")


def stdout_of(run, marker: str) -> str:
    cell = next(c for c in run.nb.cells if c.cell_type == "code" and marker in c.source)
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


@pytest.fixture(scope="module")
def run(notebook_runs):
    return notebook_runs("05_dropout_overfitting")


@pytest.fixture(scope="module")
def histories(run):
    return run.value("histories")


def test_runs_in_class_time(run):
    assert run.seconds < 90, run.seconds  # about 20 s alone; headroom for a busy machine


def test_data_has_ten_percent_flipped_labels(run):
    train_set, val_set = make_dataset(0)
    assert run.value("train_set.x.tolist()") == train_set.x.tolist()
    for split in (train_set, val_set):
        assert abs(split.flipped.float().mean().item() - 0.1) < 0.05


def test_same_initial_weights_for_every_p(run):
    a, b = make_model(0.0, 3), make_model(0.8, 3)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))
    assert run.value("[t.tolist() for t in make_model(0.5, 3).parameters()]") == [
        t.tolist() for t in a.parameters()
    ]


def test_the_shown_loop_equals_the_saved_copy(histories):
    """utils.dropout.train (used by the seed-sweep tool) is the loop the lesson shows: same numbers."""
    train_set, val_set = make_dataset(0)
    for p in PS:
        assert train(make_model(float(p)), train_set, val_set) == histories[p]


def test_measured_in_eval_mode(run, histories):
    train_set, _ = make_dataset(0)
    for p in PS:
        model_params = run.value(f"[t.tolist() for t in models[{p}].parameters()]")
        model = make_model(float(p))
        with torch.no_grad():
            for t, v in zip(model.parameters(), model_params, strict=True):
                t.copy_(torch.tensor(v))
        model.eval()
        with torch.no_grad():
            loss = F.cross_entropy(model(train_set.x), train_set.y).item()
        assert loss == pytest.approx(histories[p]["train_loss"][-1], rel=1e-5)
        assert run.value(f"models[{p}].training") is False


def test_the_curves_say_what_the_text_says(histories):
    h0, h5 = histories["0.0"], histories["0.5"]
    r0, r5 = best_and_final(h0), best_and_final(h5)
    assert r0["best_epoch"] <= 60 and r0["final_val_loss"] > 2 * r0["best_val_loss"]  # turns up
    assert h0["train_loss"][-1] < h0["train_loss"][len(h0["train_loss"]) // 2]        # keeps falling
    assert r5["final_val_loss"] - h5["train_loss"][-1] < (r0["final_val_loss"] - h0["train_loss"][-1]) / 3
    assert h5["train_loss"][-1] > h0["train_loss"][-1]          # higher even in eval mode
    # the optimiser's loss (dropout on) is above the eval-mode training loss, on average
    on = statistics.mean(h5["dropout_on"][-100:])
    off = statistics.mean(h5["train_loss"][-20:])
    assert on > off


def test_printed_best_and_final_are_the_histories(run, histories):
    printed = stdout_of(run, "def best_and_final(h):")
    for p in PS:
        r = best_and_final(histories[p])
        line = next(s for s in printed.splitlines() if s.startswith(f"p={p}:"))
        assert (f"best epoch {r['best_epoch']:3d}: val loss {r['best_val_loss']:.3f}, acc {r['best_val_acc']:.3f}"
                in line)
        assert f"final epoch 300: val loss {r['final_val_loss']:.3f}, acc {r['final_val_acc']:.3f}" in line
    assert run.value("best_and_final(histories[0.0])") == best_and_final(histories["0.0"])


def test_five_seeds_support_the_text(run):
    results = run.value("results")
    assert len(results["0.0"]) == len(results["0.5"]) == 5
    # seed 3 recomputed with the saved loop
    train_set, val_set = make_dataset(3)
    assert best_and_final(train(make_model(0.5, 3), train_set, val_set, seed=3)) == results["0.5"][3]

    def mean(p, k):
        return statistics.mean(r[k] for r in results[p])

    def sd(p, k):
        return statistics.stdev(r[k] for r in results[p])

    # wins: at the final epoch, about half the validation loss and several points of accuracy
    assert 0.35 < mean("0.5", "final_val_loss") / mean("0.0", "final_val_loss") < 0.65
    assert mean("0.5", "final_val_acc") - mean("0.0", "final_val_acc") > 0.02
    # does not win: at the best epoch, equal within one standard deviation
    for k in ("best_val_loss", "best_val_acc"):
        assert abs(mean("0.5", k) - mean("0.0", k)) < min(sd("0.5", k), sd("0.0", k))
    assert all(r["best_epoch"] <= 60 for r in results["0.0"])  # early stopping: a few dozen epochs
    printed = stdout_of(run, "for seed in range(5):")
    assert f"final val loss {mean('0.0', 'final_val_loss'):.3f} ± {sd('0.0', 'final_val_loss'):.3f}" in printed


def _one_event_file(folder: Path) -> str:
    files = [f for f in folder.iterdir() if f.is_file() and "tfevents" in f.name]
    assert len(files) == 1, files
    return str(files[0])


def test_one_loss_chart_holds_every_run(run, histories):
    logs = Path(run.value("str(LOGS)")) / "logs_dropout_overfit"
    runs = sorted(str(p.relative_to(logs)) for p in logs.glob("*/*") if p.is_dir())
    assert runs == ["p0.5/dropout_on", "p0.5/train", "p0.5/val", "p0/train", "p0/val"]
    for name in runs:
        acc = EventAccumulator(_one_event_file(logs / name), size_guidance={"scalars": 0})
        acc.Reload()
        assert "loss" in acc.Tags()["scalars"]
        p, split = name.split("/")
        h = histories["0.0" if p == "p0" else "0.5"]
        events = acc.Scalars("loss")
        if split == "dropout_on":
            assert [e.step for e in events] == list(range(1, 301))
            expected = h["dropout_on"]
        else:
            assert [e.step for e in events] == h["epoch"]
            expected = h[f"{split}_loss"]
            assert [e.value for e in acc.Scalars("accuracy")] == pytest.approx(h[f"{split}_acc"], rel=1e-6)
        assert [e.value for e in events] == pytest.approx(expected, rel=1e-6)


def test_p_sweep_and_hparams(run):
    sweep = run.value("sweep")
    assert set(sweep) == {"0.0", "0.2", "0.5", "0.8"}
    train_losses = [sweep[p]["final_train_loss"] for p in ("0.0", "0.2", "0.5", "0.8")]
    assert train_losses == sorted(train_losses)  # training loss rises with p
    assert max(sweep, key=lambda p: sweep[p]["final_val_loss"]) == "0.0"
    assert max(sweep, key=lambda p: sweep[p]["best_val_loss"]) == "0.8"
    assert min(sweep, key=lambda p: sweep[p]["final_val_loss"]) == "0.8"
    logs = Path(run.value("str(LOGS)")) / "logs_dropout_sweep"
    for p in ("0", "0.2", "0.5", "0.8"):
        acc = EventAccumulator(_one_event_file(logs / f"p{p}"))
        acc.Reload()
        assert acc.PluginTagToContent("hparams")  # the HPARAMS dashboard has data for this run
        value = acc.Scalars("hparam/best_val_loss")[0].value
        assert value == pytest.approx(sweep["0.0" if p == "0" else p]["best_val_loss"], rel=1e-6)


def test_mc_dropout_claims(run):
    y = torch.tensor(run.value("val_set.y"))
    stats = {}
    for name in ("eval_probs", "mc"):
        probs = torch.tensor(run.value(name))
        stats[name] = (
            -probs[torch.arange(len(y)), y].log().mean().item(),
            (probs.max(dim=1).values > 0.99).float().mean().item(),
            (probs.argmax(dim=1) == y).float().mean().item(),
        )
    assert stats["mc"][0] < stats["eval_probs"][0]      # lower NLL
    assert stats["mc"][1] < stats["eval_probs"][1]      # fewer near-certain predictions
    assert abs(stats["mc"][2] - stats["eval_probs"][2]) < 0.01  # about the same accuracy
    assert run.value("models[0.5].training") is False


def test_memorised_flipped_labels_as_the_solution_says(run):
    from utils.checks.dropout import memorised_fraction

    train_set, _ = make_dataset(0)
    fractions = []
    for p in (0.0, 0.5):
        model = make_model(p)
        train(model, train_set, make_dataset(0)[1])
        fractions.append(memorised_fraction(model, train_set))
    assert 0.35 < fractions[0] < 0.65 and fractions[1] < fractions[0] / 2  # "about half", "far fewer"


def test_text_has_no_calibration_claim():
    import nbformat

    text = " ".join(c.source for c in nbformat.read(LESSON, as_version=4).cells)
    assert not re.search(r"(?<!not the same as being \*)better calibrated", text)
    assert "all 20 seeds" not in text
