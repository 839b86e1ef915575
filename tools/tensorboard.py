"""Start TensorBoard on the course's runs: 127.0.0.1 only, every logged step kept, a free port.

    python tools/tensorboard.py                      # what `make tensorboard` runs
    python tools/tensorboard.py --port 7006 --logdir some/other/logs

* Listens on 127.0.0.1 unless ``--host`` says otherwise; any other host gets a loud warning, because
  TensorBoard has no authentication (anyone who reaches the port sees every run).
* ``--samples_per_plugin images=N`` with N at least the most steps any run has (TensorBoard keeps only
  10 images per tag by default, so steps would vanish from the slider).
* If the port is taken (another TensorBoard?), the next free one is used and the URL says which.
* Ctrl+C stops TensorBoard and its helper process.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import signal
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

if __name__ == "tensorboard":
    # Someone put tools/ on sys.path and ran `import tensorboard`: this file was found instead of
    # the real package. Load the real one and put it in our place; the importer gets it.
    _path = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    _spec = importlib.machinery.PathFinder.find_spec("tensorboard", _path)
    if _spec is None:
        raise ImportError("The tensorboard package is not installed: run `make venv`.")
    _real = importlib.util.module_from_spec(_spec)
    sys.modules["tensorboard"] = _real
    _spec.loader.exec_module(_real)

EXPOSED_WARNING = """\
WARNING: TensorBoard will listen on {host}, not on 127.0.0.1.
         It has NO password and NO authentication: anyone who can reach this machine on port
         {port} can read every run in {logdir}. Do this only on a network you trust, and stop
         it when the class is over. To keep it private, use --host 127.0.0.1 (the default) and
         SSH port forwarding: ssh -L {port}:127.0.0.1:{port} user@this-machine
"""


def _run_folders(logdir: Path) -> list[Path]:
    if not logdir.is_dir():
        return []
    return sorted({p.parent for p in logdir.rglob("*tfevents*") if p.is_file()})


def _setup_path() -> None:
    # This file is called tensorboard.py: drop its own folder from sys.path, or `import tensorboard`
    # (inside torch.utils.tensorboard) would find this script instead of the real package.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from utils.environment import logs_dir
    from utils.tensorboard_logging import event_files
    from utils.tensorboard_server import (
        DEFAULT_PORT,
        TensorBoardError,
        find_free_port,
        is_loopback,
        port_is_free,
        start_tensorboard,
    )

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to try first (default {DEFAULT_PORT}); the next free one if taken",
    )
    parser.add_argument(
        "--logdir",
        type=Path,
        default=None,
        help="folder of runs (default: logs/, or $COURSE_LOGS_DIR)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=None,
        help="images kept per tag (default: enough for every logged step)",
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)

    def _stop(signum, frame):  # SIGTERM / SIGHUP: leave through `finally`, stopping TensorBoard
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _stop)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, _stop)

    logdir = (args.logdir or logs_dir()).resolve()
    host = args.host.strip()
    if not 0 < args.port < 65536:
        parser.error(f"--port must be between 1 and 65535, got {args.port}")

    runs = _run_folders(logdir)
    if not runs:
        print(
            f"WARNING: no TensorBoard runs in {logdir} yet. Run `make demo` first (or a lesson "
            "notebook); TensorBoard picks up new runs within a few seconds.",
            file=sys.stderr,
        )
    else:
        doubled = [r for r in runs if len(event_files(r)) > 1]
        for run in doubled:
            print(
                f"WARNING: {run.relative_to(logdir)} holds {len(event_files(run))} event files; "
                "steps will show twice. Re-run its notebook (it starts the run clean).",
                file=sys.stderr,
            )

    port = args.port
    try:
        if not port_is_free(port, host):
            port = find_free_port(port + 1, host)
            print(f"Port {args.port} is in use (another TensorBoard?); using port {port} instead.")
    except (OSError, ValueError) as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 2

    if not is_loopback(host):
        print(EXPOSED_WARNING.format(host=host, port=port, logdir=logdir), file=sys.stderr)

    print(f"Starting TensorBoard on {logdir} (runs found: {len(runs)}) ...", flush=True)
    try:
        server = start_tensorboard(logdir, host=host, port=port, samples=args.samples, timeout=120)
    except TensorBoardError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1

    samples = server.command[server.command.index("--samples_per_plugin") + 1]
    print(
        f"\nTensorBoard is running (process id {server.pid}, keeps {samples} per tag). Open:"
        f"\n\n    {server.url}#images\n"
        "\nPress Ctrl+C to stop it.",
        flush=True,
    )
    try:
        return server.process.wait()
    except KeyboardInterrupt:
        print("\nStopping TensorBoard ...")
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    _setup_path()
    sys.exit(main())
