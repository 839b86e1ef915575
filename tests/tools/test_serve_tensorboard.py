"""tools/serve_tensorboard.py (`make tensorboard`): loopback by default, loud when exposed, TensorBoard's
own port search and start-up underneath."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

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


# --- RUN=: only the runs a class needs ----------------------------------------------------------------
@pytest.fixture
def two_runs(tmp_path):
    logdir = tmp_path / "logs"
    for name in ("logs_maxpool", "logs_avgpool", "lesson/nested"):
        with ImageRun(name.replace("/", "_"), logdir=logdir / name.rpartition("/")[0]) as run:
            run.log_pair(0, torch.rand(1, 3, 8, 8), torch.rand(1, 3, 4, 4))
    return logdir


def test_run_serves_a_folder_of_links_to_only_those_runs(two_runs, recorded, monkeypatch):
    seen = {}

    def configure(self, argv):
        Recorder.argv = list(argv)
        served = Path(_value(argv, "--logdir"))
        seen["links"] = {p.relative_to(served).as_posix(): p.resolve()
                         for p in served.rglob("*") if p.is_symlink()}
        seen["folder"] = served

    monkeypatch.setattr(Recorder, "configure", configure)
    assert tool.main(["--logdir", str(two_runs), "--run", "logs_maxpool, lesson/lesson_nested"]) == 0
    assert seen["links"] == {"lesson/lesson_nested": two_runs / "lesson" / "lesson_nested",
                             "logs_maxpool": two_runs / "logs_maxpool"}
    assert _value(recorded.argv, "--host") == "127.0.0.1"
    assert _value(recorded.argv, "--samples_per_plugin") == "images=1000"
    assert not seen["folder"].exists()  # removed when TensorBoard stops ...
    assert tool.find_runs(two_runs) == ["lesson/lesson_nested", "logs_avgpool", "logs_maxpool"]  # ... the runs stay


def test_unknown_run_names_the_runs_there_and_a_fix_that_works(two_runs, recorded, capsys):
    with pytest.raises(SystemExit) as failed:
        tool.main(["--logdir", str(two_runs), "--run", "logs_maxpol"])
    message = str(failed.value.code)
    assert "'logs_maxpol'" in message and "logs_avgpool, logs_maxpool" in message
    fix = message.rsplit("make tensorboard ", 1)[1].strip()  # RUN=logs_maxpool
    assert fix == "RUN=logs_maxpool"
    assert tool.main(["--logdir", str(two_runs), "--run", fix.split("=", 1)[1]]) == 0


@pytest.mark.slow  # a real TensorBoard, started by the Makefile's own command
def test_make_tensorboard_run_shows_only_that_run(two_runs, tmp_path):
    import json
    import signal
    import subprocess
    import time

    from conftest import free_port, make_recipe

    from utils.environment import ROOT

    port, temp = free_port(), tmp_path / "tmp"
    temp.mkdir()
    command = make_recipe("tensorboard", f"PORT={port}", "RUN=logs_maxpool")
    env = dict(os.environ, COURSE_LOGS_DIR=str(two_runs), TMPDIR=str(temp))
    proc = subprocess.Popen(command, shell=True, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        for _ in range(300):
            assert proc.poll() is None, proc.stderr.read()
            try:
                runs = json.loads(opener.open(f"http://127.0.0.1:{port}/data/runs", timeout=5).read())
                if runs:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert runs == ["logs_maxpool"]
        assert list(temp.glob("course-tensorboard-*"))  # the links TensorBoard reads
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    for _ in range(150):  # the shell may end before Python has cleaned up
        if not list(temp.glob("course-tensorboard-*")):
            break
        time.sleep(0.2)
    assert not list(temp.glob("course-tensorboard-*"))  # gone when it stopped
    assert tool.find_runs(two_runs) == ["lesson/lesson_nested", "logs_avgpool", "logs_maxpool"]
