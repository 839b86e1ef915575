"""Proof on a real JupyterHub: N students log in, get the course, run a lesson, open their TensorBoard.

    python tools/hub_test.py                 # N=5 students, lesson 01
    python tools/hub_test.py -n 10 --lesson notebooks/02_average_pooling.ipynb

Starts JupyterHub (from this Python's environment) on 127.0.0.1 with configurable-http-proxy (npm, under
build/hub/node_modules; ``make hub-test`` installs it) and the dummy authenticator with a password. Run as
root (CI), each student is a real system user, as on The Littlest JupyterHub: created with ``useradd`` for
the run and removed after (``userdel --remove``), their server started as that user by
LocalProcessSpawner. Not as root, SimpleLocalProcessSpawner runs every server as you, with one home folder
per student under a temporary folder, and the checks that need separate users are left out (said in the
summary). Then every student, at the same time, like a class at the start of a lesson:

1. logs in with the login form (user name + password) and asks the hub's REST API for a token;
2. starts their server (REST API) and waits until it is ready;
3. clicks the course's nbgitpuller link (tools/nbgitpuller_link.py), built for a *local* git snapshot of
   this repository (its tracked and new files, uncommitted edits included; no network) and pulls;
4. executes the lesson cell by cell in a kernel on their server (sessions API + kernel websocket);
   ``show_tensorboard()`` there embeds ``/user/<name>/tensorboard/`` (checked in its output);
5. opens "TensorBoard — course logs" (``/user/<name>/tensorboard/``, jupyter-server-proxy) and fetches
   every ``logs_maxpool`` image (tags input and output) through the hub.

Isolation: for every student A and the next one B, A's token gets no data from B's server API, files or
TensorBoard (403, or a redirect to the hub's login), neither does a request without a token; no process
of the hub's tree listens beyond loopback. With system users, code that B runs in a kernel on the hub
(B's own user) tries A's TensorBoard every other way: its Unix socket (the real path, read by root from
A's TensorBoard process: permission denied, the folder is 0700), every TCP port A's processes listen on
(read from /proc/net/tcp: none may answer TensorBoard's ``/data/runs``), and the hub with B's server
token (refused); and A's TensorBoard, with its children, listens on no TCP port at all.
``--insecure`` is the negative control used by the tests: TensorBoard served as before this check
existed, on a loopback TCP port (``COURSE_TENSORBOARD_TCP=1``); the students only log in and open
TensorBoard (no lesson, to keep it short), and B's code must get A's ``/data/runs``: the checks FAIL.

Prints one summary line and exits 0 only if everything passed. Everything it starts (hub, proxy, servers,
kernels, TensorBoards) is stopped at the end, on failure, on Ctrl+C and on SIGTERM.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
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
from process_memory import MB, Peak, read  # noqa: E402

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
c.JupyterHub.db_url = "sqlite:///{private}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{private}/cookie_secret"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
{spawner}
c.Spawner.cmd = {singleuser!r}
c.Spawner.environment = {environment!r}
c.Spawner.ip = "127.0.0.1"
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
c.JupyterHub.services = [{{"name": "hub-test", "api_token": {service_token!r}}}]
c.JupyterHub.load_roles = [{{"name": "hub-test", "services": ["hub-test"],
    "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"]}}]
"""
#: As TLJH runs servers: each as its own system user (root starts them), in that user's home.
SYSTEM_SPAWNER = 'c.JupyterHub.spawner_class = "localprocess"'
#: One OS user (you) for every server, one home folder each.
SIMPLE_SPAWNER = """c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{tmp}/home/{{username}}"
c.Spawner.args = ["--allow-root"]"""


def _usable_by_all(path: Path) -> bool:
    """Every user can reach ``path`` (each folder above it searchable by others) and read it."""
    path = path.resolve()
    folders_ok = all(os.stat(folder).st_mode & 0o001 for folder in path.parents)
    return folders_ok and os.path.exists(path) and bool(os.stat(path).st_mode & 0o004)


def python_for_students(tmp: Path) -> Path:
    """A Python every system user can run, with this environment's packages. This one's interpreter
    may live where other users cannot go (pyenv under /root); then a venv of the system's Python of
    the same version reads this environment's site-packages (a .pth file) and its Jupyter data."""
    here = Path(sysconfig.get_paths()["stdlib"])
    if _usable_by_all(Path(sys.executable)) and _usable_by_all(here):
        return Path(sys.executable)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    base = Path(f"/usr/bin/python{version}")
    sites = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    if not _usable_by_all(base) or not all(_usable_by_all(Path(s)) for s in sites):
        raise SystemExit(f"Students (system users) cannot run {sys.executable} or read its packages, and "
                         f"there is no /usr/bin/python{version} to use instead: put the environment where "
                         "every user can read it, or run hub-test without root (one OS user).")
    target = tmp / "python"
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(target)], check=True)
    site = Path(subprocess.run([str(target / "bin" / "python"), "-c", "import sysconfig; print("
                                "sysconfig.get_paths()['purelib'])"], check=True, capture_output=True,
                               text=True).stdout.strip())
    # addsitedir, not bare paths: the .pth files inside (editable installs of plugins/) must run too
    (site / "course-environment.pth").write_text(
        "".join(f"import site; site.addsitedir({s!r})\n" for s in sorted(sites)))
    for data in ("etc", "share"):  # jupyter's config (server extensions) and data (kernels, lab)
        if (Path(sys.prefix) / data).is_dir():
            (target / data).symlink_to(Path(sys.prefix) / data)
    subprocess.run(["chmod", "-R", "a+rX", str(target)], check=True)
    return target / "bin" / "python"


def can_create_users() -> bool:
    """Root, with useradd, and this environment's packages readable by every user (a Python for them
    can be made); else the run uses one OS user and says so."""
    if not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("useradd")):
        return False
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    sites = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    return ((_usable_by_all(Path(sys.executable)) or _usable_by_all(Path(f"/usr/bin/python{version}")))
            and all(_usable_by_all(Path(s)) for s in sites))


class SystemUsers:
    """Students as system users, created for the run (useradd) and removed after with what they left."""

    def __init__(self):
        self.names: list[str] = []
        self.uids: set[int] = set()

    def add(self, name: str) -> None:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True,
                       capture_output=True)
        self.names.append(name)
        self.uids.add(pwd.getpwnam(name).pw_uid)

    def remove(self) -> None:
        for p in psutil.process_iter(["uids"]):  # only processes of the users this run created
            if p.info["uids"] and p.info["uids"].real in self.uids:
                _signal(p, signal.SIGKILL)
        for name in self.names:
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        tmp = Path(tempfile.gettempdir())  # e.g. jupyter-server-proxy's socket folders
        for entry in tmp.iterdir():
            try:
                if entry.lstat().st_uid in self.uids:
                    shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
            except OSError:
                pass
        self.names = []


class Tracker:
    """Every process the hub's tree ever had, so all of them can be stopped, and per-user peak memory
    (private and shared pages apart, as tools/process_memory.py reads them)."""

    def __init__(self, root_pid: int):
        self.root = psutil.Process(root_pid)
        self.seen: dict[int, float] = {root_pid: self.root.create_time()}
        self.peak: dict[str, Peak] = {}  # per student, all their processes
        self.role_peak: dict[str, Peak] = {}  # per role (server, kernel, tensorboard), max over students
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
        totals: dict[str, list] = {}
        roles: dict[tuple[str, str], list] = {}
        for p in self.tree():
            try:
                who = self._user(p)
                if who:
                    m = read(p.pid)
                    totals.setdefault(who[0], []).append(m)
                    roles.setdefault(who, []).append(m)
            except psutil.Error:
                pass
        for user, readings in totals.items():
            self.peak.setdefault(user, Peak()).add(readings)
        for (_, role), readings in roles.items():
            one = Peak()
            one.add(readings)
            best = self.role_peak.setdefault(role, Peak())
            best.rss, best.anon, best.file = (max(best.rss, one.rss), max(best.anon, one.anon),
                                              max(best.file, one.file))

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


def start_hub(tmp: Path, insecure: bool = False, log=print, system_users: bool = False,
              course: Path | None = None) -> Hub:
    if not CHP.exists():
        raise SystemExit(f"configurable-http-proxy not found at {CHP}. Install it with:\n"
                         "  npm install --prefix build/hub configurable-http-proxy@5")
    port, service_token = free_port(), secrets.token_hex(16)
    private = tmp / "hub"  # config, tokens, database: root's only (students' code runs on this machine)
    private.mkdir(mode=0o700, exist_ok=True)
    environment = {}
    if course is not None:  # the course's own proxy entry (this working tree's), not an installed copy
        environment["PYTHONPATH"] = str(course / "plugins" / "course-tensorboard-proxy")
        # git refuses a repository owned by another user unless a global config names it safe
        trust = course.parent / "gitconfig"
        trust.write_text(f"[safe]\n\tdirectory = {course}\n\tdirectory = {course / '.git'}\n")
        trust.chmod(0o644)
        environment["GIT_CONFIG_GLOBAL"] = str(trust)
    if insecure:
        environment["COURSE_TENSORBOARD_TCP"] = "1"  # TensorBoard on a loopback port, as before
    singleuser = ([str(python_for_students(tmp)), "-m", "jupyterhub.singleuser"] if system_users
                  else [str(BIN / "jupyterhub-singleuser")])
    config = CONFIG.format(port=port, hub_port=free_port(), api_port=free_port(), chp=str(CHP),
                           private=private, password=PASSWORD,
                           singleuser=singleuser, environment=environment,
                           spawner=SYSTEM_SPAWNER if system_users else SIMPLE_SPAWNER.format(tmp=tmp),
                           service_token=service_token)
    (private / "jupyterhub_config.py").write_text(config)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "COURSE_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["CONFIGPROXY_AUTH_TOKEN"] = secrets.token_hex(16)
    log_file = open(private / "hub.log", "wb")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen([str(BIN / "jupyterhub"), "-f", str(private / "jupyterhub_config.py")],
                            cwd=private, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                            start_new_session=True)
    hub = Hub(f"http://127.0.0.1:{port}", service_token, tmp, proc, Tracker(proc.pid))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("JupyterHub exited:\n" + (private / "hub.log").read_text()[-3000:])
        try:
            if hub.api("GET", "/").status_code == 200:
                return hub
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise RuntimeError("JupyterHub did not answer in 120 s:\n" + (private / "hub.log").read_text()[-3000:])


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
    tb_port: int | None = None  # the port of a TensorBoard show_tensorboard() started (none on a hub)
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

    path = f"{TARGET}/{lesson}"
    content = user_get(hub, s, f"api/contents/{path}", s.token).json()["content"]
    nb = nbformat.from_dict(content)
    sources = [(index, cell.source) for index, cell in enumerate(nb.cells)
               if cell.cell_type == "code" and cell.source.strip()]
    html = execute(hub, s, sources, lesson, timeout, notebook=path)
    s.lesson_ok = True
    s.steps.append("lesson")
    # show_tensorboard() on a hub embeds the student's own TensorBoard (a socket), or a proxied port.
    for chunk in html:
        if f"/user/{s.name}/tensorboard/" in chunk:
            s.embed_ok = user_get(hub, s, "tensorboard/data/runs", s.token).status_code == 200
            break
        if f"/user/{s.name}/proxy/" in chunk:
            s.tb_port = int(chunk.split(f"/user/{s.name}/proxy/", 1)[1].split("/", 1)[0])
            s.embed_ok = user_get(hub, s, f"proxy/{s.tb_port}/data/runs", s.token).status_code == 200
            break


def execute(hub: Hub, s: Student, sources: list[tuple[int, str]], what: str, timeout: float = 600,
            notebook: str | None = None) -> list[str]:
    """Run code cells in a new kernel on the student's server (as the student); return the HTML
    outputs, appending printed text to ``s.output``. A cell that fails raises RuntimeError."""
    import websocket

    auth = {"Authorization": f"token {s.token}"}
    if notebook:
        r = requests.post(f"{hub.url}/user/{s.name}/api/sessions", headers=auth, timeout=120,
                          json={"path": notebook, "type": "notebook", "name": Path(notebook).name,
                                "kernel": {"name": "python3"}})
        r.raise_for_status()
        kernel_id = r.json()["kernel"]["id"]
    else:
        r = requests.post(f"{hub.url}/user/{s.name}/api/kernels", headers=auth, timeout=120,
                          json={"name": "python3"})
        r.raise_for_status()
        kernel_id = r.json()["id"]
    ws_url = hub.url.replace("http://", "ws://") + f"/user/{s.name}/api/kernels/{kernel_id}/channels"
    ws = websocket.create_connection(ws_url, header=[f"Authorization: token {s.token}"], timeout=timeout)
    session_id = uuid.uuid4().hex
    html = []
    try:
        for index, source in sources:
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps({
                "header": {"msg_id": msg_id, "username": s.name, "session": session_id,
                           "msg_type": "execute_request", "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": source, "silent": False, "store_history": True,
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
                        raise RuntimeError(f"{what} cell {index}: {c.get('ename')}: {c.get('evalue')}")
                    break
    finally:
        ws.close()
    return html


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


def open_tensorboard(hub: Hub, s: Student) -> None:
    """The student opens "TensorBoard — course logs" (started on this first request)."""
    r = user_get(hub, s, "tensorboard/data/runs", s.token, timeout=300)
    if r.status_code != 200:
        raise RuntimeError(f"TensorBoard through the hub: {r.status_code}")
    s.steps.append("tensorboard")


def student_flow(hub: Hub, s: Student, link: str, lesson: str | None) -> Student:
    try:
        login(hub, s)
        start_server(hub, s)
        if lesson is None:  # the negative control: only what it needs
            open_tensorboard(hub, s)
            return s
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


#: What B's code runs on the hub, as B: every way to A's TensorBoard that does not need A's login.
PROBE = r"""
import json, os, socket, urllib.error, urllib.request
A, UID, SOCKET, HUB = {a!r}, {uid!r}, {socket!r}, {hub!r}
result = {{}}
ports = set()
for table in ("/proc/net/tcp", "/proc/net/tcp6"):  # every listening TCP socket, with its owner's uid
    try:
        rows = open(table).read().splitlines()[1:]
    except OSError:
        continue
    for row in rows:
        f = row.split()
        if f[3] == "0A" and int(f[7]) == UID:
            ports.add(int(f[1].rsplit(":", 1)[1], 16))
result["ports"] = sorted(ports)
result["tensorboard_ports"] = []
for port in sorted(ports):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{{port}}/data/runs", timeout=5) as r:
            if r.status == 200 and isinstance(json.loads(r.read()), list):
                result["tensorboard_ports"].append(port)
    except Exception:
        pass
if SOCKET:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.settimeout(10)
        s.connect(SOCKET)
        s.sendall(b"GET /data/runs HTTP/1.0\r\n\r\n")
        result["socket"] = "answered: " + s.recv(200).decode("latin-1")
    except OSError as err:
        result["socket"] = type(err).__name__
    finally:
        s.close()
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
request = urllib.request.Request(f"{{HUB}}/user/{{A}}/tensorboard/data/runs",
                                 headers={{"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]}})
try:
    result["hub"] = [urllib.request.build_opener(NoRedirect).open(request, timeout=60).status, ""]
except urllib.error.HTTPError as err:
    result["hub"] = [err.code, err.headers.get("Location", "")]
print("PROBE" + json.dumps(result))
"""


def tensorboard_processes(hub: Hub, user: str) -> list[psutil.Process]:
    """The student's TensorBoard process and its children (the data server, if any)."""
    found = []
    for p in hub.tracker.tree():
        try:
            if p.environ().get("JUPYTERHUB_USER") == user and "tensorboard" in " ".join(p.cmdline()):
                found.append(p)
        except (psutil.Error, OSError):
            pass
    return found


def socket_path(processes: list[psutil.Process]) -> str | None:
    for p in processes:
        try:
            cmd = p.cmdline()
        except psutil.Error:
            continue
        if "--host" in cmd and cmd[cmd.index("--host") + 1].startswith("unix://"):
            return cmd[cmd.index("--host") + 1][len("unix://"):]
    return None


def code_checks(hub: Hub, a: Student, b: Student) -> list[tuple[str, bool]]:
    """B's code, run as B in a kernel on B's server, against A's TensorBoard (see PROBE): ``a`` is
    the student probed, ``b`` the one whose code probes."""
    processes = tensorboard_processes(hub, a.name)
    path = socket_path(processes)
    code = PROBE.format(a=a.name, uid=pwd.getpwnam(a.name).pw_uid, socket=path, hub=hub.url)
    before = len(b.output)
    execute(hub, b, [(0, code)], "probe", timeout=300)
    [line] = [t for t in b.output[before:] if t.startswith("PROBE")]
    found = json.loads(line[len("PROBE"):])
    listening = sorted({c.laddr.port for p in processes for c in _inet_listening(p)})
    status, location = found["hub"]
    return [
        (f"{b.name}'s code -> {a.name}'s TensorBoard socket {path}: {found.get('socket', 'none')}",
         path is not None and found.get("socket") == "PermissionError"),
        (f"{b.name}'s code -> {a.name}'s TCP ports {found['ports']}: TensorBoard answers on "
         f"{found['tensorboard_ports'] or 'none'}", not found["tensorboard_ports"]),
        (f"{b.name}'s code -> {a.name}'s TensorBoard through the hub with {b.name}'s token: {status}",
         status in (401, 403) or (status in (301, 302, 303, 307, 308)
                                  and urlsplit(location).path.startswith("/hub/"))),
        (f"{a.name}'s TensorBoard ({len(processes)} processes) listens on TCP ports {listening or 'none'}",
         bool(processes) and not listening),
    ]


def _inet_listening(p: psutil.Process) -> list:
    try:
        return [c for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    except psutil.Error:
        return []


def isolation_checks(hub: Hub, students: list[Student], insecure: bool = False,
                     system_users: bool = False) -> list[tuple[str, bool]]:
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
                r = user_get(hub, b, path, token, timeout=60)
                results.append((f"{who} -> {b.name} {what}", refused(r)))
        if system_users:
            try:
                results.extend(code_checks(hub, b, a))  # b probed by a's code
            except Exception as err:  # a probe that could not run proves nothing: it fails
                results.append((f"{a.name}'s code -> {b.name}: the probe failed: {err}", False))
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
    lesson: str | None
    system_users: bool = False

    @property
    def ok(self) -> bool:
        flows = all(s.ready and not s.error and (self.lesson is None or s.lesson_ok and s.embed_ok and s.images)
                    for s in self.students)
        return flows and bool(self.checks) and all(ok for _, ok in self.checks)

    def summary(self) -> str:
        n = len(self.students)
        times = [s.first_image_s for s in self.students if s.first_image_s is not None]
        peaks = list(self.peak_mb.values()) or [0.0]  # private + shared / 30, as one server holds it
        passed = sum(ok for _, ok in self.checks)
        timing = (f"median {statistics.median(times):.1f} s, max {max(times):.1f} s" if times else "n/a")
        users = ("system users (useradd)" if self.system_users else "one OS user: the checks between "
                 "system users need root and an environment every user can read")
        lesson = Path(self.lesson).stem if self.lesson else "none"
        return (f"hub-test N={n} ({users}): students ready {sum(s.ready for s in self.students)}/{n}, "
                f"lessons run {sum(s.lesson_ok for s in self.students)}/{n} ({lesson}), "
                f"embeds through the hub {sum(s.embed_ok for s in self.students)}/{n}, "
                f"images served {sum(s.images for s in self.students)}, "
                f"isolation checks passed {passed}/{len(self.checks)} "
                f"({sum(ok for what, ok in self.checks if 'code' in what or 'listens on TCP' in what)} of them "
                f"from another student's code), "
                f"memory per student on a server of 30 (private + shared/30) median "
                f"{statistics.median(peaks):.0f} MB max {max(peaks):.0f} MB (private: "
                f"{', '.join(f'{r} {mb:.0f}' for r, mb in sorted(self.role_mb.items()))}), "
                f"login to first TensorBoard image {timing}; total {self.seconds:.0f} s "
                f"-> {'PASS' if self.ok else 'FAIL'}")


_cleanups: list = []


def _cleanup_all() -> None:
    while _cleanups:
        _cleanups.pop()()


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def run(n: int = 5, lesson: str | None = DEFAULT_LESSON, insecure: bool = False, log=print,
        keep: bool = False, system_users: bool | None = None) -> Result:
    """Start a hub, drive ``n`` students through it, check isolation, stop everything.

    ``lesson=None``: students only log in and open TensorBoard. ``system_users``: each student a
    system user (default: when running as root)."""
    start = time.monotonic()
    if system_users is None:
        system_users = can_create_users()
    tmp = Path(tempfile.mkdtemp(prefix="course-hub-"))
    tmp.chmod(0o711)  # students may open the teacher's course in it, not list or read the hub's files
    hub = None
    users = None

    def cleanup():
        if hub is not None:
            hub.tracker.stop_all()
            if hub.proc.poll() is None:
                hub.proc.wait(timeout=10)
        if users is not None:
            users.remove()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)

    _cleanups.append(cleanup)
    try:
        repo = snapshot_course(tmp / "teacher" / "course")
        subprocess.run(["chmod", "-R", "a+rX", str(tmp / "teacher")], check=True)
        tag = secrets.token_hex(3)
        names = [f"cs{tag}s{i + 1:02d}" if system_users else f"student{i + 1:03d}" for i in range(n)]
        if system_users:
            users = SystemUsers()
            _cleanups.append(users.remove)  # removed even if creating the next one fails
            for name in names:
                users.add(name)
        hub = start_hub(tmp, insecure=insecure, log=log, system_users=system_users, course=repo)
        link = nbgitpuller_link(hub.url, repo.as_uri(), "main", lesson or DEFAULT_LESSON, targetpath=TARGET)
        log(f"hub at {hub.url} (log {tmp / 'hub' / 'hub.log'}); link: {link}")
        students = [Student(name) for name in names]
        pool = ThreadPoolExecutor(max_workers=n)
        try:  # not `with`: on Ctrl+C, stop the hub first instead of waiting for the students
            for future in [pool.submit(student_flow, hub, s, link, lesson) for s in students]:
                future.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        for s in students:
            (tmp / "hub" / f"{s.name}.outputs.txt").write_text("\n".join(s.output))
            if s.error:
                log(f"  {s.name}: {s.error} (after {', '.join(s.steps) or 'nothing'})")
        hub.tracker.sample()
        checks = isolation_checks(hub, students, insecure=insecure, system_users=system_users)
        for what, ok in checks:
            if not ok:
                log(f"  isolation FAILED: {what}")
        peak = {u: p.at(30) / MB for u, p in hub.tracker.peak.items()}
        roles = {r: p.anon / MB for r, p in hub.tracker.role_peak.items()}
        return Result(students, checks, peak, roles, time.monotonic() - start, lesson, system_users)
    finally:
        for done in (cleanup, users.remove if users else None):
            if done in _cleanups:
                _cleanups.remove(done)
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
