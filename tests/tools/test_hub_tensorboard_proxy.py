"""'TensorBoard — course logs' (plugins/course-tensorboard-proxy) and show_tensorboard's hub detection.
The real thing, through a real hub, is tests/test_hub.py."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "plugins" / "course-tensorboard-proxy"))

import course_tensorboard_proxy as proxy  # noqa: E402

from utils import tensorboard_logging  # noqa: E402


def test_entry_point_is_installed_and_named_for_students():
    names = {e.name: e.value for e in importlib.metadata.entry_points(group="jupyter_serverproxy_servers")}
    if "tensorboard" not in names:
        pytest.skip("install it: pip install ./plugins/course-tensorboard-proxy (requirements.txt)")
    assert names["tensorboard"] == "course_tensorboard_proxy:setup_tensorboard"
    from jupyter_server_proxy.config import get_entrypoint_server_processes

    [server] = [p for p in get_entrypoint_server_processes() if p.name == "tensorboard"]
    assert server.launcher_entry.title == "TensorBoard — course logs"


def _course_home(tmp_path, monkeypatch) -> Path:
    course = tmp_path / "home" / "course"
    (course / "utils").mkdir(parents=True)
    (course / "utils" / "environment.py").write_text("")
    monkeypatch.chdir(tmp_path / "home")
    monkeypatch.delenv("COURSE_LOGS_DIR", raising=False)
    return course


@pytest.mark.skipif(os.name == "nt", reason="no Unix sockets for jupyter-server-proxy on Windows")
def test_entry_serves_on_a_unix_socket_with_every_image_step(tmp_path, monkeypatch):
    course = _course_home(tmp_path, monkeypatch)
    monkeypatch.delenv("COURSE_TENSORBOARD_TCP", raising=False)
    entry = proxy.setup_tensorboard()
    assert entry["unix_socket"] is True  # jupyter-server-proxy: a socket in a new mkdtemp (0700) folder
    cmd = entry["command"](port=0, unix_socket="/run/x/socket")
    assert cmd[cmd.index("--host") + 1] == "unix:///run/x/socket" and "--port" not in cmd
    assert "--bind_all" not in cmd and "--load_fast=false" in cmd  # no data server on a TCP port
    assert cmd[cmd.index("--logdir") + 1] == str(course / "logs") and (course / "logs").is_dir()
    samples = cmd[cmd.index("--samples_per_plugin") + 1]
    assert samples.startswith("images=") and int(samples.split("=")[1]) >= 500


def test_tcp_on_request_stays_on_loopback(tmp_path, monkeypatch):
    _course_home(tmp_path, monkeypatch)
    monkeypatch.setenv("COURSE_TENSORBOARD_TCP", "1")
    entry = proxy.setup_tensorboard()
    assert "unix_socket" not in entry
    cmd = entry["command"](port=43210, unix_socket="")
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and "--bind_all" not in cmd
    assert cmd[cmd.index("--port") + 1] == "43210"


def _get_over_socket(path: str, url: str) -> tuple[int, bytes]:
    import http.client
    import socket

    class UnixConnection(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(30)
            self.sock.connect(path)

    conn = UnixConnection("localhost")
    try:
        conn.request("GET", url)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="Unix sockets")
def test_tensorboard_on_a_socket_only_its_owner_can_open(tmp_path):
    """The real server (TensorBoard's program API): serves a run over the socket, owner-only, in a 0700
    folder, no TCP port in its process tree; a folder others can open is refused."""
    import json
    import subprocess
    import tempfile
    import time

    import psutil
    from torch.utils.tensorboard import SummaryWriter

    logs = tmp_path / "logs"
    with SummaryWriter(str(logs / "run_a")) as writer:
        writer.add_scalar("x", 1.0, 0)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "plugins" / "course-tensorboard-proxy")}
    folder = Path(tempfile.mkdtemp(prefix="course-tb-"))  # as jupyter-server-proxy makes it: 0700
    sock = folder / "socket"
    serve = [sys.executable, "-m", "course_tensorboard_proxy", "--load_fast=false", "--logdir", str(logs)]
    proc = subprocess.Popen([*serve, "--host", f"unix://{sock}"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while not sock.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sock.exists(), proc.stderr.read().decode() if proc.poll() is not None else "no socket"
        status, body = _get_over_socket(str(sock), "/data/runs")
        assert status == 200 and json.loads(body) == ["run_a"]
        assert oct(folder.stat().st_mode & 0o777) == oct(0o700)
        assert sock.stat().st_mode & 0o077 == 0  # the socket: its owner only too
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        listening = [c for p in tree for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        assert listening == []
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    # a folder other users can open: refused, nothing served
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    result = subprocess.run([*serve, "--host", f"unix://{folder}/socket"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0 and "must be a folder only you can open (mode 0700)" in result.stderr
    assert not (folder / "socket").exists()


def test_logs_dir_override_and_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LOGS_DIR", str(tmp_path / "elsewhere"))
    assert proxy.course_logs_dir(tmp_path) == (tmp_path / "elsewhere").resolve()
    monkeypatch.delenv("COURSE_LOGS_DIR")
    assert proxy.course_logs_dir(tmp_path) == tmp_path / "logs"  # no course below: ./logs


def test_hub_proxy_url_only_on_a_hub(monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert tensorboard_logging.hub_proxy_url() is None
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    assert tensorboard_logging.hub_proxy_url() == "/user/ada/proxy/%PORT%/"


def test_show_tensorboard_outside_a_hub_is_unchanged(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    command = tensorboard_logging.show_tensorboard(tmp_path)
    assert "--host 127.0.0.1" in command and "--port" not in command  # TensorBoard finds a free port
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    assert tensorboard_logging.show_tensorboard(tmp_path) == command  # headless: the hub changes nothing
