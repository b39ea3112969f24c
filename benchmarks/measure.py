"""Run a command as a child process and measure its wall time and peak memory.

Peak memory is the larger of the child's maximum resident set size as the kernel reports it at ``wait4``
(the largest single process) and the largest sum of resident memory over the child and all its
descendants, sampled every 0.2 s (so worker processes count together). The memory guard watches
that sum too.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measured:
    returncode: int
    seconds: float
    max_rss_bytes: int
    log: Path
    timed_out: bool = False
    memory_killed: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.memory_killed

    @property
    def max_rss_mb(self) -> float:
        return self.max_rss_bytes / 1024 ** 2

    def tail(self, n: int = 3) -> str:
        try:
            lines = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return ""
        return " / ".join(lines[-n:])[-400:]


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (worker processes count too)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _rss_bytes(p)
        todo.extend(children.get(p, []))
    return total


def run_measured(cmd: list[str], log: Path, cwd: Path | None = None, timeout: float | None = None,
                 env: dict[str, str] | None = None, memory_limit_mb: float | None = None) -> Measured:
    """Run ``cmd`` (stdout and stderr to ``log``); returns its exit code, wall seconds and max RSS.

    ``memory_limit_mb``: kill the child when its resident memory exceeds this (checked every 0.2 s), so a
    runaway run cannot push the shared machine into the kernel's OOM killer.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    timed_out = threading.Event()
    mem_killed = threading.Event()
    with open(log, "w") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, stdout=fh, stderr=subprocess.STDOUT,
                                env=env, stdin=subprocess.DEVNULL)
        timer = None
        if timeout:
            def kill():
                timed_out.set()
                proc.kill()
            timer = threading.Timer(timeout, kill)
            timer.start()
        done = threading.Event()
        tree_peak = [0]

        def watch():
            while not done.wait(0.2):
                rss = _tree_rss_bytes(proc.pid)
                tree_peak[0] = max(tree_peak[0], rss)
                if memory_limit_mb and rss > memory_limit_mb * 1024 ** 2:
                    mem_killed.set()
                    proc.kill()
                    return
        threading.Thread(target=watch, daemon=True).start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            done.set()
            if timer:
                timer.cancel()
        seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if mem_killed.is_set():
        with open(log, "a") as fh:
            fh.write(f"\nkilled by the benchmark: resident memory above {memory_limit_mb:,.0f} MB\n")
    return Measured(proc.returncode, seconds, max(int(usage.ru_maxrss) * 1024, tree_peak[0]), log,
                    timed_out.is_set(), mem_killed.is_set())
