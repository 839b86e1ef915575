"""Start and stop a TensorBoard server from Python: free ports, readiness, clean shutdown.

Conventions
-----------
* The server listens on ``127.0.0.1`` unless told otherwise. TensorBoard has no authentication:
  any other host (``0.0.0.0``, a LAN address, ``--bind_all``) lets anyone who can reach the machine
  read every run. ``is_loopback(host)`` says whether a host stays on this machine.
* The server is started with the same arguments as ``make tensorboard``
  (``utils.tensorboard_logging.tensorboard_args``): ``--samples_per_plugin images=N`` with N at least
  the number of steps logged, so no step is lost to TensorBoard's sampling (it keeps 10 by default).
* It runs as ``python -m tensorboard.main`` in a new process group (a new session on POSIX). TensorBoard
  may start a helper process (its Rust data server); ``stop_process_group(pid)`` ends the whole group,
  so nothing is left listening after a test or after Ctrl+C.
* ``/data/runs`` is the HTTP endpoint the page itself asks first; the server counts as ready when it
  answers there with JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

#: Hosts that keep the server on this machine.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_PORT = 6006

# Talk to the local server directly, whatever http_proxy says.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class TensorBoardError(RuntimeError):
    """TensorBoard did not start, or did not answer in time; the message quotes its output."""


def is_loopback(host: str) -> bool:
    """True for hosts that only this machine can reach (``127.0.0.1``, ``localhost``, ``::1``)."""
    return host.strip().lower().strip("[]") in LOOPBACK_HOSTS


def _check_port(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port must be an int between 1 and 65535, got {port!r}.")
    return port


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if a server could listen on ``host:port`` right now.

    Binds a socket with ``SO_REUSEADDR`` (as servers do, so a port whose old connections linger in
    TIME_WAIT counts as free) and closes it at once.
    """
    _check_port(port)
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise ValueError(f"Unknown host {host!r}: {err}. Use 127.0.0.1 (the default).") from None
    family, socktype, proto, _, address = infos[0]
    with socket.socket(family, socktype, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError:
            return False
    return True


def find_free_port(start: int = DEFAULT_PORT, host: str = "127.0.0.1", attempts: int = 100) -> int:
    """The first port from ``start`` upward (at most ``attempts`` ports) that is free on ``host``.

    Raises ``OSError`` naming the range when every port in it is taken.
    """
    _check_port(start)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise ValueError(f"attempts must be a positive int, got {attempts!r}.")
    stop = min(start + attempts, 65536)
    for port in range(start, stop):
        if port_is_free(port, host):
            return port
    raise OSError(
        f"No free port between {start} and {stop - 1} on {host}. Stop the servers that use them "
        "(an old TensorBoard? `ps aux | grep tensorboard`) or pass another port, e.g. --port 7006."
    )


def ephemeral_port(host: str = "127.0.0.1") -> int:
    """A port the operating system says is free now (for tests: no clash with a user's 6006)."""
    infos = socket.getaddrinfo(host.strip("[]"), 0, type=socket.SOCK_STREAM)
    family, socktype, proto, _, address = infos[0]
    with socket.socket(family, socktype, proto) as sock:
        sock.bind(address)
        return sock.getsockname()[1]


def url_host(host: str) -> str:
    """``host`` as it goes into a URL (IPv6 addresses in brackets)."""
    host = host.strip("[]")
    return f"[{host}]" if ":" in host else host


# -- processes --------------------------------------------------------------------------------
def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # our own exited child would linger as a zombie otherwise


def stop_process_group(
    pid: int, timeout: float = 10.0, reap: Callable[[], object] | None = None
) -> bool:
    """End the process ``pid`` and its process group: SIGTERM, then SIGKILL after ``timeout`` s.

    ``pid`` must lead its own group (``start_tensorboard`` arranges that). Waits until no process
    of the group is left. ``reap`` collects the exited leader (default ``os.waitpid``; pass
    ``popen.poll`` for a ``subprocess.Popen``). Returns True if something was running. Safe to
    call twice or on a process that already exited.
    """
    reap = reap or (lambda: _reap(pid))
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    if not _wait_group_gone(pid, reap, timeout):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        if not _wait_group_gone(pid, reap, 10.0):
            raise TensorBoardError(f"Process group {pid} survived SIGKILL; check `ps -g {pid}`.")
    return True


def _wait_group_gone(pid: int, reap: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        reap()
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


class TensorBoardServer:
    """A running TensorBoard (see ``start_tensorboard``). Use as a context manager, or call
    ``stop()``; both end the whole process group."""

    def __init__(
        self,
        process: subprocess.Popen,
        host: str,
        port: int,
        logdir: Path,
        command: list[str],
        output_path: Path | None,
    ):
        self.process = process
        self.pid = process.pid
        self.host, self.port, self.logdir = host, port, logdir
        self.command = command
        self.output_path = output_path

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:6006/``."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # "any" is not a URL
        return f"http://{url_host(host)}:{self.port}/"

    def output(self) -> str:
        """What TensorBoard printed so far (only when started with ``output=...``)."""
        if self.output_path is None or not self.output_path.exists():
            return ""
        return self.output_path.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def get(self, path: str, params: dict | None = None, timeout: float = 10.0) -> bytes:
        """GET ``path`` (e.g. ``"data/runs"``) with query ``params``; raises on HTTP errors."""
        url = self.url + path.lstrip("/")
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        with _OPENER.open(url, timeout=timeout) as response:
            return response.read()

    def get_json(self, path: str, params: dict | None = None, timeout: float = 10.0):
        return json.loads(self.get(path, params, timeout))

    def wait_until_ready(self, timeout: float = 60.0) -> list[str]:
        """Poll ``/data/runs`` until it answers; return the runs it lists.

        Raises ``TensorBoardError`` with TensorBoard's output if the process exits or ``timeout``
        seconds pass.
        """
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if not self.running():
                raise TensorBoardError(
                    f"TensorBoard exited with code {self.process.returncode} before answering.\n"
                    f"command: {' '.join(self.command)}\n{self.output()[-3000:]}"
                )
            try:
                return self.get_json("data/runs", timeout=2.0)
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError) as err:
                last_error = err
            time.sleep(0.2)
        raise TensorBoardError(
            f"TensorBoard did not answer at {self.url}data/runs within {timeout:.0f} s "
            f"(last error: {last_error}).\n{self.output()[-3000:]}"
        )

    def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition"
    ) -> None:
        """Poll ``predicate()`` (TensorBoard loads event files in the background) until it holds."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return
            if not self.running():
                raise TensorBoardError(
                    f"TensorBoard exited while waiting for {what}.\n{self.output()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise TensorBoardError(f"Timed out after {timeout:.0f} s waiting for {what}.")
            time.sleep(0.25)

    def stop(self, timeout: float = 10.0) -> None:
        """End TensorBoard and its helper processes (by process group); safe to call twice."""
        stop_process_group(self.pid, timeout, reap=self.process.poll)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)

    def __enter__(self) -> TensorBoardServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running() else f"exited {self.process.returncode}"
        return f"TensorBoardServer(pid={self.pid}, url={self.url!r}, {state})"


def tensorboard_command(
    logdir: str | Path,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    samples: int | None = None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The command line ``make tensorboard`` runs: this Python, ``-m tensorboard.main``, and
    ``tensorboard_args`` with ``host`` put in (and ``samples`` if given)."""
    from utils.tensorboard_logging import tensorboard_args

    args = tensorboard_args(logdir, port)
    args[args.index("--host") + 1] = host
    if samples is not None:
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise ValueError(
                f"samples must be a positive int (images kept per tag), got {samples!r}."
            )
        args[args.index("--samples_per_plugin") + 1] = f"images={samples}"
    return [sys.executable, "-m", "tensorboard.main", *args, *extra_args]


def start_tensorboard(
    logdir: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    samples: int | None = None,
    extra_args: Iterable[str] = (),
    output: str | Path | None = None,
    wait: bool = True,
    timeout: float = 60.0,
) -> TensorBoardServer:
    """Start TensorBoard on ``logdir`` in its own process group and (by default) wait until it answers.

    ``port=None`` takes a free port from the operating system. ``output`` is a file for TensorBoard's
    own messages (``None``: they go to this terminal). Stop it with ``server.stop()`` or a ``with``
    block. Raises ``TensorBoardError`` (with TensorBoard's output) if it does not come up.
    """
    logdir = Path(logdir).resolve()
    chosen = ephemeral_port(host) if port is None else _check_port(port)
    command = tensorboard_command(logdir, host, chosen, samples, tuple(extra_args))
    output_path = Path(output) if output is not None else None
    sink = open(output_path, "wb") if output_path is not None else None  # noqa: SIM115
    try:
        kwargs: dict = {"stdin": subprocess.DEVNULL}
        if sink is not None:
            kwargs.update(stdout=sink, stderr=subprocess.STDOUT)
        if os.name == "nt":  # pragma: no cover
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            kwargs["start_new_session"] = True
        process = subprocess.Popen(command, **kwargs)
    finally:
        if sink is not None:
            sink.close()  # the child keeps its own handle
    server = TensorBoardServer(process, host, chosen, logdir, command, output_path)
    if wait:
        try:
            server.wait_until_ready(timeout)
        except BaseException:
            server.stop()
            raise
    return server
