"""Debian's prometheus-process-exporter over the benchmark's sleeps: its CPU
per tracked process per scrape, read from ``/proc/<pid>/stat`` around K
scrapes on loopback (it samples when scraped), with its defaults and with
its cheapest flags."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from bench.fakerunner import SLEEP_ARGV
from bench.probes import cpu_seconds, free_port, get, value

SCRAPES = 10
LEAN_FLAGS = ["-threads=false", "-gather-smaps=false"]


def process_exporter_cost(directory: Path, n: int) -> tuple[float, float]:
    """Microseconds per process per scrape: with defaults, with LEAN_FLAGS."""
    config = directory / "process-exporter.yml"
    config.write_text(
        "process_names:\n"
        "  - name: bench\n"
        "    comm: [sleep]\n"
        f"    cmdline: ['{re.escape(SLEEP_ARGV[1])}']\n"
    )
    return _cost(config, n, []), _cost(config, n, LEAN_FLAGS)


def _cost(config: Path, n: int, flags: list[str]) -> float:
    port = free_port()
    process = subprocess.Popen(
        [
            "prometheus-process-exporter",
            f"-config.path={config}",
            f"-web.listen-address=127.0.0.1:{port}",
            *flags,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        text = get(port, "/metrics", wait=True)  # warm-up: finds the processes
        tracked = value(text, 'namedprocess_namegroup_num_procs{groupname="bench"}')
        if tracked != n:
            raise RuntimeError(f"process-exporter tracks {tracked} of {n}")
        before = cpu_seconds(process.pid)
        for _ in range(SCRAPES):
            get(port, "/metrics")
        spent = cpu_seconds(process.pid) - before
        return spent / SCRAPES / n * 1e6
    finally:
        process.terminate()
        process.wait()
