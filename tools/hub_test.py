"""Proof on a real JupyterHub: N students log in, get the course, run a lesson, open their TensorBoard.

    python tools/hub_test.py                 # N=5 students, lesson 01
    python tools/hub_test.py -n 10 --lesson notebooks/02_average_pooling.ipynb

Starts JupyterHub (from this Python's environment) on 127.0.0.1 with configurable-http-proxy (npm, under
build/hub/node_modules; ``make hub-test`` installs it), the dummy authenticator with a password and
SimpleLocalProcessSpawner with one home folder per student under a temporary folder. Then every student,
at the same time, like a class at the start of a lesson:

1. logs in with the login form (user name + password) and asks the hub's REST API for a token;
2. starts their server (REST API) and waits until it is ready;
3. clicks the course's nbgitpuller link (tools/nbgitpuller_link.py), built for a *local* git snapshot of
   this repository (its tracked and new files, uncommitted edits included; no network) and pulls;
4. executes the lesson cell by cell in a kernel on their server (sessions API + kernel websocket);
   ``show_tensorboard()`` there embeds through ``/user/<name>/proxy/<port>/`` (checked in its output);
5. opens "TensorBoard — course logs" (``/user/<name>/tensorboard/``, jupyter-server-proxy) and fetches
   every ``logs_maxpool`` image (tags input and output) through the hub.

Isolation: for every student A and the next one B, A's token gets no data from B's server API, files,
proxied TensorBoard or embedded TensorBoard port (403, or a redirect to the hub's login), neither does a
request without a token; and no process of the hub's tree listens beyond loopback. ``--insecure`` is the
negative control used by the tests: servers listen on 0.0.0.0 and the probes go straight to B's
TensorBoard port, i.e. around the hub's auth; the isolation checks must then FAIL.

Prints one summary line and exits 0 only if everything passed. Everything it starts (hub, proxy, servers,
kernels, TensorBoards) is stopped at the end, on failure, on Ctrl+C and on SIGTERM.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from nbgitpuller_link import nbgitpuller_link  # noqa: E402

DEFAULT_LESSON = "notebooks/01_max_pooling.ipynb"
RUN = "logs_maxpool"
TARGET = "course"  # the folder nbgitpuller clones into, in each home
PASSWORD = "class-of-" + secrets.token_hex(4)
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}
CHP = ROOT / "build" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the course a teacher would publish -----------------------------------------------------------
def snapshot_course(dest: Path) -> Path:
    """A git repository holding this working tree's tracked and new (not ignored) files."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    git = ["git", "-c", "user.email=teacher@example.org", "-c", "user.name=Teacher"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=dest, check=True)
    subprocess.run([*git, "add", "-A"], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "course snapshot"], cwd=dest, check=True)
    return dest


# -- the hub --------------------------------------------------------------------------------------
CONFIG = """
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.JupyterHub.db_url = "sqlite:///{tmp}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{tmp}/cookie_secret"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{tmp}/home/{{username}}"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = ["--allow-root"]
c.Spawner.ip = {spawner_ip!r}
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
c.JupyterHub.services = [{{"name": "hub-test", "api_token": {service_token!r}}}]
c.JupyterHub.load_roles = [{{"name": "hub-test", "services": ["hub-test"],
    "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"]}}]
"""


class Tracker:
    """Every process the hub's tree ever had, so all of them can be stopped, and per-user peak RSS."""

    def __init__(self, root_pid: int):
        self.root = psutil.Process(root_pid)
        self.seen: dict[int, float] = {root_pid: self.root.create_time()}
        self.peak: dict[str, int] = {}
        self.role_peak: dict[str, int] = {}  # max over students of one role's RSS
        self.user_of: dict[int, tuple[str, str] | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def tree(self) -> list[psutil.Process]:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        for p in procs:
            try:
                self.seen.setdefault(p.pid, p.create_time())
            except psutil.NoSuchProcess:
                pass
        return procs

    def _user(self, p: psutil.Process) -> tuple[str, str] | None:
        """(user, role) of a process of a student's server; role: server, kernel or tensorboard."""
        if p.pid not in self.user_of:
            try:
                user = p.environ().get("JUPYTERHUB_USER", "")
                cmd = " ".join(p.cmdline())
            except (psutil.Error, OSError):
                return None
            role = ("tensorboard" if "tensorboard" in cmd else "kernel" if "ipykernel" in cmd
                    else "server")
            self.user_of[p.pid] = (user, role) if user else None
        return self.user_of[p.pid]

    def sample(self) -> None:
        totals: dict[str, int] = {}
        roles: dict[tuple[str, str], int] = {}
        for p in self.tree():
            try:
                who = self._user(p)
                if who:
                    rss = p.memory_info().rss
                    totals[who[0]] = totals.get(who[0], 0) + rss
                    roles[who] = roles.get(who, 0) + rss
            except psutil.Error:
                pass
        for user, rss in totals.items():
            self.peak[user] = max(self.peak.get(user, 0), rss)
        for (_, role), rss in roles.items():
            self.role_peak[role] = max(self.role_peak.get(role, 0), rss)

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()

    def listening(self) -> list[tuple[int, str, int]]:
        """(pid, address, port) of every listening inet socket of the hub's tree."""
        pids = {p.pid for p in self.tree()}
        return [(c.pid, c.laddr.ip, c.laddr.port) for c in psutil.net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN and c.pid in pids]

    def stop_all(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self.tree()
        alive = []
        for pid, created in self.seen.items():
            try:
                p = psutil.Process(pid)
                if p.create_time() == created:
                    alive.append(p)
            except psutil.NoSuchProcess:
                pass
        for p in alive:  # the hub first: it stops the servers it spawned, and its proxy
            if p.pid == self.root.pid:
                _signal(p, signal.SIGTERM)
        _, alive = psutil.wait_procs(alive, timeout=timeout)
        for p in alive:
            _signal(p, signal.SIGTERM)
        _, alive = psutil.wait_procs(alive, timeout=5)
        for p in alive:
            _signal(p, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=5)


def _signal(p: psutil.Process, sig: int) -> None:
    try:
        p.send_signal(sig)
    except psutil.Error:
        pass


@dataclass
class Hub:
    url: str
    service_token: str
    tmp: Path
    proc: subprocess.Popen
    tracker: Tracker

    def api(self, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
        headers = {"Authorization": f"token {token or self.service_token}"}
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=60, **kw)


def start_hub(tmp: Path, insecure: bool = False, log=print) -> Hub:
    if not CHP.exists():
        raise SystemExit(f"configurable-http-proxy not found at {CHP}. Install it with:\n"
                         "  npm install --prefix build/hub configurable-http-proxy@5")
    port, service_token = free_port(), secrets.token_hex(16)
    config = CONFIG.format(port=port, hub_port=free_port(), api_port=free_port(), chp=str(CHP), tmp=tmp,
                           password=PASSWORD, singleuser=str(BIN / "jupyterhub-singleuser"),
                           spawner_ip="0.0.0.0" if insecure else "127.0.0.1",
                           service_token=service_token)
    (tmp / "jupyterhub_config.py").write_text(config)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "COURSE_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["CONFIGPROXY_AUTH_TOKEN"] = secrets.token_hex(16)
    log_file = open(tmp / "hub.log", "wb")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen([str(BIN / "jupyterhub"), "-f", str(tmp / "jupyterhub_config.py")],
                            cwd=tmp, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                            start_new_session=True)
    hub = Hub(f"http://127.0.0.1:{port}", service_token, tmp, proc, Tracker(proc.pid))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("JupyterHub exited:\n" + (tmp / "hub.log").read_text()[-3000:])
        try:
            if hub.api("GET", "/").status_code == 200:
                return hub
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise RuntimeError("JupyterHub did not answer in 120 s:\n" + (tmp / "hub.log").read_text()[-3000:])


# -- one student ----------------------------------------------------------------------------------
@dataclass
class Student:
    name: str
    token: str = ""
    login_at: float = 0.0
    ready: bool = False
    lesson_ok: bool = False
    embed_ok: bool = False
    images: int = 0
    first_image_s: float | None = None
    tb_port: int | None = None  # the port of the TensorBoard show_tensorboard() started
    error: str = ""
    output: list[str] = field(default_factory=list)  # the lesson's printed text
    session: requests.Session | None = None  # the browser: the hub's login cookie
    steps: list[str] = field(default_factory=list)


def login(hub: Hub, s: Student) -> None:
    """The login form with a password, then a token from the REST API with the session cookie."""
    session = requests.Session()
    s.login_at = time.monotonic()
    page = session.get(f"{hub.url}/hub/login", timeout=60)
    page.raise_for_status()
    xsrf = session.cookies.get("_xsrf", "")
    bad = session.post(f"{hub.url}/hub/login", data={"username": s.name, "password": "wrong",
                                                     "_xsrf": xsrf}, allow_redirects=False, timeout=60)
    if bad.status_code < 400:
        raise RuntimeError(f"a wrong password was accepted ({bad.status_code})")
    ok = session.post(f"{hub.url}/hub/login", data={"username": s.name, "password": PASSWORD,
                                                    "_xsrf": xsrf}, allow_redirects=False, timeout=60)
    if ok.status_code != 302:
        raise RuntimeError(f"login failed: {ok.status_code} {ok.text[:200]}")
    r = session.post(f"{hub.url}/hub/api/users/{s.name}/tokens", json={"note": "hub-test"},
                     headers={"X-XSRFToken": session.cookies.get("_xsrf", xsrf)}, timeout=60)
    r.raise_for_status()
    s.token = r.json()["token"]
    s.session = session
    s.steps.append("login")


def start_server(hub: Hub, s: Student, timeout: float = 300) -> None:
    r = hub.api("POST", f"/users/{s.name}/server", token=s.token)
    if r.status_code not in (201, 202):
        raise RuntimeError(f"server start: {r.status_code} {r.text[:200]}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        model = hub.api("GET", f"/users/{s.name}", token=s.token).json()
        if model.get("servers", {}).get("", {}).get("ready"):
            s.ready = True
            s.steps.append("server")
            return
        time.sleep(0.5)
    raise RuntimeError("server not ready in time")


def user_get(hub: Hub, s: Student, path: str, token: str | None = None, **kw) -> requests.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    return requests.get(f"{hub.url}/user/{s.name}/{path.lstrip('/')}", headers=headers,
                        allow_redirects=False, timeout=kw.pop("timeout", 180), **kw)


def pull_course(hub: Hub, s: Student, link: str) -> None:
    """Click the nbgitpuller link in the logged-in browser: hub -> the student's server -> pull."""
    r = s.session.get(link, timeout=120)  # follows user-redirect and the server's OAuth with the hub
    if r.status_code != 200 or not urlsplit(r.url).path.startswith(f"/user/{s.name}/git-pull"):
        raise RuntimeError(f"the link did not lead to the student's server: {r.status_code} {r.url}")
    location = r.url[len(hub.url):]  # nbgitpuller's page, which then streams /git-pull/api
    api = location.replace("/git-pull?", "/git-pull/api?", 1)
    last = {}
    with s.session.get(hub.url + api, stream=True, timeout=300) as stream:
        for line in stream.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                last = json.loads(line[5:])
                if last.get("phase") in ("finished", "error"):
                    break
    if last.get("phase") != "finished":
        raise RuntimeError(f"nbgitpuller: {last.get('message') or last}")
    s.steps.append("pull")


def run_lesson(hub: Hub, s: Student, lesson: str, timeout: float = 600) -> None:
    """Execute every code cell of the lesson in a kernel on the student's server."""
    import nbformat
    import websocket

    auth = {"Authorization": f"token {s.token}"}
    path = f"{TARGET}/{lesson}"
    r = requests.post(f"{hub.url}/user/{s.name}/api/sessions", headers=auth, timeout=120,
                      json={"path": path, "type": "notebook", "name": Path(lesson).name,
                            "kernel": {"name": "python3"}})
    r.raise_for_status()
    kernel_id = r.json()["kernel"]["id"]
    content = user_get(hub, s, f"api/contents/{path}", s.token).json()["content"]
    nb = nbformat.from_dict(content)
    ws_url = hub.url.replace("http://", "ws://") + f"/user/{s.name}/api/kernels/{kernel_id}/channels"
    ws = websocket.create_connection(ws_url, header=[f"Authorization: token {s.token}"], timeout=timeout)
    session_id = uuid.uuid4().hex
    html = []
    try:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps({
                "header": {"msg_id": msg_id, "username": s.name, "session": session_id,
                           "msg_type": "execute_request", "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": cell.source, "silent": False, "store_history": True,
                            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
            while True:
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] in ("display_data", "update_display_data", "execute_result"):
                    html.append(msg["content"].get("data", {}).get("text/html", ""))
                    s.output.append(html[-1][:3000])
                if msg["msg_type"] == "stream":
                    s.output.append(msg["content"]["text"])
                if msg["channel"] == "shell" and msg["msg_type"] == "execute_reply":
                    if msg["content"]["status"] != "ok":
                        c = msg["content"]
                        raise RuntimeError(f"{lesson} cell {index}: {c.get('ename')}: {c.get('evalue')}")
                    break
    finally:
        ws.close()
    s.lesson_ok = True
    s.steps.append("lesson")
    # show_tensorboard() on a hub embeds through this student's proxy, never localhost.
    prefix = f"/user/{s.name}/proxy/"
    for chunk in html:
        if prefix in chunk:
            after = chunk.split(prefix, 1)[1]
            s.tb_port = int(after.split("/", 1)[0])
            s.embed_ok = user_get(hub, s, f"proxy/{s.tb_port}/data/runs", s.token).status_code == 200
            break


def fetch_images(hub: Hub, s: Student) -> None:
    """Every logs_maxpool image through /user/<name>/tensorboard/ (started on first request)."""
    for tag in ("input", "output"):
        query = urlencode({"run": RUN, "tag": tag, "sample": 0})
        r = user_get(hub, s, f"tensorboard/data/plugin/images/images?{query}", s.token, timeout=300)
        r.raise_for_status()
        entries = r.json()
        if not entries:
            raise RuntimeError(f"TensorBoard serves no {RUN}/{tag} images")
        for entry in entries:
            img = user_get(hub, s, f"tensorboard/data/plugin/images/individualImage?{entry['query']}",
                           s.token)
            if img.status_code != 200 or not img.content.startswith(b"\x89PNG"):
                raise RuntimeError(f"image {entry['query']}: {img.status_code}")
            if s.first_image_s is None:
                s.first_image_s = time.monotonic() - s.login_at
            s.images += 1
    s.steps.append("tensorboard")


def student_flow(hub: Hub, s: Student, link: str, lesson: str) -> Student:
    try:
        login(hub, s)
        start_server(hub, s)
        pull_course(hub, s, link)
        run_lesson(hub, s, lesson)
        fetch_images(hub, s)
    except Exception as err:  # reported in the summary; the run fails
        s.error = f"{type(err).__name__}: {err}"
    return s


# -- isolation ------------------------------------------------------------------------------------
def refused(r: requests.Response) -> bool:
    """403/401, or a redirect to the hub's login/authorization: no data."""
    if r.status_code in (401, 403):
        return True
    if r.status_code in (301, 302, 303, 307, 308):
        return urlsplit(r.headers.get("Location", "")).path.startswith("/hub/")
    return False


def isolation_checks(hub: Hub, students: list[Student], insecure: bool = False) -> list[tuple[str, bool]]:
    """(what, passed) for every probe; see the module docstring."""
    results = []
    ready = [s for s in students if s.token]
    for i, a in enumerate(ready):
        b = ready[(i + 1) % len(ready)]
        if a is b:
            break
        probes = {
            "server API": "api/status",
            "files": f"api/contents/{TARGET}/notebooks",
            "file download": f"files/{TARGET}/README.md",
            "TensorBoard": "tensorboard/data/runs",
        }
        if b.tb_port:
            probes["embedded TensorBoard"] = f"proxy/{b.tb_port}/data/runs"
        for what, path in probes.items():
            for who, token in ((a.name, a.token), ("no token", None)):
                if insecure and what == "TensorBoard":
                    # Negative control: the hub's auth removed from the path (straight to B's backend).
                    port = b.tb_port or 0
                    try:
                        r = requests.get(f"http://127.0.0.1:{port}/data/runs", timeout=30,
                                         allow_redirects=False)
                    except requests.ConnectionError:
                        continue
                else:
                    r = user_get(hub, b, path, token, timeout=60)
                results.append((f"{who} -> {b.name} {what}", refused(r)))
    listening = hub.tracker.listening()
    outside = [(pid, ip, port) for pid, ip, port in listening if ip not in LOOPBACK]
    results.append((f"nothing listens beyond loopback {outside or ''}", not outside))
    return results


# -- the whole run --------------------------------------------------------------------------------
@dataclass
class Result:
    students: list[Student]
    checks: list[tuple[str, bool]]
    peak_mb: dict[str, float]
    role_mb: dict[str, float]
    seconds: float
    lesson: str

    @property
    def ok(self) -> bool:
        return (all(s.ready and s.lesson_ok and s.embed_ok and s.images and not s.error
                    for s in self.students) and bool(self.checks) and all(ok for _, ok in self.checks))

    def summary(self) -> str:
        n = len(self.students)
        times = [s.first_image_s for s in self.students if s.first_image_s is not None]
        peaks = list(self.peak_mb.values()) or [0.0]
        passed = sum(ok for _, ok in self.checks)
        timing = (f"median {statistics.median(times):.1f} s, max {max(times):.1f} s" if times else "n/a")
        return (f"hub-test N={n}: students ready {sum(s.ready for s in self.students)}/{n}, "
                f"lessons run {sum(s.lesson_ok for s in self.students)}/{n} ({Path(self.lesson).stem}), "
                f"embeds via proxy {sum(s.embed_ok for s in self.students)}/{n}, "
                f"images served {sum(s.images for s in self.students)}, "
                f"isolation checks passed {passed}/{len(self.checks)}, "
                f"peak memory per student median {statistics.median(peaks):.0f} MB max {max(peaks):.0f} MB "
                f"({', '.join(f'{r} {mb:.0f}' for r, mb in sorted(self.role_mb.items()))}), "
                f"login to first TensorBoard image {timing}; total {self.seconds:.0f} s "
                f"-> {'PASS' if self.ok else 'FAIL'}")


_cleanups: list = []


def _cleanup_all() -> None:
    while _cleanups:
        _cleanups.pop()()


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def run(n: int = 5, lesson: str = DEFAULT_LESSON, insecure: bool = False, log=print,
        keep: bool = False) -> Result:
    """Start a hub, drive ``n`` students through it, check isolation, stop everything."""
    start = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="course-hub-"))
    hub = None

    def cleanup():
        if hub is not None:
            hub.tracker.stop_all()
            if hub.proc.poll() is None:
                hub.proc.wait(timeout=10)
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)

    _cleanups.append(cleanup)
    try:
        repo = snapshot_course(tmp / "teacher" / "course")
        hub = start_hub(tmp, insecure=insecure, log=log)
        link = nbgitpuller_link(hub.url, repo.as_uri(), "main", lesson, targetpath=TARGET)
        log(f"hub at {hub.url} (log {tmp / 'hub.log'}); link: {link}")
        students = [Student(f"student{i + 1:03d}") for i in range(n)]
        pool = ThreadPoolExecutor(max_workers=n)
        try:  # not `with`: on Ctrl+C, stop the hub first instead of waiting for the students
            for future in [pool.submit(student_flow, hub, s, link, lesson) for s in students]:
                future.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        for s in students:
            (tmp / f"{s.name}.outputs.txt").write_text("\n".join(s.output))
            if s.error:
                log(f"  {s.name}: {s.error} (after {', '.join(s.steps) or 'nothing'})")
        hub.tracker.sample()
        checks = isolation_checks(hub, students, insecure=insecure)
        for what, ok in checks:
            if not ok:
                log(f"  isolation FAILED: {what}")
        peak = {u: rss / 1e6 for u, rss in hub.tracker.peak.items()}
        roles = {r: rss / 1e6 for r, rss in hub.tracker.role_peak.items()}
        return Result(students, checks, peak, roles, time.monotonic() - start, lesson)
    finally:
        if cleanup in _cleanups:
            _cleanups.remove(cleanup)
        cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("-n", "--students", type=int, default=int(os.environ.get("N", "5")))
    parser.add_argument("--lesson", default=DEFAULT_LESSON, help="notebook path inside the course")
    parser.add_argument("--insecure", action="store_true", help="negative control (must FAIL)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (hub.log)")
    args = parser.parse_args(argv)
    if args.students < 2:
        parser.error("isolation needs at least 2 students")
    atexit.register(_cleanup_all)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl+C, even if started in background
    try:
        result = run(args.students, args.lesson, insecure=args.insecure, keep=args.keep)
    except KeyboardInterrupt:
        print("hub-test interrupted; the hub, its servers, kernels and TensorBoards are stopped.")
        return 130
    print(result.summary())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
