"""utils.tensorboard_server and tools/tensorboard.py: free ports, a real server started and
stopped by process id, the warnings `make tensorboard` gives."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from utils import tensorboard_server
from utils.tensorboard_logging import ImageRun, read_run
from utils.tensorboard_server import (
    TensorBoardError,
    ephemeral_port,
    find_free_port,
    is_loopback,
    port_is_free,
    start_tensorboard,
    stop_process_group,
    tensorboard_command,
)

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "tensorboard.py"


def group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def listening():
    """A socket listening on a free 127.0.0.1 port (closed afterwards)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def small_run(tmp_path) -> Path:
    logdir = tmp_path / "logs"
    with ImageRun("logs_tiny", logdir) as run:
        for step in range(3):
            x = torch.rand(2, 3, 8, 8)
            run.log_pair(step, x, torch.nn.functional.max_pool2d(x, 2))
    return logdir


# -- hosts and ports ----------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST", "::1", "[::1]"])
def test_loopback_hosts(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org", ""])
def test_other_hosts_are_not_loopback(host):
    assert not is_loopback(host)


def test_port_in_use_is_not_free(listening):
    assert not port_is_free(listening)
    probe = socket.socket()
    with pytest.raises(OSError):  # the check agrees with the kernel
        probe.bind(("127.0.0.1", listening))
    probe.close()


def test_port_is_free_after_close():
    port = ephemeral_port()
    assert port_is_free(port)
    with socket.socket() as sock:  # and it really is: we can listen there
        sock.bind(("127.0.0.1", port))
        sock.listen()
        assert not port_is_free(port)
    assert port_is_free(port)


def test_find_free_port_skips_a_taken_port(listening):
    port = find_free_port(listening)
    assert port > listening and port_is_free(port)
    # every port it skipped was taken
    assert all(not port_is_free(p) for p in range(listening, port))


def test_find_free_port_returns_start_when_free():
    start = ephemeral_port()
    assert find_free_port(start) == start


def test_find_free_port_says_which_range_is_full(listening):
    with pytest.raises(OSError, match=rf"No free port between {listening} and {listening}"):
        find_free_port(listening, attempts=1)


@pytest.mark.parametrize("bad", [0, -1, 65536, True, "6006", 6006.0])
def test_bad_ports_are_refused(bad):
    with pytest.raises(ValueError, match="port must be an int between 1 and 65535"):
        find_free_port(bad)


def test_unknown_host_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown host"):
        port_is_free(6006, "no-such-host.invalid")


# -- the command line ---------------------------------------------------------------------------
def test_command_is_local_with_every_step_kept(tmp_path):
    logdir = tmp_path / "logs"
    steps = 530  # more than TensorBoard's and our default sample counts
    with ImageRun("logs_many", logdir) as run:
        for step in range(steps):
            run.log_images("input", torch.rand(1, 1, 2, 2), step)
    assert len(read_run(logdir / "logs_many")["input"]) == steps
    cmd = tensorboard_command(logdir, port=6123)
    assert cmd[:3] == [sys.executable, "-m", "tensorboard.main"]
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--port") + 1] == "6123"
    assert cmd[cmd.index("--logdir") + 1] == str(logdir)
    assert "--bind_all" not in cmd
    samples = cmd[cmd.index("--samples_per_plugin") + 1]
    assert samples.startswith("images=") and int(samples.split("=")[1]) >= steps


def test_command_host_and_samples_override(tmp_path):
    cmd = tensorboard_command(tmp_path, host="0.0.0.0", samples=42)
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    assert cmd[cmd.index("--samples_per_plugin") + 1] == "images=42"
    with pytest.raises(ValueError, match="samples must be a positive int"):
        tensorboard_command(tmp_path, samples=0)


# -- processes ----------------------------------------------------------------------------------
def test_stop_process_group_ends_children_too():
    proc = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60"], start_new_session=True)
    time.sleep(0.3)
    assert group_alive(proc.pid)
    assert stop_process_group(proc.pid, timeout=5, reap=proc.poll)
    assert not group_alive(proc.pid)
    assert proc.poll() is not None
    assert not stop_process_group(proc.pid)  # a second call is harmless


def test_stop_process_group_kills_what_ignores_sigterm():
    proc = subprocess.Popen(["sh", "-c", "trap '' TERM; sleep 60 & wait"], start_new_session=True)
    time.sleep(0.3)
    start = time.monotonic()
    stop_process_group(proc.pid, timeout=0.5, reap=proc.poll)
    assert not group_alive(proc.pid)
    assert proc.returncode == -signal.SIGKILL
    assert time.monotonic() - start < 5


def test_server_starts_serves_and_stops_by_process_id(small_run, tmp_path):
    server = start_tensorboard(small_run, output=tmp_path / "tb.txt")
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert not port_is_free(server.port)
        server.wait_for(lambda: "logs_tiny" in server.get_json("data/runs"), 60, "run logs_tiny")
        tags = server.get_json("data/plugin/images/tags")["logs_tiny"]
        assert sorted(tags) == ["input", "output"]
    finally:
        server.stop()
    assert not group_alive(server.pid)  # TensorBoard and its data server are gone
    assert not server.running()
    assert port_is_free(server.port)
    server.stop()  # twice is fine


def test_server_that_fails_to_start_says_why(tmp_path):
    with pytest.raises(TensorBoardError, match="no_such_flag") as info:
        start_tensorboard(
            tmp_path, extra_args=["--no_such_flag"], output=tmp_path / "tb.txt", timeout=60
        )
    assert "exited with code" in str(info.value)


# -- tools/tensorboard.py (make tensorboard) ----------------------------------------------------
def _load_tool():
    spec = importlib.util.spec_from_file_location("course_tensorboard_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tool_warns_when_exposed_to_the_network(monkeypatch, capsys, small_run):
    tool = _load_tool()
    calls = []

    def refuse(logdir, **kwargs):  # never actually listen on the network in a test
        calls.append(kwargs)
        raise TensorBoardError("not started in this test")

    monkeypatch.setattr(tensorboard_server, "start_tensorboard", refuse)
    port = ephemeral_port()
    assert tool.main(["--host", "0.0.0.0", "--port", str(port), "--logdir", str(small_run)]) == 1
    err = capsys.readouterr().err
    assert "NO authentication" in err and "0.0.0.0" in err and "ssh -L" in err
    assert calls and calls[0]["host"] == "0.0.0.0"


def test_tool_is_quiet_about_exposure_on_localhost(monkeypatch, capsys, small_run):
    tool = _load_tool()
    monkeypatch.setattr(
        tensorboard_server,
        "start_tensorboard",
        lambda logdir, **kw: (_ for _ in ()).throw(TensorBoardError("no")),
    )
    tool.main(["--port", str(ephemeral_port()), "--logdir", str(small_run)])
    err = capsys.readouterr().err
    assert "authentication" not in err and "no TensorBoard runs" not in err


def test_make_tensorboard_takes_the_next_port_and_warns_on_empty_logs(tmp_path, listening):
    """The real script in a subprocess: port taken -> next free port, URL printed, server answers,
    and SIGTERM to the script takes TensorBoard down with it."""
    empty = tmp_path / "empty_logs"
    empty.mkdir()
    out_path = tmp_path / "tool.txt"
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(TOOL), "--port", str(listening), "--logdir", str(empty)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 120
        while "Press Ctrl+C" not in out_path.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, out_path.read_text()
            time.sleep(0.2)
        text = out_path.read_text()
        assert "Press Ctrl+C" in text, text
        assert f"Port {listening} is in use" in text
        assert "no TensorBoard runs" in text and "make demo" in text
        line = next(ln for ln in text.splitlines() if ln.strip().startswith("http://"))
        url = line.strip()
        port = int(url.split(":")[2].split("/")[0])
        assert url == f"http://127.0.0.1:{port}/#images" and port > listening
        tb_pid = int(text.split("process id ")[1].split(",")[0])
        assert group_alive(tb_pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert not group_alive(tb_pid), "TensorBoard outlived make tensorboard"
        assert port_is_free(port)
    finally:
        stop_process_group(proc.pid, timeout=5, reap=proc.poll)


def test_tools_on_sys_path_does_not_hide_the_real_tensorboard():
    # tools/tensorboard.py shares its name with the package; conftest puts tools/ on sys.path.
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
        "import tensorboard\n"
        "from torch.utils.tensorboard import SummaryWriter\n"
        "print(tensorboard.__file__, tensorboard.__version__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "tools"), str(ROOT)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    path, version = result.stdout.split()
    assert Path(path).name == "__init__.py" and Path(path).parent.name == "tensorboard"
    assert Path(path).resolve() != TOOL.resolve()
    assert version[0].isdigit()
