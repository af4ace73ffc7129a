"""Bundle sizes of the widget loader and core, raw and gzip -9, against their budgets."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from bench.procs import ROOT

DIST = ROOT / "frontend" / "dist"
BUDGETS_GZIP = {"loader": 2048, "core": 24576}


def _measure(path: Path) -> dict[str, int]:
    data = path.read_bytes()
    return {"raw": len(data), "gzip": len(gzip.compress(data, compresslevel=9, mtime=0))}


def run_sizes(dist: Path = DIST) -> dict[str, Any]:
    """Recompute sizes from the built files; the manifest's own figures are kept alongside."""
    manifest_path = dist / "manifest.json"
    if not manifest_path.is_file():
        return {
            "ok": False,
            "error": f"{manifest_path} missing: run `cd frontend && npm run build`",
        }
    manifest = json.loads(manifest_path.read_text())
    files = {"loader": dist / str(manifest.get("loader") or "widget.js")}
    if manifest.get("core"):
        files["core"] = dist / str(manifest["core"])
    bundles: dict[str, Any] = {}
    ok = True
    for name, budget in BUDGETS_GZIP.items():
        path = files.get(name)
        if path is None or not path.is_file():
            bundles[name] = {"file": str(path) if path else None, "error": "missing", "pass": False}
            ok = False
            continue
        measured = _measure(path)
        claimed = (manifest.get("sizes") or {}).get(name) or {}
        passed = measured["gzip"] <= budget
        ok = ok and passed
        bundles[name] = {
            "file": str(path.relative_to(ROOT)),
            **measured,
            "budget_gzip": budget,
            "pass": passed,
            "headroom_gzip": budget - measured["gzip"],
            "manifest": {"raw": claimed.get("raw"), "gzip": claimed.get("gzip")},
            # The build's gzip may use another level/implementation; raw must match.
            "manifest_raw_matches": claimed.get("raw") == measured["raw"],
        }
    return {"ok": ok, "bundles": bundles}
