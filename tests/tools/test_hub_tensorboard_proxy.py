"""'TensorBoard — course logs' (plugins/course-tensorboard-proxy) and show_tensorboard's hub detection.
The real thing, through a real hub, is tests/test_hub.py."""

from __future__ import annotations

import importlib.metadata
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


def test_command_stays_on_loopback_with_every_image_step(tmp_path, monkeypatch):
    course = tmp_path / "home" / "course"
    (course / "utils").mkdir(parents=True)
    (course / "utils" / "environment.py").write_text("")
    monkeypatch.chdir(tmp_path / "home")
    monkeypatch.delenv("COURSE_LOGS_DIR", raising=False)
    cmd = proxy.setup_tensorboard()["command"](port=43210)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and "--bind_all" not in cmd
    assert cmd[cmd.index("--port") + 1] == "43210"
    assert cmd[cmd.index("--logdir") + 1] == str(course / "logs") and (course / "logs").is_dir()
    samples = cmd[cmd.index("--samples_per_plugin") + 1]
    assert samples.startswith("images=") and int(samples.split("=")[1]) >= 500


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
