"""supervisord's event listener for `make serve` (config.serve): what a dying process leaves.

- A process that exited: its share of the multiprocess Prometheus gauges (open websockets)
  is dropped, as gunicorn's child_exit hook would (prometheus_client.mark_process_dead).
- A process that kept dying until supervisord gave up (FATAL): the whole shape stops, so
  whatever supervises `make serve` (systemd, a container runtime) sees it fail, rather
  than a port that accepts connections nobody answers. The reason goes to the run
  directory, where config.serve reads it, and to stderr.

Speaks supervisord's listener protocol on stdin/stdout; logs to stderr only.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from supervisor import childutils

FATAL_MARK = "fatal"  # config.serve.FATAL_MARK (that module is not imported here)


def on_event(event: str, payload: dict[str, str], run_dir: Path) -> None:
    if event == "PROCESS_STATE_EXITED" and payload.get("pid", "").isdigit():
        _forget_metrics(int(payload["pid"]))
    elif event == "PROCESS_STATE_FATAL":
        name = payload.get("processname", "?")
        reason = f"{name} kept exiting within its start-up time; stopping everything"
        (run_dir / FATAL_MARK).write_text(reason + "\n")
        print(f"make serve: {reason}", file=sys.stderr, flush=True)
        os.kill(os.getppid(), signal.SIGTERM)  # supervisord: stop all, then exit


def _forget_metrics(pid: int) -> None:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def main(run_dir: Path) -> None:
    while True:
        headers, body = childutils.listener.wait(sys.stdin, sys.stdout)
        payload, _ = childutils.eventdata(body + "\n")
        try:
            on_event(headers.get("eventname", ""), payload, run_dir)
        finally:
            childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
