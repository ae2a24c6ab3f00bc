"""Evidence writing: the cost of one append, events per second for one and
for four writer processes, and what sealing a full 50 MB file costs the
append that triggers it."""

from __future__ import annotations

import multiprocessing
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from exporter.config.model import Rotation
from exporter.contract import EXECUTION_STREAM
from exporter.evidence import EvidenceWriter, rotate

SHIPPED = Rotation(
    max_file_bytes=50 * 1024 * 1024, max_total_bytes=1 << 40, retention_days=14
)
EVENTS_PER_WRITER = 20_000
FIELDS: dict[str, object] = {
    "process": "4242@1730457",
    "result": "success",
    "duration_seconds": 12.5,
    "exit_code": 0,
    "argv": ["pytest", "-q", "tests/test_something.py"],
}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as base:
        root = Path(base)
        _append_cost(root / "cost")
        for writers in (1, 4):
            _throughput(root / f"writers-{writers}", writers, SHIPPED, "")
        early = Rotation(1024 * 1024, 1 << 40, 14)
        _throughput(root / "rotating", 4, early, ", sealing every 1 MiB")
        _seal_cost(root / "seal")


def _writer(directory: Path, rotation: Rotation) -> EvidenceWriter:
    return EvidenceWriter(directory, rotation, host="bench", environment="bench")


def _append_cost(directory: Path) -> None:
    samples = []
    with _writer(directory, SHIPPED) as writer:
        for n in range(EVENTS_PER_WRITER):
            started = time.perf_counter_ns()
            writer.append(EXECUTION_STREAM, "execution", "pytest", {**FIELDS, "n": n})
            samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    print(
        f"evidence append, one writer: mean {statistics.fmean(samples):.1f} us, "
        f"p50 {samples[len(samples) // 2]:.1f} us, "
        f"p99 {samples[len(samples) * 99 // 100]:.1f} us, "
        f"max {samples[-1]:.0f} us ({len(samples)} appends)"
    )


def _write_events(
    directory: Path, rotation: Rotation, start: multiprocessing.synchronize.Event
) -> None:
    with _writer(directory, rotation) as writer:
        start.wait()
        for n in range(EVENTS_PER_WRITER):
            writer.append(EXECUTION_STREAM, "execution", "pytest", {**FIELDS, "n": n})


def _throughput(directory: Path, writers: int, rotation: Rotation, note: str) -> None:
    context = multiprocessing.get_context("fork")
    start = context.Event()
    processes = [
        context.Process(target=_write_events, args=(directory, rotation, start))
        for _ in range(writers)
    ]
    for process in processes:
        process.start()
    time.sleep(0.5)  # let every writer open its files and wait at the start
    began = time.perf_counter()
    start.set()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - began
    total = writers * EVENTS_PER_WRITER
    print(
        f"evidence throughput, {writers} writer process(es){note}: "
        f"{total / elapsed:,.0f} events/s ({total} events in {elapsed:.2f} s)"
    )


def _seal_cost(directory: Path) -> None:
    with _writer(directory, Rotation(1 << 40, 1 << 40, 14)) as writer:
        path = directory / f"{EXECUTION_STREAM}.jsonl"
        n = 0
        while not path.exists() or path.stat().st_size < SHIPPED.max_file_bytes:
            writer.append(EXECUTION_STREAM, "execution", "pytest", {**FIELDS, "n": n})
            n += 1
    size = path.stat().st_size
    began = time.perf_counter()
    rotate(directory, SHIPPED, datetime.now(UTC))
    elapsed = time.perf_counter() - began
    print(
        f"evidence seal of a {size / 1e6:.0f} MB file (rename, fsync, SHA-256, "
        f"manifest): {elapsed * 1000:.0f} ms, paid once per file by the append "
        f"that fills it"
    )
