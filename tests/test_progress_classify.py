"""Command types: by command line for the wrapper, by process for the
exporter, classified on first sight and again only after an exec."""

from __future__ import annotations

import re
import subprocess
import time

import pytest

from exporter.commandtype import ProcessClassifier, classify_argv
from exporter.config.model import CommandType
from exporter.procfs import read_identity, read_stat

TYPES = {
    "test": CommandType(
        name="test",
        executables=("pytest", "sleep"),
        argument_pattern=re.compile(r"\bgo test\b"),
        stall_seconds=None,
        hard_timeout_seconds=None,
        action="kill",
    ),
    "build": CommandType(
        name="build",
        executables=("make", "a-very-long-executable-name"),
        argument_pattern=None,
        stall_seconds=None,
        hard_timeout_seconds=None,
        action="observe",
    ),
}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(["/usr/bin/make", "-j4"], "build", id="path-basename"),
        pytest.param(["go", "test", "./..."], "test", id="argument-pattern"),
        pytest.param(["cargo", "build"], "other", id="unmatched"),
        pytest.param([], "other", id="empty"),
    ],
)
def test_classify_argv(argv: list[str], expected: str) -> None:
    assert classify_argv(TYPES, argv) == expected


def test_long_names_match_the_truncated_comm() -> None:
    classifier = ProcessClassifier(TYPES, cmdline_reader=lambda pid, root: None)
    identity = read_identity(1)
    assert identity is not None
    assert classifier.classify(identity, "a-very-long-exe") == "build"


def test_a_shell_is_classified_by_what_it_execs() -> None:
    process = subprocess.Popen(
        ["sh", "-c", "read line; exec sleep 60"], stdin=subprocess.PIPE
    )
    reads: list[int] = []

    def reader(pid: int, root: str) -> list[str] | None:
        reads.append(pid)
        return ["sh", "-c", "read line; exec sleep 60"]

    classifier = ProcessClassifier(TYPES, cmdline_reader=reader)
    try:
        identity = read_identity(process.pid)
        assert identity is not None

        as_shell = [classifier.classify(identity, "sh") for _ in range(3)]
        assert process.stdin is not None
        process.stdin.write(b"go\n")
        process.stdin.close()
        stat = read_stat(process.pid)
        deadline = time.monotonic() + 10
        while stat is not None and stat.comm != "sleep" and time.monotonic() < deadline:
            time.sleep(0.01)
            stat = read_stat(process.pid)
        assert stat is not None and stat.identity == identity
        as_exec = [classifier.classify(identity, stat.comm) for _ in range(3)]
    finally:
        process.kill()
        process.wait()

    assert as_shell == ["other"] * 3
    assert as_exec == ["test"] * 3
    assert classifier.classifications == 2
    assert reads == [process.pid]  # cmdline read once, for the shell only


def test_forget_drops_departed_processes() -> None:
    classifier = ProcessClassifier(TYPES, cmdline_reader=lambda pid, root: None)
    identity = read_identity(1)
    assert identity is not None
    classifier.classify(identity, "make")
    classifier.forget([])
    classifier.classify(identity, "make")
    assert classifier.classifications == 2
