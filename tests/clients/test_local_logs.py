"""`fashionedit up` logs: each service's output is copied into a size-bounded, rotated file."""

from __future__ import annotations

import subprocess
import sys

from fashionedit.client.local import copy_rotating


def test_service_output_rotates_past_the_size_limit(tmp_path) -> None:
    log = tmp_path / "generator.log"
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfor i in range(4000): print(f'line {i:05d} ' + 'x' * 40)"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    pump = copy_rotating(child.stdout, log, max_bytes=50_000, backups=2)
    child.wait(30)
    pump.join(30)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["generator.log", "generator.log.1", "generator.log.2"]
    assert all((tmp_path / name).stat().st_size <= 50_000 + 100 for name in files)
    assert log.read_text().splitlines()[-1].startswith("line 03999")  # the newest output is in the live file
