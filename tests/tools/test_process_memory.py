"""tools/process_memory.py: private and shared pages as Linux reports them, and the class arithmetic.

A child process allocates anonymous memory, then maps a file: the reading must move the bytes into the right
part, within what the OS rounds to pages. The expected sizes are what the child allocated, not our output.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import process_memory  # noqa: E402

MB = 10**6
CHILD = r"""
import mmap, sys
anon = bytearray(80 * 10**6)                      # zero pages are not resident until written
for i in range(0, len(anon), 4096): anon[i] = 1
print("anon", flush=True); sys.stdin.readline()
f = open(sys.argv[1], "rb"); m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
total = sum(m[i] for i in range(0, len(m), 4096))  # touch every page of the file
print("file", flush=True); sys.stdin.readline()
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc only")
def test_private_and_shared_pages_are_told_apart(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"\x01" * (60 * MB))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(data)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "anon"
        before = process_memory.read(child.pid)
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "file"
        after = process_memory.read(child.pid, with_pss=True)
    finally:
        child.kill()
        child.wait()
    assert before.anon >= 80 * MB  # the written bytearray is private
    assert after.file - before.file >= 55 * MB  # the mapped file is shared (page cache)
    assert abs(after.anon - before.anon) < 20 * MB  # reading a file mapping does not copy it
    assert after.rss == pytest.approx(after.anon + after.file, abs=2 * MB)
    assert after.peak_rss >= after.rss
    assert after.pss is not None and after.pss <= after.rss + MB
    with pytest.raises(process_memory.psutil.NoSuchProcess):
        process_memory.read(child.pid)


def test_a_class_counts_shared_pages_once():
    m = process_memory.Memory(rss=700 * MB, anon=300 * MB, file=400 * MB)
    assert m.at(1) == 700 * MB  # alone: its RSS
    assert m.at(30) == 300 * MB + 400 * MB / 30
    # n students: n private copies plus one shared copy
    assert 30 * m.at(30) == pytest.approx(30 * m.anon + m.file)


def test_a_peak_is_taken_over_the_group_at_each_sample():
    peak = process_memory.Peak()
    a = process_memory.Memory(rss=10, anon=6, file=4)
    b = process_memory.Memory(rss=20, anon=5, file=15)
    peak.add([a, b])
    peak.add([a])
    assert (peak.rss, peak.anon, peak.file) == (30, 11, 19)
    assert peak.at(19) == 11 + 1


def test_sizing_table_is_private_times_n_plus_shared_once():
    sys.path.insert(0, str(ROOT / "tools"))
    import measure_class_budget

    rows = measure_class_budget.sizing_table(private=0.5e9, shared=0.7e9, hub=0.2e9, active=1 / 3)
    assert rows[2] == "| 30 | 16 GB | 6 GB (10 active) |"  # 30×0.5+0.7+0.2 = 15.9; 10×0.5+0.9 = 5.9
    assert rows[3].startswith("| 100 | 51 GB |")
