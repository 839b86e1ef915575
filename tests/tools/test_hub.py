"""A real JupyterHub on 127.0.0.1 with two students (tools/hub_test.py), and its negative control:
the isolation checks must FAIL when the hub's auth is taken out of the path to a student's TensorBoard
and the servers listen beyond loopback; and Ctrl+C / SIGTERM stop everything. About 1.5 minutes for each
hub run on two cores."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import hub_test  # noqa: E402

pytestmark = [pytest.mark.hub, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def proxy_installed():
    if not hub_test.CHP.exists():
        if shutil.which("npm") is None:
            pytest.skip("configurable-http-proxy needs npm: npm install --prefix build/hub "
                        "configurable-http-proxy@5")
        subprocess.run(["npm", "install", "--prefix", str(ROOT / "build" / "hub"), "--no-audit",
                        "--no-fund", "configurable-http-proxy@5"], check=True, capture_output=True)


def hub_processes() -> set[int]:
    import psutil

    return {p.pid for p in psutil.process_iter(["cmdline"])
            if any("course-hub-" in part or "jupyterhub" in part for part in (p.info["cmdline"] or []))}


def test_two_students_on_a_real_hub():
    before = hub_processes()
    result = hub_test.run(2, log=lambda *a: None)
    print(result.summary())
    assert [s.error for s in result.students] == ["", ""]
    assert all(s.ready and s.lesson_ok and s.embed_ok for s in result.students)
    # every logged step of both tags, for each student, through /user/<name>/tensorboard/
    assert [s.images for s in result.students] == [16, 16]
    assert len(result.checks) >= 2 * 2 * 5 + 1 and all(ok for _, ok in result.checks), result.checks
    assert result.ok and "PASS" in result.summary()
    assert hub_processes() <= before  # everything it started is gone


def test_isolation_checks_fail_without_the_hubs_auth():
    """Negative control: servers on 0.0.0.0 and probes straight to B's TensorBoard (no hub auth)."""
    result = hub_test.run(2, insecure=True, log=lambda *a: None)
    failed = [what for what, ok in result.checks if not ok]
    # the direct probes got data: one per (prober, target) pair and token/no token
    assert sum("TensorBoard" in what and "embedded" not in what for what in failed) == 4, failed
    assert any("beyond loopback" in what for what in failed), failed
    # the probes that still go through the hub are refused as before
    assert all(ok for what, ok in result.checks if "server API" in what or "files" in what)
    assert not result.ok and "FAIL" in result.summary()


@pytest.mark.parametrize("sig, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_ctrl_c_or_sigterm_stops_everything(tmp_path, sig, code):
    """Interrupted while the students work: the hub, its proxy, servers and kernels all stop."""
    import signal
    import time

    import psutil

    out = tmp_path / "out.txt"
    with out.open("w") as f:
        proc = subprocess.Popen([sys.executable, str(ROOT / "tools" / "hub_test.py"), "-n", "2"],
                                stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 180
        while "hub at" not in out.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(8)  # students are logging in and starting servers
        started = psutil.Process(proc.pid).children(recursive=True)
        assert any("jupyterhub" in " ".join(p.cmdline()) for p in started)
        proc.send_signal(getattr(signal, sig))
        assert proc.wait(timeout=120) == code
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(1)
    left = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert left == [], [(p.pid, p.cmdline()[:3]) for p in left]
