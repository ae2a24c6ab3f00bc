"""What an allowlist entry allows, and which entries weaken the allowlist."""

from __future__ import annotations

import pytest

from exporter.config.allowlist import AllowedCommand, interpreter_family, risk_of


@pytest.mark.parametrize(
    ("entry", "argv", "resolved", "allowed"),
    [
        ("make", ["make", "-j4"], "/usr/bin/make", True),
        ("make", ["gmake"], "/usr/bin/gmake", False),
        ("/usr/bin/make", ["make"], "/usr/bin/make", True),
        ("/usr/bin/make", ["make"], "/usr/local/bin/make", False),
        (
            "python3 -m pytest",
            ["python3", "-m", "pytest", "-q"],
            "/v/bin/python3",
            True,
        ),
        ("python3 -m pytest", ["python3", "script.py"], "/v/bin/python3", False),
        ("python3 -m pytest", ["python3", "-m"], "/v/bin/python3", False),
        ("pytest", ["./pytest"], "/work/pytest", False),  # not what PATH finds
    ],
    ids=[
        "name",
        "other-name",
        "absolute-path",
        "absolute-path-elsewhere",
        "leading-args",
        "leading-args-differ",
        "leading-args-short",
        "path-is-not-the-name",
    ],
)
def test_entry_allows_by_resolved_executable_and_leading_args(
    entry, argv, resolved, allowed
):
    assert AllowedCommand.parse(entry).allows(argv, resolved) is allowed


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("python3.11", "python"),
        ("python", "python"),
        ("/usr/bin/perl5.36", "perl"),
        ("node", "node"),
        ("gawk", "awk"),
        ("pytest", None),
        ("make", None),
    ],
)
def test_interpreter_family(name, family):
    assert interpreter_family(name) == family


@pytest.mark.parametrize(
    ("entry", "risky"),
    [
        ("make", False),
        ("python3", False),
        ("python3 -m pytest", False),
        ("perl script.pl", False),
        ("*", True),
        ("ma?e", True),
        ("/bin/[", True),
        ("sh", True),
        ("/usr/bin/bash", True),
        ("busybox", True),
        ("sudo", True),
        ("xargs", True),
        ("python3 -c", True),
        ("perl -E", True),
        ("node --eval", True),
        ("awk", True),
    ],
)
def test_risky_entries(entry, risky):
    assert (risk_of(entry) is not None) is risky
