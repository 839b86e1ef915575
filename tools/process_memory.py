"""Memory of a process as one server sees it: private pages, and shared file pages counted once.

    python tools/process_memory.py PID [PID ...]     # one line per process, MB = 10**6 bytes

Summing RSS over students overstates a class: about 500–600 MB of every kernel's RSS is torch's (and the
CUDA libraries') code and data read from files, one copy in the page cache for the whole server. Linux
reports the parts separately in ``/proc/PID/status``:

* ``RssAnon``: anonymous pages (the heap, tensors, Python objects, copy-on-write copies of library data).
  No other process shares them: this is what really grows with every student (= USS once two processes
  map the same libraries).
* ``RssFile`` (+ ``RssShmem``): pages of files (``.so`` libraries, fonts) in the page cache, shared by
  every process that maps the same file.

So a student on a server with ``n`` students costs ``anon + file / n`` (the PSS they would have if all
``n`` ran the same code from one shared environment, as TLJH's one user environment or pods of one image on
one node do), and a class of ``n`` costs ``n × anon + file``: private memory per student, shared memory
once. ``/proc/PID/smaps_rollup``'s ``Pss`` is the same division by the processes mapping each page at that
moment; it is reported too, but it changes with whatever else runs on the machine.

Linux only (``/proc``); elsewhere :func:`read` falls back to psutil's RSS with ``file = 0`` (on the safe side).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import psutil

MB = 1e6


@dataclass(frozen=True)
class Memory:
    """One reading of one process, in bytes."""

    rss: int
    anon: int  # private: grows with every student
    file: int  # shared file pages (RssFile + RssShmem): one copy per server
    peak_rss: int = 0  # VmHWM: the kernel's exact high-water mark of RSS
    pss: int | None = None  # smaps_rollup Pss at the time of reading (machine-dependent)

    def at(self, n: int) -> float:
        """Bytes this process costs a server that runs ``n`` copies of it: ``anon + file / n``."""
        return self.anon + self.file / max(n, 1)


def read(pid: int, with_pss: bool = False) -> Memory:
    """The memory of process ``pid`` (raises psutil.NoSuchProcess when it is gone)."""
    try:
        fields = {}
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                    fields[key] = int(value.split()[0]) * 1024
    except FileNotFoundError as e:
        raise psutil.NoSuchProcess(pid) from e
    except OSError:  # not Linux: no split, so charge everything as private
        rss = psutil.Process(pid).memory_info().rss
        return Memory(rss=rss, anon=rss, file=0, peak_rss=rss)
    pss = None
    if with_pss:
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
                pss = next(int(line.split()[1]) * 1024 for line in f if line.startswith("Pss:"))
        except (OSError, StopIteration):
            pss = None
    return Memory(rss=fields.get("VmRSS", 0), anon=fields.get("RssAnon", 0),
                  file=fields.get("RssFile", 0) + fields.get("RssShmem", 0),
                  peak_rss=fields.get("VmHWM", 0), pss=pss)


@dataclass
class Peak:
    """Peaks of a group of processes (one role of one student), summed over the group at each sample."""

    rss: int = 0
    anon: int = 0
    file: int = 0

    def add(self, readings: list[Memory]) -> None:
        """One sample: the group's processes read at the same moment."""
        rss = sum(m.rss for m in readings)
        anon = sum(m.anon for m in readings)
        file = sum(m.file for m in readings)
        self.rss, self.anon, self.file = max(self.rss, rss), max(self.anon, anon), max(self.file, file)

    def at(self, n: int) -> float:
        """Peak bytes per copy on a server running ``n`` copies (peak anon + peak file / n: safe side)."""
        return self.anon + self.file / max(n, 1)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    print(f"{'pid':>8} {'RSS':>8} {'private':>8} {'shared':>8} {'PSS now':>8} {'@30':>8}   (MB)")
    for pid in map(int, argv):
        m = read(pid, with_pss=True)
        pss = f"{m.pss / MB:8.0f}" if m.pss is not None else f"{'-':>8}"
        print(f"{pid:>8} {m.rss / MB:8.0f} {m.anon / MB:8.0f} {m.file / MB:8.0f} {pss} {m.at(30) / MB:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
