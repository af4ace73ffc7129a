"""One target `bench.scale` serves (the product or the floor): its processes, and what
/proc says they hold and use (listening and established sockets, RSS, CPU, run-queue wait).
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from bench.procs import Proc, cpu_seconds
from bench.scale_ledger import tcp_inodes, vmrss_kib

STOP_GRACE_S = 45.0  # make serve lets websockets close and Celery tasks finish (config.serve)


@dataclass
class Platform:
    """One served target (the product or the floor): its processes and its port."""

    target: str
    port: int
    procs: list[Proc]
    web_root: Proc  # the process whose descendants serve HTTP and /ws/
    shape: str
    argv: list[str]
    startup_s: float

    def tree(self) -> list[int]:
        """Every live process started for this target, children included."""
        roots = [p.popen.pid for p in self.procs]
        return _descendants(roots)

    def web_pids(self) -> list[int]:
        """The web processes: those holding the listening socket, less a supervisor that
        only hands it on to its children (uvicorn --workers)."""
        listening, _ = tcp_inodes(_proc_net_tcp(), self.port)
        tree = _descendants([self.web_root.popen.pid])
        holders = {pid for pid in tree if _inodes(pid) & listening}
        parents = {_parent(pid) for pid in holders}
        return sorted(pid for pid in holders if pid not in parents)

    def other_pids(self) -> list[int]:
        web = set(self.web_pids())
        return [pid for pid in self.tree() if pid not in web]

    def sockets_by_pid(self) -> dict[int, int]:
        """Established connections each web process holds on the served port."""
        _, established = tcp_inodes(_proc_net_tcp(), self.port)
        return {pid: len(_inodes(pid) & established) for pid in self.web_pids()}

    def rss_by_pid(self) -> dict[int, int]:
        rss: dict[int, int] = {}
        for pid in self.web_pids():
            with contextlib.suppress(OSError):
                value = vmrss_kib(Path(f"/proc/{pid}/status").read_text())
                if value is not None:
                    rss[pid] = value
        return rss

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of the web processes and of the rest (Celery, beat)."""
        return {
            "web": sum(cpu_seconds(pid) or 0.0 for pid in self.web_pids()),
            "other": sum(cpu_seconds(pid) or 0.0 for pid in self.other_pids()),
        }

    def run_queue_wait(self) -> float:
        """Seconds the web processes' threads have spent ready to run but waiting for a CPU
        (/proc/<pid>/task/<tid>/schedstat): on a shared machine, the others' share."""
        waited_ns = 0
        for pid in self.web_pids():
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    with contextlib.suppress(OSError, IndexError, ValueError):
                        waited_ns += int((task / "schedstat").read_text().split()[1])
        return waited_ns / 1e9

    def alive(self) -> bool:
        return all(p.alive() for p in self.procs)

    def log_problems(self) -> list[str]:
        return [f"{p.name}: {line}" for p in self.procs for line in p.log_problems()][:30]

    def stop(self) -> None:
        """Stop every process; children a supervisor put in groups of their own too."""
        tree = self.tree()
        for proc in reversed(self.procs):
            proc.stop(grace=STOP_GRACE_S)
        for pid in tree:
            if Path(f"/proc/{pid}").exists():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)


def _descendants(roots: list[int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(stat[1]), []).append(int(entry.name))
    found: list[int] = []
    pending = [pid for pid in roots if Path(f"/proc/{pid}").exists()]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _inodes(pid: int) -> set[str]:
    """Socket inodes among a process's open files."""
    found: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    found.add(target[8:-1])
    return found


def _proc_net_tcp() -> str:
    return Path("/proc/net/tcp").read_text()
