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


def target_environment(target: Target) -> dict[str, str]:
    """The environment variables profiles.yml reads, set from a resolved target."""
    if target.type == "duckdb":
        return {"CDP_DUCKDB_PATH": str(target.duckdb_path), "CDP_DUCKDB_SCHEMA": target.schema}
    return {
        "CDP_PG_HOST": target.pg_host,
        "CDP_PG_PORT": str(target.pg_port),
        "CDP_PG_USER": target.pg_user,
        "CDP_PG_PASSWORD": target.pg_password,
        "CDP_PG_DATABASE": target.pg_database,
        "CDP_PG_SCHEMA": target.schema,
    }


def run_dbt(
    args: Sequence[str], target: str | Target | None = None, check: bool = True, capture: bool = False,
    target_path: str | None = None,
) -> subprocess.CompletedProcess:
    """Run `dbt <args>` against target (raises on failure when check; captures output when asked).

    The target's settings are passed to dbt through the variables profiles.yml reads, so a
    Target built in Python (a test's temporary database, say) is exactly where dbt builds.
    target_path: dbt's artefact folder (default target/); a job that always runs with the same
    vars keeps its own, so dbt's parse cache survives builds run with other vars.
    With CDP_DBT_ARTEFACTS set (a folder), dbt's artefacts and logs go under it, relative
    target paths included: processes that run dbt side by side (test workers) each set their own.
    """
    resolved = target if isinstance(target, Target) else resolve_target(target)
    if resolved.type == "postgres":
        ensure_pg_database(resolved)
    env = dict(os.environ)
    env.update(target_environment(resolved))
    env["PGTZ"] = "UTC"  # libpq session time zone for dbt-postgres
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    artefacts = os.environ.get("CDP_DBT_ARTEFACTS")
    if artefacts:
        target_path = str(Path(artefacts) / (target_path or "target"))
        env["DBT_LOG_PATH"] = str(Path(artefacts) / "logs")
    command = [
        dbt_executable(),
        *args,
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target", resolved.name,
        *(["--target-path", target_path] if target_path else []),
    ]
    completed = subprocess.run(command, env=env, cwd=PROJECT_DIR, capture_output=capture, text=True)
    if check and completed.returncode != 0:
        detail = f":\n{completed.stdout[-4000:]}" if capture else ""
        raise SystemExit(f"dbt {' '.join(args)} failed on target {resolved.name} (exit {completed.returncode}){detail}")
    return completed
