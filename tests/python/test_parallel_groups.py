"""`make test` relies on pytest-xdist keeping each xdist_group in one process (conftest.py).

pytest 9.2 with pytest-xdist 3.8 silently stopped doing so (every world was then built in
both processes and CI slowed down by half); this runs a toy suite the way `make test` runs the
real one and checks that a group stays in one process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TOY = '''
import os
import pytest


def record(name):
    with open(os.environ["TOY_LOG"], "a") as log:
        log.write(f"{name} {os.environ['PYTEST_XDIST_WORKER']}\\n")


@pytest.mark.xdist_group("world")
@pytest.mark.parametrize("i", range(8))
def test_grouped(i):
    record(f"grouped{i}")


@pytest.mark.parametrize("i", range(8))
def test_free(i):
    record(f"free{i}")
'''


def test_an_xdist_group_runs_in_one_process(tmp_path: Path):
    (tmp_path / "test_toy.py").write_text(TOY)
    log = tmp_path / "workers.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CDP_DBT_"))}
    env["TOY_LOG"] = str(log)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider",
         str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stdout[-2000:]
    runs = dict(line.split() for line in log.read_text().splitlines())
    assert len(runs) == 16
    assert len({worker for name, worker in runs.items() if name.startswith("grouped")}) == 1
    assert len(set(runs.values())) == 2  # the free tests did spread over both processes
