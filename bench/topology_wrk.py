"""wrk, the topology bench's load generator: a separate process on loopback, POSTing the
widget session's body from an allowed Origin, its summary read back as one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from bench.procs import BenchSetupError
from bench.session import ORIGIN, SESSION_PATH, session_body

CONNECTIONS = 32
# wrk prints its summary as one JSON line (latencies in microseconds).
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = os.getenv("WRK_ORIGIN")
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"duration_us":%d,"socket_errors":%d,"timeouts":%d,'
    .. '"non_2xx":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write, e.timeout,
    e.status, latency:percentile(50), latency:percentile(99)))
end
"""


def run_wrk(wrk: str, script: Path, port: int, seconds: int, agent_id: str) -> dict[str, Any]:
    """`seconds` of wrk against the session path on `port`: its requests, rate and latencies."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "WRK_BODY": session_body(agent_id).decode(),
        "WRK_ORIGIN": ORIGIN,
    }
    argv = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "-s"]
    argv += [str(script), f"http://127.0.0.1:{port}{SESSION_PATH}"]
    out = subprocess.run(  # noqa: S603 - argv built here, no shell
        argv, env=env, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise BenchSetupError(f"wrk printed no summary: {out.stdout[-500:]} {out.stderr[-500:]}")
    raw = json.loads(line[4:])
    seconds_run = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / seconds_run, 1) if seconds_run else None,
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "errors": raw["socket_errors"] + raw["timeouts"],
        "non_2xx": raw["non_2xx"],
    }
