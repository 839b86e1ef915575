"""tools/dropout_seed_sweep.py: lesson 05's experiment over seeds, and its mean ± sd table."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from conftest import ROOT
from dropout_seed_sweep import main, mean_sd, seed_table

from utils.dropout import best_and_final, make_dataset, make_model, train


def test_mean_sd_and_table():
    assert mean_sd([1.0, 2.0, 3.0]) == "2.000 ± 1.000"
    rows = [{"best_val_loss": 0.4, "best_val_acc": 0.8, "final_val_loss": 0.6, "final_val_acc": 0.7}] * 2
    table = seed_table({0.5: rows})
    assert "best_val_loss" in table and "0.400 ± 0.000" in table and table.splitlines()[1].startswith("0.5")


def test_sweep_prints_each_seed_and_the_table(capsys, monkeypatch):
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # leave the test process alone
    assert main(["--seeds", "2", "--epochs", "10", "--ps", "0.5"]) == 0
    out = capsys.readouterr().out
    assert out.count("seed ") == 2 and "mean ± sd over 2 seeds" in out
    for column in ("best_val_loss", "best_val_acc", "final_val_loss", "final_val_acc"):
        assert column in out
    train_set, val_set = make_dataset(1)
    row = best_and_final(train(make_model(0.5, 1), train_set, val_set, epochs=10, seed=1))
    assert f"final val loss {row['final_val_loss']:.3f}" in out


@pytest.mark.slow
def test_runs_as_a_script():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "dropout_seed_sweep.py"), "--seeds", "1",
                          "--epochs", "5", "--ps", "0.5"], capture_output=True, text=True, timeout=300,
                         check=True).stdout
    assert out.count("seed ") == 1 and "mean ± sd over 1 seeds" in out
