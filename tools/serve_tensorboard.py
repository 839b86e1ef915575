"""Start TensorBoard on the course's runs: 127.0.0.1 only, every logged step kept (`make tensorboard`).

    python tools/serve_tensorboard.py                       # logs/ on the first free port from 6006
    python tools/serve_tensorboard.py --run logs_maxpool    # only that run (make tensorboard RUN=...)
    python tools/serve_tensorboard.py --run "logs_maxpool logs_avgpool"
    python tools/serve_tensorboard.py --port 7006 --logdir "some/other logs"

TensorBoard does the work: without ``--port`` it tries 6006 and searches upward for a free port
(``--port default``), prints its URL and stops on Ctrl+C. This script adds what the course needs:
the loopback default, a loud warning for any other host (TensorBoard has no authentication), enough
``--samples_per_plugin`` images for every step, and warnings about empty logs or doubled runs.
``--run`` shows only the runs a class needs: TensorBoard then reads a temporary folder of links to
them (a "symlink tree", as TensorBoard's own ``--logdir_spec`` help recommends), removed when it stops.
``start``/``stop`` run it in the background for tests, through ``tensorboard.manager``.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import ipaddress
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from utils.environment import logs_dir  # noqa: E402
from utils.tensorboard_logging import event_files, tensorboard_args  # noqa: E402

EXPOSED_WARNING = """\
WARNING: TensorBoard will listen on {host}, not on 127.0.0.1.
         It has NO password and NO authentication: anyone who can reach this machine on that
         port can read every run in {logdir}. Do this only on a network you trust, and stop
         it when the class is over. To keep it private, use --host 127.0.0.1 (the default) and
         SSH port forwarding: ssh -L 6006:127.0.0.1:6006 user@this-machine
"""


def is_loopback(host: str) -> bool:
    """True for hosts only this machine can reach (``127.0.0.1``, ``localhost``, ``::1``)."""
    host = host.strip().strip("[]").lower()
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: Images kept per tag and run: every step of the original lesson's CIFAR-10 loop (157), with room.
SAMPLES = "images=1000"


def server_args(logdir: Path, host: str = "127.0.0.1", port: int | None = None) -> list[str]:
    args = tensorboard_args(logdir, port)
    args[args.index("--host") + 1] = host
    args[args.index("--samples_per_plugin") + 1] = SAMPLES
    return args


def find_runs(logdir: Path) -> list[str]:
    """The runs in ``logdir`` (folders holding event files), as TensorBoard names them."""
    if not logdir.is_dir():
        return []
    return sorted({p.parent.relative_to(logdir).as_posix() for p in logdir.rglob("*tfevents*")})


def chosen_runs(logdir: Path, wanted: list[str]) -> list[str]:
    """The run names in ``wanted`` (each may hold several, split at spaces or commas), each checked
    against ``logdir``; ``SystemExit`` with the runs there and a command that works, otherwise."""
    names = [n for w in wanted for n in re.split(r"[\s,]+", w) if n]
    runs = find_runs(logdir)
    missing = [n for n in names if n.strip("/") not in runs]
    if missing:
        there = ", ".join(runs) or "none yet: run `make demo` or a lesson notebook first"
        close = difflib.get_close_matches(missing[0], runs, n=1) or runs[:1]
        example = f"\nFor example: make tensorboard RUN={close[0]}" if close else ""
        raise SystemExit(f"No run named {', '.join(map(repr, missing))} in {logdir}.\n"
                         f"The runs there: {there}.{example}")
    return [n.strip("/") for n in dict.fromkeys(names)]


def link_runs(logdir: Path, runs: list[str]) -> Path:
    """A temporary folder holding a link to each run (its name kept): TensorBoard shows only those."""
    folder = Path(tempfile.mkdtemp(prefix="course-tensorboard-"))
    try:
        for run in runs:
            link = folder / run
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(logdir / run, target_is_directory=True)
    except OSError as error:  # e.g. Windows without the right to make links
        shutil.rmtree(folder, ignore_errors=True)
        raise SystemExit(f"Cannot make links to the runs here ({error}). Start TensorBoard without "
                         "RUN= and type the run's name into the runs filter on its left.") from error
    return folder


def start(logdir: str | Path, *, port: int | None = None, timeout: float = 90):
    """TensorBoard on ``logdir`` in the background (127.0.0.1); returns its ``TensorBoardInfo``
    (``.port``, ``.pid``), or raises ``RuntimeError`` quoting TensorBoard's own output."""
    from tensorboard import manager

    beside = Path(sys.executable).with_name("tensorboard")  # the one in this virtualenv
    if beside.exists():
        os.environ.setdefault("TENSORBOARD_BINARY", str(beside))
    result = manager.start(server_args(Path(logdir), port=port),
                           timeout=datetime.timedelta(seconds=timeout))
    if isinstance(result, manager.StartLaunched | manager.StartReused):
        return result.info
    raise RuntimeError(f"TensorBoard did not start: {result}")


def stop(info, timeout: float = 10) -> None:
    """Stop a TensorBoard started by ``start`` (its data server exits with it)."""
    try:
        os.kill(info.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(info.pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:  # not our child: poll until it is gone
            try:
                os.kill(info.pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.1)
    os.kill(info.pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=None,
                        help="port (default: 6006, or the next free one)")
    parser.add_argument("--logdir", type=Path, default=None,
                        help="folder of runs (default: logs/, or $COURSE_LOGS_DIR)")
    parser.add_argument("--run", action="append", default=[],
                        help="show only this run (repeat it, or separate names with spaces or commas); "
                             "default: every run in the folder")
    args = parser.parse_args(argv)
    logdir = (args.logdir or logs_dir()).resolve()
    names = chosen_runs(logdir, args.run) if args.run else find_runs(logdir)
    if not names:
        print(f"WARNING: no TensorBoard runs in {logdir} yet. Run `make demo` first (or a lesson "
              "notebook); TensorBoard picks up new runs within a few seconds.", file=sys.stderr)
    for run in names:
        if len(event_files(logdir / run)) > 1:
            print(f"WARNING: {run} holds {len(event_files(logdir / run))} event files; "
                  "TensorBoard shows each step from the newest file but keeps tags only older files have "
                  "(with --load_fast=false, scalar points twice). Re-run its notebook (it starts the run clean).",
                  file=sys.stderr)
    if not is_loopback(args.host):
        print(EXPOSED_WARNING.format(host=args.host, logdir=logdir), file=sys.stderr)

    from tensorboard import program

    served = link_runs(logdir, names) if args.run else logdir
    if args.run:
        print(f"Showing only {', '.join(names)} (from {logdir}).", file=sys.stderr)
    try:
        board = program.TensorBoard()
        board.configure(argv=["tensorboard", *server_args(served, args.host.strip(), args.port)])
        return board.main()
    finally:
        if served != logdir:
            shutil.rmtree(served, ignore_errors=True)  # the links only, never the runs


if __name__ == "__main__":
    sys.exit(main())
