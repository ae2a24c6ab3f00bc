"""Rotation on a full disk: one line naming the file, exit 2, every file as
it was, no temporary file left; the next rotation, with space back,
finishes the work. The exporter's own rotation logs one warning and counts
it, and keeps sampling."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from serve_support import make_config, new_marker, wait_for
from tmpfs_support import fill, tiny_tmpfs

from exporter.cli import main
from exporter.config import shipped_config_path
from exporter.config.model import Rotation
from exporter.contract import EXECUTION_STREAM
from exporter.evidence import EvidenceWriter
from exporter.metrics import ExporterMetrics
from exporter.sampling import SamplingLoop
from exporter.settings import WatchSettings

YESTERDAY = datetime.now(UTC) - timedelta(days=1)
SEALED = f"executions.jsonl.{YESTERDAY:%Y%m%d}"
ROOMY = Rotation(max_file_bytes=1 << 30, max_total_bytes=1 << 40, retention_days=14)
STOPPED = "No space left on device; rotation stopped with no evidence lost"


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """Yesterday's executions, not yet sealed, on a 64 KiB tmpfs that is
    then filled up; yields the evidence directory and the filler file."""
    with tiny_tmpfs(tmp_path / "tiny") as mount_point:
        directory = mount_point / "evidence"
        with EvidenceWriter(
            directory, ROOMY, host="h", environment="ci", clock=lambda: YESTERDAY
        ) as writer:
            for n in range(3):
                writer.append(EXECUTION_STREAM, "execution", "pytest", {"n": n})
        filler = mount_point / "filler"
        fill(filler)
        yield directory, filler


def _snapshot(directory: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in directory.iterdir()
        if not path.name.endswith(".lock")
    }


def _evidence(*args: str) -> tuple[int, str, str]:
    config = ["--config", str(shipped_config_path())]
    result = CliRunner().invoke(main, ["evidence", args[0], *config, *args[1:]])
    return result.exit_code, result.stdout, result.stderr


def test_rotate_on_a_full_disk_changes_nothing_and_finishes_later(full_disk):
    directory, filler = full_disk
    before = _snapshot(directory)

    code, stdout, stderr = _evidence("rotate", "--dir", str(directory))

    temporary = directory / ".daily_report_manifest.json.tmp"
    assert (code, stdout) == (2, "")
    assert stderr.splitlines()[-1] == (
        f"runner-watchdog: {temporary}: {STOPPED}; the next one finishes it"
    )
    assert "Traceback" not in stderr
    assert _snapshot(directory) == before
    assert not temporary.exists()

    filler.unlink()
    assert _evidence("rotate", "--dir", str(directory))[:2] == (0, f"sealed {SEALED}\n")
    assert _evidence("verify", "--dir", str(directory))[:2] == (
        0,
        f"ok: 1 sealed file(s) rehashed in {directory}\n",
    )


def test_the_exporter_warns_once_and_counts_the_failed_rotation(full_disk, caplog):
    directory, _ = full_disk
    metrics = ExporterMetrics("test")
    loop = SamplingLoop(
        WatchSettings(make_config(directory, new_marker()), "ci"), metrics
    )
    caplog.set_level(logging.WARNING, logger="exporter.sampling")
    try:
        loop.run_once()  # starts the rotation on its thread

        def counted() -> bool:
            loop.run_once()  # collects the rotation's outcome
            return metrics.view().sample_errors["rotation"] > 0

        wait_for(counted)
        for _ in range(3):
            loop.run_once()
    finally:
        loop.stop()

    view = metrics.view()
    assert (view.sample_errors["rotation"], view.sample_errors["internal"]) == (1, 0)
    [warning] = [
        r.getMessage() for r in caplog.records if r.name == "exporter.sampling"
    ]
    assert warning.startswith("evidence rotation failed error=")
    assert STOPPED in warning
    assert not (directory / ".daily_report_manifest.json.tmp").exists()
    assert (directory / "executions.jsonl").exists()
