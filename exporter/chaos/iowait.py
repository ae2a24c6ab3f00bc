"""Scenario ``io``: jobs doing continuous disk reads and writes, with and
without fsync, are never flagged as stalled.

Four jobs run for three stall allowances and two samples more: one writes
and fsyncs, one writes without fsync, one re-reads a file after dropping it
from the page cache (so the reads reach the disk), and one is a parent
blocked in ``wait`` on a child that writes and fsyncs (the ``make`` and
``gcc`` shape: the parent itself shows no progress at all). Every scrape
must show no stall for them, and no stall event may be written.
"""

from __future__ import annotations

from typing import Final

from exporter.chaos.lab import Lab, tree
from exporter.chaos.labconfig import (
    IO_JOB,
    SAMPLE_INTERVAL_SECONDS,
    STALL_SECONDS,
)
from exporter.chaos.outcome import Outcome, Verdict
from exporter.chaos.scenario import ChaosSettings, Scenario
from exporter.contract import COMMAND_TYPE, STALL_STREAM, STALLS_TOTAL, WATCHED_JOBS
from exporter.procfs import ProcessId, parse_io, read_text

MODES: Final = ("fsync-write", "write", "uncached-read", "parent-of-writer")
WATCH_SECONDS: Final = 3 * STALL_SECONDS + 2 * SAMPLE_INTERVAL_SECONDS
SCRAPE_EVERY_SECONDS: Final = 0.25
_MIB: Final = 1 << 20

_JOB_SOURCE: Final = '''\
"""A chaos io job: continuous disk I/O until its parent goes away."""
import os, subprocess, sys, time

BLOCK = os.urandom(64 * 1024)
mode, path = sys.argv[1], sys.argv[2]
parent = os.getppid()


def write(sync):
    with open(path, "wb") as out:
        while os.getppid() == parent:
            out.write(BLOCK)
            out.flush()
            if sync:
                os.fsync(out.fileno())
            if out.tell() >= 4 << 20:
                out.seek(0)
            time.sleep(0.05)


def uncached_read():
    with open(path, "wb") as out:
        out.write(os.urandom(1 << 20))
        out.flush()
        os.fsync(out.fileno())
    fd = os.open(path, os.O_RDONLY)
    while os.getppid() == parent:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.lseek(fd, 0, os.SEEK_SET)
        while os.read(fd, 1 << 16):
            pass
        time.sleep(0.05)


if mode == "fsync-write":
    write(True)
elif mode == "write":
    write(False)
elif mode == "uncached-read":
    uncached_read()
else:
    subprocess.run([sys.executable, __file__, "fsync-write", path + ".child"])
'''


def plan(settings: ChaosSettings) -> list[str]:
    return [
        f"start {len(MODES)} jobs ({', '.join(MODES)}) of type {IO_JOB.name} "
        f"under the fake runner root",
        f"scrape /metrics every {SCRAPE_EVERY_SECONDS} s for {WATCH_SECONDS} s, "
        "then end the jobs",
    ]


def run(lab: Lab, settings: ChaosSettings) -> Outcome:
    script = lab.script("io_job.py", _JOB_SOURCE)
    data = lab.directory / "io"
    data.mkdir()
    jobs = lab.spawn(
        *(lab.python(script, mode, str(data / mode), IO_JOB.marker) for mode in MODES)
    )
    try:
        return _observe(lab, jobs)
    finally:
        lab.end(jobs)


def _observe(lab: Lab, jobs: list[ProcessId]) -> Outcome:
    kind = {COMMAND_TYPE: IO_JOB.name}
    lab.wait_until(
        f"the exporter to watch the {len(jobs)} io jobs",
        lambda: lab.scrape().total(WATCHED_JOBS, **kind) == len(jobs),
        timeout=10 * SAMPLE_INTERVAL_SECONDS + 5,
    )
    before = _moved(jobs)
    flagged: list[float] = []

    def observe() -> None:
        flagged.append(lab.scrape().total(STALLS_TOTAL, **kind))

    scrapes = lab.watch(
        "watching the io jobs", WATCH_SECONDS, observe, SCRAPE_EVERY_SECONDS
    )
    after = _moved(jobs)
    watched = lab.scrape().total(WATCHED_JOBS, **kind)
    events = [e for e in lab.events(STALL_STREAM) if e.get(COMMAND_TYPE) == IO_JOB.name]

    verdict = Verdict()
    most = max(flagged, default=0.0)
    verdict.expect(most == 0, f"{most:g} stalls counted for {IO_JOB.name}")
    verdict.expect(not events, f"{len(events)} stall events for {IO_JOB.name}")
    verdict.expect(
        watched == len(jobs), f"{watched:g} of {len(jobs)} jobs watched at the end"
    )
    written = (after[1] - before[1]) / _MIB
    read = (after[0] - before[0]) / _MIB
    verdict.expect(written > 0 and read > 0, "the jobs moved no data")
    return Outcome(
        scenario="io",
        passed=verdict.passed,
        did=(
            f"ran {len(jobs)} jobs doing continuous disk I/O ({', '.join(MODES)}) "
            f"for {WATCH_SECONDS} s under a {STALL_SECONDS} s stall allowance"
        ),
        expected="no stall counted on /metrics and no stall event; every job watched",
        saw=verdict.saw(
            f"{most:g} stalls in {scrapes} scrapes, {len(events)} stall events, "
            f"{watched:g} jobs watched; they wrote {written:.1f} MiB "
            f"and read {read:.1f} MiB meanwhile"
        ),
        detection="nothing to detect: never flagged",
        detection_seconds=None,
        facts={
            "jobs": len(jobs),
            "watch_seconds": WATCH_SECONDS,
            "scrapes": scrapes,
            "stalls_counted": most,
            "stall_events": len(events),
            "jobs_watched": watched,
            "mib_written": round(written, 2),
            "mib_read": round(read, 2),
        },
    )


def _moved(jobs: list[ProcessId]) -> tuple[int, int]:
    """Characters read and written so far by the jobs' trees."""
    read = written = 0
    for job in jobs:
        for member in tree(job.pid):
            text = read_text(f"/proc/{member.pid}/io")
            if text is not None:
                counters = parse_io(text)
                read, written = read + counters.rchar, written + counters.wchar
    return read, written


SCENARIO: Final = Scenario(
    name="io",
    title="continuous disk I/O, with and without fsync, is never flagged",
    plan=plan,
    run=run,
)
