"""A real JupyterHub on 127.0.0.1 with two students (tools/hub_test.py), and its negative control: the
isolation checks must FAIL when a student's TensorBoard listens on a loopback TCP port, as it did before;
and Ctrl+C / SIGTERM stop everything. As root (CI) the students are real system users, created for the
run and removed after, and one student's code on the hub tries every way to the other's TensorBoard.
About 3 minutes for the full run on two busy cores, 1 for the negative control (no lesson)."""

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


def _test_users() -> set[str]:
    import pwd

    return {u.pw_name for u in pwd.getpwall() if u.pw_name.startswith("cs") and "s0" in u.pw_name}


ROOT_ONLY = pytest.mark.skipif(not hub_test.can_create_users(),
                               reason="students as system users need root (useradd), as in CI")


def test_two_students_on_a_real_hub():
    before, users_before = hub_processes(), _test_users()
    result = hub_test.run(2, log=lambda *a: None)
    print(result.summary())
    assert [s.error for s in result.students] == ["", ""]
    assert all(s.ready and s.lesson_ok and s.embed_ok for s in result.students)
    assert all(s.tb_port is None for s in result.students)  # the embed is <prefix>tensorboard/, no port
    # every logged step of both tags, for each student, through /user/<name>/tensorboard/
    assert [s.images for s in result.students] == [16, 16]
    assert len(result.checks) >= 2 * 2 * 4 + 1 and all(ok for _, ok in result.checks), result.checks
    if hub_test.can_create_users():
        assert result.system_users
        code = [what for what, _ in result.checks if "'s code" in what or "listens on TCP" in what]
        assert len(code) == 2 * 4, code  # socket, TCP ports, the hub, no TCP port: each way round
        assert any("PermissionError" in what for what in code)
    assert result.ok and "PASS" in result.summary()
    assert hub_processes() <= before  # everything it started is gone
    assert _test_users() == users_before  # and the system users it created


@ROOT_ONLY
def test_isolation_checks_fail_with_tensorboard_on_a_loopback_port():
    """Negative control: TensorBoard as before (a loopback TCP port): the other student's code reads it."""
    users_before = _test_users()
    result = hub_test.run(2, lesson=None, insecure=True, log=lambda *a: None)
    print(result.summary())
    assert [s.error for s in result.students] == ["", ""]
    failed = [what for what, ok in result.checks if not ok]
    # each student's code got the other's /data/runs over TCP, and finds no socket to be refused by
    assert sum("TCP ports" in what and "answers on [" in what for what in failed) == 2, failed
    assert sum("listens on TCP ports [" in what for what in failed) == 2, failed
    # what goes through the hub is still refused
    assert all(ok for what, ok in result.checks if "->" in what and "'s code" not in what)
    assert all(ok for what, ok in result.checks if "through the hub" in what)
    assert not result.ok and "FAIL" in result.summary()
    assert _test_users() == users_before


@pytest.mark.parametrize("sig, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_ctrl_c_or_sigterm_stops_everything(tmp_path, sig, code):
    """Interrupted while the students work: the hub, its proxy, servers and kernels all stop."""
    import signal
    import time

    import psutil

    users_before = _test_users()
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
    assert _test_users() == users_before  # the system users it created are removed too
