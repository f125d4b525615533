"""Run dbt for this project with the project's own profiles.yml."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from cdp.warehouse import PROJECT_DIR, Target, ensure_pg_database, resolve_target


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(args: Sequence[str], target: str | Target | None = None, check: bool = True) -> int:
    """Run `dbt <args>` against target; returns dbt's exit code (raises on failure when check)."""
    resolved = target if isinstance(target, Target) else resolve_target(target)
    if resolved.type == "postgres":
        ensure_pg_database(resolved)
    env = dict(os.environ)
    env["PGTZ"] = "UTC"  # libpq session time zone for dbt-postgres
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    command = [
        dbt_executable(),
        *args,
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target", resolved.name,
    ]
    completed = subprocess.run(command, env=env, cwd=PROJECT_DIR)
    if check and completed.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed on target {resolved.name} (exit {completed.returncode})")
    return completed.returncode
