"""Child processes in their own process groups, always stopped, plus small waits."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
# A leading "2026-01-01 12:00:00,123 " (or "[2026-01-01 12:00:00,123: ") timestamp.
_LOG_STAMP = re.compile(r"^\[?\d{4}-\d\d-\d\d[ T][\d:,.]+:?\s*")


class BenchSetupError(RuntimeError):
    """The bench could not prepare what it measures (not a measurement result)."""


class Proc:
    """One long-running child in its own session; `stop()` ends its whole group."""

    _live: list[Proc] = []

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.popen = subprocess.Popen(  # noqa: S603 - argv is built here, no shell
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pgid = self.popen.pid  # leader of its new session and process group
        Proc._live.append(self)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_problems(self) -> list[str]:
        """Error records and the exception line ending each traceback, counted, in order."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return []
        found: Counter[str] = Counter()
        in_traceback = False
        for line in lines:
            if line.startswith("Traceback (most recent call last)"):
                in_traceback = True
            elif in_traceback and line and not line[0].isspace():
                if not line.startswith(("During handling", "The above exception")):
                    found[line[:300]] += 1
                    in_traceback = False
            elif any(mark in line for mark in (" ERROR ", " CRITICAL ", "[ERROR", "ERROR:")):
                found[_LOG_STAMP.sub("", line)[:300]] += 1
        return [f"{count}x {text}" for text, count in found.items()]

    def stop(self, grace: float = 8.0) -> None:
        """SIGTERM the group, wait up to `grace` seconds, then SIGKILL what is left."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _group_exists(self.pgid):
            self.popen.poll()  # reap the leader so the group can empty
            time.sleep(0.1)
        if _group_exists(self.pgid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)
        self._log.close()
        if self in Proc._live:
            Proc._live.remove(self)

    @classmethod
    def stop_all(cls) -> None:
        for proc in list(reversed(cls._live)):
            proc.stop()

    @classmethod
    def leftovers(cls, pgids: list[int]) -> list[int]:
        return [pgid for pgid in pgids if _group_exists(pgid)]


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_manage(args: list[str], env: dict[str, str], timeout: float = 240.0) -> str:
    """Run `python manage.py <args>` to completion and return its stdout."""
    argv = [str(VENV_BIN / "python"), "manage.py", *args]
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchSetupError(f"manage.py {' '.join(args)} took over {timeout:.0f}s") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-25:])
        raise BenchSetupError(f"manage.py {' '.join(args)} failed:\n{tail}")
    return done.stdout


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (never the dev server's 8000/8001)."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in (8000, 8001):
            return port
    raise BenchSetupError("no free port found")


def wait_healthy(proc: Proc, port: int, timeout: float = 40.0) -> float:
    """Poll GET /healthz until it answers 200; returns the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise BenchSetupError(f"{proc.name} exited early:\n{proc.log_tail()}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz", headers={"Host": f"127.0.0.1:{port}"})
            if conn.getresponse().status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise BenchSetupError(f"{proc.name} not healthy after {timeout:.0f}s:\n{proc.log_tail()}")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
