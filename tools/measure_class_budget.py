"""How much memory a class needs: measured per lesson, then a sizing table for 30, 100 and 300 students.

    python tools/measure_class_budget.py                 # every lesson, about 3 minutes
    python tools/measure_class_budget.py notebooks/01_max_pooling.ipynb --active 0.25

For each lesson (notebooks/NN_*.ipynb) it executes the notebook in a fresh kernel
(tools/run_notebooks.py's ``run_notebook``, headless, into a temporary logs folder) while sampling the
kernel's RSS with psutil every 0.2 s, then starts TensorBoard (127.0.0.1, a free port) on the runs that
lesson wrote, fetches every image of every run through its HTTP API and samples TensorBoard's RSS. It also
measures a bare Jupyter server (a student's server before any kernel) and an idle JupyterHub with its
proxy (the hub's overhead; needs build/hub/node_modules, see ``make hub-test``).

Per student = the heaviest lesson's kernel + the heaviest TensorBoard + one Jupyter server. RSS counts
shared library pages in every process, so the numbers are on the safe side for one machine (on
Kubernetes each pod is charged for its own pages anyway).

Two columns: *live class*: everyone is active at once (idle culling frees nothing during the lesson);
*self-paced, culled*: servers idle for longer than the culler's timeout are stopped, and at most
``--active`` of the class (default 1/3) works at the same time.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from run_notebooks import lesson_notebooks, run_notebook  # noqa: E402

CLASS_SIZES = (30, 100, 300)
SESSION = requests.Session()
SESSION.trust_env = False  # localhost only, whatever http_proxy says


class PeakRSS:
    """Peak of the summed RSS of some processes, sampled in a thread."""

    def __init__(self, processes, interval: float = 0.2):
        self.processes, self.interval, self.peak = processes, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while True:
            total = 0
            for p in self.processes():
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            if self._stop.wait(self.interval):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def children() -> list[psutil.Process]:
    return psutil.Process().children(recursive=True)


def tree(pid: int):
    def procs():
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
    return procs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:3]} exited with {proc.returncode}")
        try:
            if SESSION.get(url, timeout=5).status_code < 500:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def measure_kernel(notebook: Path, logs: Path) -> tuple[int, float]:
    """(peak RSS in bytes of the kernel, seconds) for one lesson run top to bottom."""
    with PeakRSS(children) as peak:
        start = time.perf_counter()
        with run_notebook(notebook, env={"COURSE_LOGS_DIR": str(logs)}):
            seconds = time.perf_counter() - start
            time.sleep(0.5)  # one more sample of the finished kernel
    return peak.peak, seconds


#: TensorBoard with only its built-in plugins (no ``tensorboard_plugins`` entry points), to show their cost.
BUILTIN_ONLY = ("import sys; from tensorboard import default, program; "
                "tb = program.TensorBoard(plugins=default.get_static_plugins()); "
                "tb.configure(argv=[None, *sys.argv[1:]]); sys.exit(tb.main())")


def measure_tensorboard(logs: Path, builtin_only: bool = False) -> tuple[int, int]:
    """(peak RSS of a TensorBoard that served every image under ``logs``, images served)."""
    port = free_port()
    launcher = ["-c", BUILTIN_ONLY] if builtin_only else ["-m", "tensorboard.main"]
    proc = subprocess.Popen([sys.executable, *launcher, "--logdir", str(logs),
                             "--host", "127.0.0.1", "--port", str(port),
                             "--samples_per_plugin", "images=1000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    served = 0
    try:
        with PeakRSS(tree(proc.pid)) as peak:
            wait_http(base + "/data/runs", proc)
            deadline = time.monotonic() + 60
            tags = {}
            while time.monotonic() < deadline:  # until the loader has read every run
                tags = SESSION.get(base + "/data/plugin/images/tags", timeout=30).json()
                runs = SESSION.get(base + "/data/runs", timeout=30).json()
                if len(runs) >= len({p.parent for p in logs.rglob("*tfevents*")}):
                    break
                time.sleep(0.5)
            for run, run_tags in tags.items():
                for tag in run_tags:
                    q = urllib.parse.urlencode({"run": run, "tag": tag, "sample": 0})
                    for entry in SESSION.get(f"{base}/data/plugin/images/images?{q}", timeout=60).json():
                        r = SESSION.get(f"{base}/data/plugin/images/individualImage?{entry['query']}",
                                        timeout=60)
                        served += r.status_code == 200
            time.sleep(0.5)
    finally:
        stop(proc)
    return peak.peak, served


def measure_server(tmp: Path) -> int:
    """RSS of a bare Jupyter server with the course's extensions (a student's server, no kernel)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
                             f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
                             f"--ServerApp.root_dir={tmp}", "--IdentityProvider.token=budget"],
                            cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, "HOME": str(tmp)})
    try:
        with PeakRSS(tree(proc.pid)) as peak:
            wait_http(f"http://127.0.0.1:{port}/api/status?token=budget", proc)
            SESSION.get(f"http://127.0.0.1:{port}/lab?token=budget", timeout=30)
            time.sleep(1)
    finally:
        stop(proc)
    return peak.peak


def measure_hub(tmp: Path) -> int | None:
    """RSS of an idle JupyterHub + configurable-http-proxy (None if the proxy is not installed)."""
    import hub_test

    if not hub_test.CHP.exists():
        return None
    hub = hub_test.start_hub(tmp)
    try:
        time.sleep(1)
        return sum(p.memory_info().rss for p in hub.tracker.tree())
    finally:
        hub.tracker.stop_all()


def sizing_table(per_student_mb: float, hub_mb: float, active: float) -> list[str]:
    rows = ["| students | live class: all active | self-paced, idle servers culled |",
            "|---:|---:|---:|"]
    for n in CLASS_SIZES:
        live = n * per_student_mb + hub_mb
        culled = math.ceil(n * active) * per_student_mb + hub_mb
        rows.append(f"| {n} | {live / 1024:.0f} GB | {culled / 1024:.0f} GB ({math.ceil(n * active)} active) |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lesson")
    parser.add_argument("--active", type=float, default=1 / 3,
                        help="fraction of a self-paced class active at once (default 1/3)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or lesson_notebooks()
    tmp = Path(tempfile.mkdtemp(prefix="course-budget-"))
    try:
        print("| lesson | kernel peak RSS | run time | TensorBoard peak RSS | images served "
              "| TensorBoard, its own plugins only |")
        print("|---|---:|---:|---:|---:|---:|")
        kernels, boards, bare = [], [], []
        for nb in notebooks:
            logs = tmp / "logs" / nb.stem
            logs.mkdir(parents=True)
            kernel, seconds = measure_kernel(nb.resolve(), logs)
            has_run = any(logs.rglob("*tfevents*"))
            board, served = measure_tensorboard(logs) if has_run else (0, 0)
            own = measure_tensorboard(logs, builtin_only=True)[0] if has_run else 0
            kernels.append(kernel / 1e6)
            boards.append(board / 1e6)
            bare.append(own / 1e6)
            tb = f"{board / 1e6:.0f} MB" if board else "(no run)"
            tb_own = f"{own / 1e6:.0f} MB" if own else "(no run)"
            print(f"| {nb.stem} | {kernel / 1e6:.0f} MB | {seconds:.0f} s | {tb} | {served} | {tb_own} |",
                  flush=True)
        (tmp / "server").mkdir()
        server = measure_server(tmp / "server") / 1e6
        (tmp / "hub").mkdir()
        hub = measure_hub(tmp / "hub")
        hub_mb = hub / 1e6 if hub is not None else 300.0
        per_student = max(kernels) + max(boards) + server
        print(f"\nPer student: kernel {max(kernels):.0f} MB (heaviest lesson) + TensorBoard "
              f"{max(boards):.0f} MB + Jupyter server {server:.0f} MB = {per_student:.0f} MB. "
              f"Hub + proxy: {hub_mb:.0f} MB{'' if hub is not None else ' (assumed; proxy not installed)'}.")
        if max(boards) - max(bare) > 100:
            print(f"Installed TensorBoard plugins add {max(boards) - max(bare):.0f} MB to every TensorBoard "
                  f"(with TensorBoard's own plugins only: {max(bare):.0f} MB); a plugin that imports torch "
                  "costs about this much.")
        print(f"Self-paced column: at most {args.active:.0%} of the class active at once.\n")
        print("\n".join(sizing_table(per_student, hub_mb, args.active)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
