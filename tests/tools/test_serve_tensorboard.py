"""tools/serve_tensorboard.py (`make tensorboard`): loopback by default, loud when exposed, TensorBoard's
own port search and start-up underneath."""

from __future__ import annotations

import os
import urllib.request

import pytest
import serve_tensorboard as tool
import torch

from utils.tensorboard_logging import ImageRun


@pytest.fixture
def small_run(tmp_path):
    with ImageRun("logs_maxpool", logdir=tmp_path) as run:
        run.log_pair(0, torch.rand(2, 3, 8, 8), torch.rand(2, 3, 4, 4))
    return tmp_path


@pytest.mark.parametrize("host, local", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                         ("[::1]", True), ("127.0.0.2", True), ("0.0.0.0", False),
                                         ("192.168.1.5", False), ("example.org", False)])
def test_is_loopback(host, local):
    assert tool.is_loopback(host) is local


class Recorder:
    """Stands in for tensorboard.program.TensorBoard: records the arguments, serves nothing."""

    argv: list[str] = []

    def configure(self, argv):
        Recorder.argv = list(argv)

    def main(self):
        return 0


@pytest.fixture
def recorded(monkeypatch):
    import tensorboard.program

    monkeypatch.setattr(tensorboard.program, "TensorBoard", Recorder)
    return Recorder


def _value(argv, flag):
    return argv[argv.index(flag) + 1]


def test_defaults_loopback_and_tensorboards_own_port_search(small_run, recorded, capsys):
    assert tool.main(["--logdir", str(small_run)]) == 0
    assert _value(recorded.argv, "--host") == "127.0.0.1"
    assert "--port" not in recorded.argv  # TensorBoard's default: 6006, else the next free port
    assert _value(recorded.argv, "--logdir") == str(small_run.resolve())
    assert "WARNING" not in capsys.readouterr().err


def test_any_other_host_gets_the_exposure_warning(small_run, recorded, capsys):
    tool.main(["--logdir", str(small_run), "--host", "0.0.0.0", "--port", "7123"])
    assert _value(recorded.argv, "--host") == "0.0.0.0"
    assert _value(recorded.argv, "--port") == "7123"
    assert "NO authentication" in capsys.readouterr().err


def test_empty_logs_and_doubled_runs_are_reported(tmp_path, small_run, recorded, capsys):
    tool.main(["--logdir", str(tmp_path / "nothing")])
    assert "no TensorBoard runs" in capsys.readouterr().err
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(small_run / "logs_maxpool")) as writer:  # a second event file
        writer.add_scalar("x", 1.0, 0)
    tool.main(["--logdir", str(small_run)])
    assert "holds 2 event files" in capsys.readouterr().err


@pytest.mark.slow
def test_a_real_server_serves_the_run_on_loopback_and_stops(small_run):
    info = tool.start(small_run)
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        runs = opener.open(f"http://127.0.0.1:{info.port}/data/runs", timeout=10).read()
        assert b"logs_maxpool" in runs
    finally:
        tool.stop(info)
    with pytest.raises(ProcessLookupError):
        os.kill(info.pid, 0)
