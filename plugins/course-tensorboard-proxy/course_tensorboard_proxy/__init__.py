"""'TensorBoard — course logs' for jupyter-server-proxy: each student's own TensorBoard at
``<their server>/tensorboard/``, behind the hub's (or Jupyter's) login, and reachable no other way.

jupyter-server-proxy starts it on the first request, on the student's course ``logs/`` folder, with
enough image samples for every step. Installed TensorBoard plugins (e.g. the course's pair viewer) load
automatically. It listens on a **Unix socket**, not a TCP port: jupyter-server-proxy (``unix_socket:
True``) makes a new folder with ``tempfile.mkdtemp`` (mode 0700, owned by the student) and proxies to
``<folder>/socket``; the socket itself is its owner's only (umask 077). On one machine (TLJH) every user shares
127.0.0.1, so a TensorBoard on a loopback port is open to every other student's code; a socket in a folder
only its owner can open is not (``make hub-test`` checks it with real system users). TensorBoard 2.21's
own command line cannot serve on a socket (it formats the URL as ``%d`` of a port and writes its info
file with that port), and its default loader starts a data server on a loopback TCP port (gRPC,
readable by anyone on the machine), so it runs with ``--load_fast=false`` and ``python -m course_tensorboard_proxy`` serves it through TensorBoard's public
``program.TensorBoard(server_class=...)`` API with a ``program.WerkzeugServer`` subclass.

Set ``COURSE_TENSORBOARD_TCP=1`` (and on Windows, which has no Unix sockets here, always) to get the
old behaviour: TensorBoard on 127.0.0.1 at a free port.

Which ``logs/``: ``$COURSE_LOGS_DIR`` if set (the course's own override), else ``<course>/logs`` for the
first folder under the server's working folder (the student's home on a hub) that holds the course
(``utils/environment.py``; nbgitpuller puts it in ``~/pytorch-pooling-dropout-tensorboard``), else
``./logs``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Image steps TensorBoard keeps per tag (its default, 10, drops most of a lesson's steps).
IMAGE_SAMPLES = int(os.environ.get("COURSE_TENSORBOARD_IMAGE_SAMPLES", "1000"))
TITLE = "TensorBoard — course logs"


def course_logs_dir(start: Path | None = None) -> Path:
    """The folder TensorBoard should read (see the module docstring)."""
    override = os.environ.get("COURSE_LOGS_DIR")
    if override:
        return Path(override).expanduser().resolve()
    start = Path(start or Path.cwd())
    for candidate in [start, *sorted(p for p in start.iterdir() if p.is_dir())] if start.is_dir() else []:
        if (candidate / "utils" / "environment.py").is_file():
            return candidate / "logs"
    return start / "logs"


def use_tcp() -> bool:
    """TCP on 127.0.0.1 instead of a Unix socket: on Windows, or when COURSE_TENSORBOARD_TCP is set."""
    return os.name == "nt" or os.environ.get("COURSE_TENSORBOARD_TCP", "") not in ("", "0")


def command(port: int, unix_socket: str = "") -> list[str]:
    logs = course_logs_dir()
    logs.mkdir(parents=True, exist_ok=True)  # TensorBoard then picks up runs written later
    common = ["--logdir", str(logs), "--samples_per_plugin", f"images={IMAGE_SAMPLES}"]
    if unix_socket:  # --load_fast=false: the fast loader's data server would listen on a loopback port
        return [sys.executable, "-m", "course_tensorboard_proxy", "--host", f"unix://{unix_socket}",
                "--load_fast=false", *common]
    return [sys.executable, "-m", "tensorboard.main", "--host", "127.0.0.1", "--port", str(port), *common]


def setup_tensorboard() -> dict:
    """The ``jupyter_serverproxy_servers`` entry point: a server process description."""
    entry = {
        "command": command,
        "timeout": 120,  # TensorBoard's first start imports a lot; a busy class server is slow
        "launcher_entry": {"title": TITLE, "category": "Other"},
        "new_browser_tab": True,
    }
    if not use_tcp():
        entry["unix_socket"] = True  # a socket in a new 0700 folder (jupyter-server-proxy's mkdtemp)
    return entry


def serve_on_unix_socket(argv: list[str]) -> None:
    """TensorBoard with ``argv`` (``--host unix:///path/socket`` among them) until SIGTERM/SIGINT."""
    import argparse
    import signal
    import threading

    from tensorboard import default, program

    class UnixSocketServer(program.WerkzeugServer):
        def __init__(self, wsgi_app, flags):
            self.socket_path = flags.host[len("unix://"):]
            folder = Path(self.socket_path).parent
            if folder.stat().st_uid != os.getuid() or folder.stat().st_mode & 0o077:
                raise SystemExit(f"{folder} must be a folder only you can open (mode 0700): "
                                 "other users could reach TensorBoard through it.")
            # werkzeug binds AF_UNIX for a unix:// host and ignores the port; TensorBoard wants an int
            super().__init__(wsgi_app, argparse.Namespace(**{**vars(flags), "port": flags.port or 0}))

        def get_url(self) -> str:
            return f"unix://{self.socket_path}"

    old_umask = os.umask(0o077)  # the socket file: its owner only
    try:
        tensorboard = program.TensorBoard(plugins=default.get_plugins(), server_class=UnixSocketServer)
        tensorboard.configure(argv=["tensorboard", *argv])
        url = tensorboard.launch()
    finally:
        os.umask(old_umask)
    print(f"TensorBoard serving on {url}", file=sys.stderr, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
