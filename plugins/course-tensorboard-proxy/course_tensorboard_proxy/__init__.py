"""'TensorBoard — course logs' for jupyter-server-proxy: each student's own TensorBoard at
``<their server>/tensorboard/``, behind the hub's (or Jupyter's) login.

jupyter-server-proxy starts it on the first request: TensorBoard on 127.0.0.1 at a free port it picks,
on the student's course ``logs/`` folder, with enough image samples for every step. Installed TensorBoard
plugins (e.g. the course's pair viewer) load automatically. Nothing listens beyond loopback.

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


def command(port: int) -> list[str]:
    logs = course_logs_dir()
    logs.mkdir(parents=True, exist_ok=True)  # TensorBoard then picks up runs written later
    return [sys.executable, "-m", "tensorboard.main", "--logdir", str(logs), "--host", "127.0.0.1",
            "--port", str(port), "--samples_per_plugin", f"images={IMAGE_SAMPLES}"]


def setup_tensorboard() -> dict:
    """The ``jupyter_serverproxy_servers`` entry point: a server process description."""
    return {
        "command": command,
        "timeout": 120,  # TensorBoard's first start imports a lot; a busy class server is slow
        "launcher_entry": {"title": TITLE, "category": "Other"},
        "new_browser_tab": True,
    }
