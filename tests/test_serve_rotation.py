"""The exporter keeps evidence rotated: files from an earlier UTC day are
sealed when it starts (and at each day change), and a file past its size
limit is sealed on the next pass, on a thread of its own."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from serve_support import make_config, new_marker, wait_for

from exporter.config.model import Rotation
from exporter.contract import STALL_STREAM
from exporter.evidence import EvidenceWriter, sealed_files
from exporter.metrics import ExporterMetrics
from exporter.sampling import SamplingLoop
from exporter.settings import WatchSettings


def loop_for(evidence: Path, rotation: Rotation | None = None) -> SamplingLoop:
    config = make_config(evidence, new_marker())
    if rotation is not None:
        logging_settings = dataclasses.replace(config.logging, rotation=rotation)
        config = dataclasses.replace(config, logging=logging_settings)
    metrics = ExporterMetrics("test")
    return SamplingLoop(WatchSettings(config, "ci"), metrics)


def sealed(evidence: Path) -> list[str]:
    return [name.name for name in sealed_files(evidence, STALL_STREAM)]


def pass_until_sealed(loop: SamplingLoop, evidence: Path) -> None:
    """Run passes until a sealed file appears (rotation runs on a thread)."""

    def done() -> bool:
        loop.run_once()
        return bool(sealed(evidence))

    wait_for(done)


def test_yesterdays_file_is_sealed_at_start(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    yesterday = datetime.now(UTC) - timedelta(days=1)
    rotation = Rotation(50 << 20, 1 << 30, 14)
    with EvidenceWriter(
        evidence, rotation, host="h", environment="ci", clock=lambda: yesterday
    ) as writer:
        writer.append(STALL_STREAM, "stall", "sleeper", {"cause": "idle"})
    loop = loop_for(evidence)
    try:
        pass_until_sealed(loop, evidence)
    finally:
        loop.stop()

    assert sealed(evidence) == [f"{STALL_STREAM}.jsonl.{yesterday:%Y%m%d}"]


def test_a_file_past_its_limit_is_sealed_on_the_next_pass(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    loop = loop_for(evidence, Rotation(4096, 1 << 30, 14))
    try:
        loop.run_once()  # the start's rotation: nothing to seal yet
        padding = "x" * 1024
        for n in range(5):
            fields = {"n": n, "pad": padding}
            loop.evidence.append(STALL_STREAM, "stall", "sleeper", fields)
        limit_reached = loop.evidence.limit_reached
        pass_until_sealed(loop, evidence)
    finally:
        loop.stop()

    assert limit_reached
    [name] = sealed(evidence)
    assert name.startswith(f"{STALL_STREAM}.jsonl.{datetime.now(UTC):%Y%m%d}")
    assert not (evidence / f"{STALL_STREAM}.jsonl").exists()
