"""How much memory a class needs: measured per lesson, then a sizing table for 30, 100 and 300 students.

    python tools/measure_class_budget.py                 # every lesson, about 3 minutes
    python tools/measure_class_budget.py notebooks/01_max_pooling.ipynb --active 0.25

For each lesson (notebooks/NN_*.ipynb) it executes the notebook in a fresh kernel
(tools/run_notebooks.py's ``run_notebook``, headless, into a temporary logs folder) while sampling the
kernel's memory every 0.2 s, then starts TensorBoard (127.0.0.1, a free port) on the runs that lesson
wrote, fetches every image of every run through its HTTP API and samples TensorBoard's memory. It also
measures a bare Jupyter server (a student's server before any kernel, after its start-up helpers exited)
and an idle JupyterHub with its proxy (needs build/hub/node_modules, see ``make hub-test``).

Memory is split as one server holds it (tools/process_memory.py): *private* pages (anonymous: tensors,
heap, Python objects) grow with every student; *shared* pages (torch's and the CUDA libraries' code read
from files, ≈ 0.6 GB) exist once per server whatever the class size. So a class of n students on one
server needs ``n × private + shared + hub``, and one student costs ``private + shared / n`` (their PSS).
Summing RSS instead, as earlier versions of this tool did, charges every student for a full copy of torch.

Per student = the heaviest lesson's kernel + the heaviest TensorBoard + one Jupyter server.
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

from process_memory import MB, Peak, read  # noqa: E402
from run_notebooks import lesson_notebooks, run_notebook  # noqa: E402

CLASS_SIZES = (30, 100, 300)
SESSION = requests.Session()
SESSION.trust_env = False  # localhost only, whatever http_proxy says


class Sampler:
    """Peak memory of a group of processes (summed at each sample), sampled in a thread every 0.2 s."""

    def __init__(self, pids, interval: float = 0.2):
        self.pids, self.interval, self.peak = pids, interval, Peak()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        readings = []
        for pid in self.pids():
            try:
                readings.append(read(pid))
            except psutil.Error:
                pass
        if readings:
            self.peak.add(readings)

    def _loop(self):
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def kernels() -> list[int]:
    """This process's ipykernels, without their own children (a child that ``vfork``s, like triton's
    ``ldconfig``, shows its parent's whole memory for a moment: counting it would double the kernel)."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if "ipykernel" in " ".join(p.cmdline()):
                out.append(p.pid)
        except psutil.Error:
            pass
    return out


def tree(pid: int):
    """The pids of process ``pid`` and its children (TensorBoard: Python and its Rust data server)."""
    def pids():
        try:
            root = psutil.Process(pid)
            return [root.pid, *(c.pid for c in root.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []
    return pids


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


def measure_kernel(notebook: Path, logs: Path) -> tuple[Peak, float]:
    """(peak memory of the kernel, seconds) for one lesson run top to bottom."""
    with Sampler(kernels) as sampler:
        start = time.perf_counter()
        with run_notebook(notebook, env={"COURSE_LOGS_DIR": str(logs)}):
            seconds = time.perf_counter() - start
            time.sleep(0.5)  # one more sample of the finished kernel
    return sampler.peak, seconds


#: TensorBoard with only its built-in plugins (no ``tensorboard_plugins`` entry points), to show their cost.
BUILTIN_ONLY = ("import sys; from tensorboard import default, program; "
                "tb = program.TensorBoard(plugins=default.get_static_plugins()); "
                "tb.configure(argv=[None, *sys.argv[1:]]); sys.exit(tb.main())")


def measure_tensorboard(logs: Path, builtin_only: bool = False) -> tuple[Peak, int]:
    """(peak memory of a TensorBoard that served every image under ``logs``, images served)."""
    port = free_port()
    launcher = ["-c", BUILTIN_ONLY] if builtin_only else ["-m", "tensorboard.main"]
    proc = subprocess.Popen([sys.executable, *launcher, "--logdir", str(logs),
                             "--host", "127.0.0.1", "--port", str(port),
                             "--samples_per_plugin", "images=1000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    served = 0
    try:
        with Sampler(tree(proc.pid)) as sampler:
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
    return sampler.peak, served


def measure_server(tmp: Path) -> Peak:
    """A bare Jupyter server with the course's extensions (a student's server, no kernel), measured once
    its start-up helpers (``node`` asking yarn/npm for their config, for a few seconds) have exited."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
                             f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
                             f"--ServerApp.root_dir={tmp}", "--IdentityProvider.token=budget"],
                            cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, "HOME": str(tmp)})
    try:
        wait_http(f"http://127.0.0.1:{port}/api/status?token=budget", proc)
        SESSION.get(f"http://127.0.0.1:{port}/lab?token=budget", timeout=30)
        deadline = time.monotonic() + 30
        while psutil.Process(proc.pid).children() and time.monotonic() < deadline:
            time.sleep(0.5)
        sampler = Sampler(lambda: [proc.pid])
        sampler.sample()
    finally:
        stop(proc)
    return sampler.peak


def measure_hub(tmp: Path) -> int | None:
    """Bytes of an idle JupyterHub + configurable-http-proxy, one per server (None if the proxy is not
    installed): private + shared pages, both counted (the hub shares its libraries with nobody else)."""
    import hub_test

    if not hub_test.CHP.exists():
        return None
    hub = hub_test.start_hub(tmp)
    try:
        time.sleep(1)
        total = 0
        for p in hub.tracker.tree():
            try:
                m = read(p.pid)
                total += m.anon + m.file
            except psutil.Error:
                pass
        return total
    finally:
        hub.tracker.stop_all()


def sizing_table(private: float, shared: float, hub: float, active: float) -> list[str]:
    """Markdown rows: a class of n on one server needs n × private + shared + hub (bytes in, GB out)."""
    rows = ["| students | live class: all active | self-paced, idle servers culled |",
            "|---:|---:|---:|"]
    for n in CLASS_SIZES:
        live = n * private + shared + hub
        k = math.ceil(n * active)
        culled = k * private + shared + hub
        rows.append(f"| {n} | {live / 1e9:.0f} GB | {culled / 1e9:.0f} GB ({k} active) |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lesson")
    parser.add_argument("--active", type=float, default=1 / 3,
                        help="fraction of a self-paced class active at once (default 1/3)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or lesson_notebooks()
    tmp = Path(tempfile.mkdtemp(prefix="course-budget-"))

    def mb(x: float) -> str:
        return f"{x / MB:.0f}"

    try:
        print("| lesson | kernel: peak RSS | private | shared | run time "
              "| TensorBoard: peak RSS | private | images served | TensorBoard's own plugins only |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        kernel, board, bare = Peak(), Peak(), Peak()
        for nb in notebooks:
            logs = tmp / "logs" / nb.stem
            logs.mkdir(parents=True)
            k, seconds = measure_kernel(nb.resolve(), logs)
            has_run = any(logs.rglob("*tfevents*"))
            b, served = measure_tensorboard(logs) if has_run else (Peak(), 0)
            own = measure_tensorboard(logs, builtin_only=True)[0] if has_run else Peak()
            for total, one in ((kernel, k), (board, b), (bare, own)):
                total.rss, total.anon = max(total.rss, one.rss), max(total.anon, one.anon)
                total.file = max(total.file, one.file)
            tb = f"{mb(b.rss)} MB | {mb(b.anon)} MB" if has_run else "(no run) | "
            tb_own = f"{mb(own.rss)} MB" if has_run else "(no run)"
            print(f"| {nb.stem} | {mb(k.rss)} MB | {mb(k.anon)} MB | {mb(k.file)} MB | {seconds:.0f} s "
                  f"| {tb} | {served} | {tb_own} |", flush=True)
        (tmp / "server").mkdir()
        server = measure_server(tmp / "server")
        (tmp / "hub").mkdir()
        hub = measure_hub(tmp / "hub")
        hub_b = float(hub) if hub is not None else 300 * MB
        private = kernel.anon + board.anon + server.anon
        shared = kernel.file + board.file + server.file
        rss = kernel.rss + board.rss + server.rss
        print(f"\nPer student (heaviest lesson's kernel + TensorBoard + Jupyter server): private "
              f"{mb(private)} MB (kernel {mb(kernel.anon)}, TensorBoard {mb(board.anon)}, server "
              f"{mb(server.anon)}) + shared library pages {mb(shared)} MB, held once per server.")
        print("One student on a server of n costs private + shared / n: "
              + ", ".join(f"{n} students {mb(private + shared / n)} MB" for n in CLASS_SIZES)
              + f". Alone (summed RSS, e.g. a laptop): {mb(rss)} MB.")
        print(f"Hub + proxy: {mb(hub_b)} MB{'' if hub is not None else ' (assumed; proxy not installed)'}.")
        if board.rss - bare.rss > 100 * MB:
            print(f"Installed TensorBoard plugins add {mb(board.rss - bare.rss)} MB to every TensorBoard "
                  f"(with TensorBoard's own plugins only: {mb(bare.rss)} MB); a plugin that imports torch "
                  "costs about this much.")
        print(f"Self-paced column: at most {args.active:.0%} of the class active at once.\n")
        print("\n".join(sizing_table(private, shared, hub_b, args.active)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
