"""``make demo``: the product promo, offline, with the ``demo`` profile, through the real runner.

Runs ``podium run examples/product-promo.yaml --new --profile demo`` (the live step view shows
on stderr), then reads the run's ``summary.json`` and prints where the 16:9 and 9:16 videos and
``summary.html`` are, with each cut's measured conformance. The store lives in ``./.podium``
(gitignored) unless ``PODIUM_HOME`` is set, so a second ``make demo`` reuses every unchanged step
from the cache; outputs go to ``./podium-out/product-promo/demo-<time>/``.

Usage: ``python scripts/demo.py [--set key=value ...]`` (extra arguments go to ``podium run``).
Exit status 0 when the run succeeded and every cut passed its delivery checks, 1 otherwise, with
one line on stderr saying what failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "product-promo.yaml"


def podium_command() -> list[str]:
    """The ``podium`` CLI of this interpreter's environment."""
    script = Path(sys.executable).with_name("podium")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from podium.cli import main; main()"]


def cuts(summary: dict[str, Any], out_dir: Path) -> list[tuple[str, Path, dict[str, Any]]]:
    """(aspect ratio, path, conformance) of each final cut, in the order the run made them."""
    checks = {c["sha256"]: c for c in summary.get("conformance", [])}
    meta = {a["sha256"]: a.get("metadata") or {} for a in summary.get("artifacts", [])}
    found = []
    for step in summary.get("steps", []):
        if step.get("key") != "cut":
            continue
        for out in step.get("outputs", []):
            if out.get("type") == "video" and out.get("file"):
                sha = out["sha256"]
                ratio = str(meta.get(sha, {}).get("aspect_ratio") or "?")
                found.append((ratio, out_dir / out["file"], checks.get(sha, {})))
    return found


def fail(message: str) -> int:
    """Print one line on stderr and return the failing exit status."""
    print(f"demo failed: {message}", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    """Run the promo and print where its outputs are."""
    env = dict(os.environ)
    env.setdefault("PODIUM_HOME", str(ROOT / ".podium"))
    out_dir = ROOT / "podium-out" / "product-promo" / time.strftime("demo-%Y%m%d-%H%M%S")
    cmd = [*podium_command(), "run", str(SPEC), "--new", "--profile", "demo", "--out", str(out_dir)]
    cmd += argv
    print(f"podium: running {SPEC.relative_to(ROOT)} offline (demo profile)", file=sys.stderr)
    print(f"  store: {env['PODIUM_HOME']}", file=sys.stderr)
    started = time.perf_counter()
    try:
        status = subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode
    except OSError as exc:
        return fail(f"could not start podium ({exc}) — run `make setup` first")
    except KeyboardInterrupt:
        return fail("interrupted — `make demo` again resumes from the cache")
    wall = time.perf_counter() - started
    summary_path = out_dir / "summary.json"
    if status != 0:
        where = f"; summary: {summary_path.with_suffix('.html')}" if summary_path.exists() else ""
        return fail(f"podium run exited with status {status} (its errors are above){where}")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return fail(f"the run left no readable summary at {summary_path}: {exc}")
    videos = cuts(summary, out_dir)
    if not videos:
        return fail(f"the run made no final cut (see {summary_path.with_suffix('.html')})")
    print(f"\npromo finished in {wall:.1f} s:")
    for ratio, path, conf in videos:
        verdict = "conformance passed" if conf.get("passed") else "conformance FAILED"
        measured = {c["name"]: c["measured"] for c in conf.get("checks", [])}
        loud = ""
        if "integrated_lufs" in measured:
            loud = (
                f", {float(measured['integrated_lufs']):.1f} LUFS, "
                f"{float(measured.get('true_peak_dbtp') or 0):.1f} dBTP, "
                f"{float(measured.get('duration_s') or 0):.2f} s"
            )
        print(f"  {ratio:>5}  {path}  ({verdict}{loud})")
    print(f"  summary  {summary_path.with_suffix('.html')}")
    if not all(conf.get("passed") for _, _, conf in videos):
        return fail("a cut did not pass its delivery checks (see summary.html)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
