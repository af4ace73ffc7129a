"""The load processes of `bench.scale`, fed one JSON command per line (bench.scale_load)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from pathlib import Path
from typing import Any

from bench.procs import ROOT, VENV_BIN


class PhaseError(RuntimeError):
    """A load process failed or timed out during a phase."""


class LoadFleet:
    """The load processes, each fed one JSON command per line (bench.scale_load)."""

    live_pgids: list[int] = []  # for a last-resort kill on the way out

    def __init__(self, procs: list[asyncio.subprocess.Process], logs: list[Path]) -> None:
        self.procs = procs
        self.logs = logs
        self.hello: list[dict[str, Any]] = []  # each process's first line: pid, fd limit

    @classmethod
    async def start(cls, count: int, workdir: Path, lifetime_s: float) -> LoadFleet:
        procs: list[asyncio.subprocess.Process] = []
        logs: list[Path] = []
        fleet = cls(procs, logs)
        for number in range(count):
            log = workdir / f"load-{number}.log"
            with log.open("wb") as stderr:
                proc = await asyncio.create_subprocess_exec(
                    str(VENV_BIN / "python"),
                    "-m",
                    "bench.scale_load",
                    "--lifetime",
                    str(int(lifetime_s)),
                    cwd=ROOT,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=stderr,
                    start_new_session=True,
                    limit=64 << 20,  # a reply carries every latency of the phase
                )
            procs.append(proc)
            logs.append(log)
            cls.live_pgids.append(proc.pid)
        try:
            fleet.hello = await asyncio.gather(*(fleet._read(i, 30) for i in range(count)))
        except BaseException:
            await fleet.stop()
            raise
        return fleet

    async def _read(self, number: int, timeout: float) -> dict[str, Any]:
        proc = self.procs[number]
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout)
        except TimeoutError as exc:
            raise PhaseError(f"load process {number} gave no answer in {timeout:.0f}s") from exc
        if not line:
            tail = self.logs[number].read_text(errors="replace").splitlines()[-10:]
            raise PhaseError(f"load process {number} exited: " + " | ".join(tail))
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise PhaseError(f"load process {number}: {reply['error']}")
        return reply

    async def each(self, commands: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
        """Send command `n` to process `n`, all at once; their replies in order."""
        for proc, command in zip(self.procs, commands, strict=True):
            assert proc.stdin is not None
            proc.stdin.write((json.dumps(command) + "\n").encode())
            await proc.stdin.drain()
        return list(await asyncio.gather(*(self._read(i, timeout) for i in range(len(commands)))))

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None:
                proc.stdin.close()  # end of input: the process closes its sockets and exits
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                kill_group(proc.pid)
                await proc.wait()
            if proc.pid in self.live_pgids:
                self.live_pgids.remove(proc.pid)
            kill_group(proc.pid)  # anything it left in its group


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
