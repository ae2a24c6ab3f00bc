"""Small probes the benchmarks share: HTTP GET on loopback, a value from an
exposition, a process's CPU time and resident memory, a free port."""

from __future__ import annotations

import http.client
import os
import socket
import time

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def get(port: int, path: str, wait: bool = False) -> str:
    deadline = time.monotonic() + (60 if wait else 0)
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            connection.request("GET", path)
            body = connection.getresponse().read().decode()
            connection.close()
            return body
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def value(text: str, name: str) -> float:
    """The sum of every series named ``name``, whatever its labels."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith((name + " ", name + "{")):
            total += float(line.rpartition(" ")[2])
    return total


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def resident_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
