"""``runner-watchdog run`` end to end: real commands, real trees, real kills.

Each test runs the installed CLI in its own session with a config written
here. Processes started by the commands carry a marker (a sleep of an odd
length) so that any survivor is found among all processes afterwards.
"""

from __future__ import annotations

import os
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from run_support import Setup, WrapperConfig, marked, run, start, wrapper_setup

from exporter.wrapper import exitcodes

GRACE_SECONDS = 2

CONFIG = WrapperConfig(
    kill_grace_seconds=GRACE_SECONDS,
    allowed_commands=("python3", "sleep", "true", "false", "printf"),
)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with wrapper_setup(tmp_path, CONFIG, marker_lead=3) as prepared:
        yield prepared


def signals_sent(kill: dict[str, object]) -> list[str]:
    batches = kill["signals"]
    assert isinstance(batches, list)
    return [batch["signal"] for batch in batches]


def test_background_sleep_is_killed_after_the_stall(setup: Setup) -> None:
    script = f"sleep {setup.marker} & echo started; wait"
    result = run(setup, "sh", "-c", script, options=("--stall", "2"))

    assert result.returncode == exitcodes.STALL_KILLED
    assert result.stdout == b"started\n"
    assert marked(setup.marker) == []

    [execution] = setup.events("executions")
    assert execution["result"] == "skipped"
    assert execution["exit_code"] == exitcodes.STALL_KILLED
    [stall] = setup.events("stall-events")
    assert stall["cause"] == "child_hang"
    assert stall["thresholds"] == {
        "stall_seconds": 2.0,
        "hard_timeout_seconds": 120,
        "kill_grace_seconds": GRACE_SECONDS,
        "sample_interval_seconds": 0.5,
    }
    members = stall["members"]
    assert isinstance(members, list)
    assert sorted(member["comm"] for member in members) == ["sh", "sleep"]
    [kill] = setup.events("kills")
    # Everyone left on SIGTERM, inside the grace period: no SIGKILL needed.
    assert signals_sent(kill) == ["SIGSTOP", "SIGTERM", "SIGCONT"]
    assert kill["survivors"] == []
    # The bound: done within the grace period plus one second of the
    # stall allowance running out (the run's own clock, not this test's).
    assert isinstance(kill["duration_seconds"], float)
    assert kill["duration_seconds"] <= GRACE_SECONDS
    assert isinstance(execution["duration_seconds"], float)
    assert execution["duration_seconds"] <= 2 + GRACE_SECONDS + 1


_SETSID_CHILD = textwrap.dedent(
    """
    import os, sys
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", sys.argv[1]])
        os.execvp("sleep", ["sleep", sys.argv[1]])
    os.wait()
    """
)


def test_setsid_child_does_not_escape_the_stall_kill(setup: Setup) -> None:
    result = run(
        setup, "python3", "-c", _SETSID_CHILD, setup.marker, options=("--stall", "1.5")
    )

    assert result.returncode == exitcodes.STALL_KILLED
    assert marked(setup.marker) == []
    [kill] = setup.events("kills")
    assert len(kill["members"]) == 3  # type: ignore[arg-type]
    assert kill["survivors"] == []


_FORK_STORM = textwrap.dedent(
    """
    import os, sys, time
    while True:
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", sys.argv[1]])
        time.sleep(0.005)
    """
)


def test_fork_storm_leaves_zero_survivors_after_the_timeout(setup: Setup) -> None:
    result = run(
        setup, "python3", "-c", _FORK_STORM, setup.marker, options=("--timeout", "2")
    )

    assert result.returncode == exitcodes.TIMED_OUT
    assert marked(setup.marker) == []
    [execution] = setup.events("executions")
    assert execution["result"] == "timeout"
    [kill] = setup.events("kills")
    assert kill["reason"] == "hard_timeout"
    assert len(kill["members"]) > 50  # type: ignore[arg-type]
    assert kill["survivors"] == []


_ORPHANS_THEN_EXIT_3 = textwrap.dedent(
    """
    import os, sys, time
    count, keep = int(sys.argv[1]), sys.argv[2] == "keep"
    for _ in range(count):
        if os.fork() == 0:
            if os.fork() == 0:
                if keep:
                    os.execvp("sleep", ["sleep", sys.argv[3]])
                os._exit(0)
            os._exit(0)
        os.wait()
    if not keep:
        time.sleep(0.5)
        wrapper = os.getppid()
        with open(f"/proc/{wrapper}/task/{wrapper}/children") as children:
            pids = [pid for pid in children.read().split() if pid != str(os.getpid())]
        zombies = 0
        for pid in pids:
            with open(f"/proc/{pid}/stat") as stat:
                zombies += stat.read().rsplit(")", 1)[1].split()[0] == "Z"
        print(f"zombies={zombies}", flush=True)
    sys.exit(3)
    """
)


def test_exit_3_propagates_while_orphans_are_reaped(setup: Setup) -> None:
    result = run(setup, "python3", "-c", _ORPHANS_THEN_EXIT_3, "300", "exit", "x")

    assert result.returncode == 3
    assert result.stdout == b"zombies=0\n"
    [execution] = setup.events("executions")
    assert execution["result"] == "failure"
    assert execution["command_returncode"] == 3
    assert execution["orphans_reaped"] == 300
    assert setup.events("kills") == []  # nothing was left to kill


@pytest.mark.slow
def test_a_thousand_leaked_orphans_are_killed_and_reaped(setup: Setup) -> None:
    result = run(
        setup, "python3", "-c", _ORPHANS_THEN_EXIT_3, "1000", "keep", setup.marker
    )

    assert result.returncode == 3
    assert marked(setup.marker) == []
    [execution] = setup.events("executions")
    assert execution["orphans_reaped"] == 1000
    [kill] = setup.events("kills")
    assert kill["reason"] == "cleanup"
    assert len(kill["members"]) == 1000  # type: ignore[arg-type]
    assert kill["survivors"] == []


@pytest.mark.parametrize(
    ("argv", "rule"),
    [
        pytest.param(
            ["sh", "-c", "touch {proof}; rm -rf / "],
            "security.blocked_patterns[0]",
            id="blocked-in-script",
        ),
        pytest.param(
            ["sh", "-c", "touch {proof}; curl https://x.invalid | sh"],
            "security.blocked_patterns[1]",
            id="curl-pipe-sh",
        ),
        pytest.param(
            ["touch", "{proof}"], "security.allowed_commands", id="not-allowed"
        ),
    ],
)
def test_refused_commands_never_start(
    setup: Setup, tmp_path: Path, argv: list[str], rule: str
) -> None:
    proof = tmp_path / "ran"
    result = run(setup, *[word.format(proof=proof) for word in argv])

    assert result.returncode == exitcodes.REFUSED
    assert not proof.exists()
    assert result.stdout == b""
    refusals = [
        line for line in result.stderr.decode().splitlines() if "refused by" in line
    ]
    assert len(refusals) == 1 and rule in refusals[0]
    [audit] = setup.events("audit")
    assert (audit["decision"], audit["rule"]) == ("refused", rule)
    assert audit["argv"] == [word.format(proof=proof) for word in argv]
    assert audit["cwd"] == os.getcwd()
    assert audit["user"] and audit["timestamp"]
    assert setup.events("executions") == []


def test_a_missing_command_exits_127_with_an_audit_line(setup: Setup) -> None:
    result = run(setup, "no-such-command-here")

    assert result.returncode == exitcodes.NOT_FOUND
    [audit] = setup.events("audit")
    assert (audit["decision"], audit["rule"]) == ("refused", "executable")


def test_allowed_commands_are_audited_and_output_passes_unchanged(setup: Setup) -> None:
    result = run(setup, "printf", "a\\tb\\r\\n\\0raw\\x01no newline")

    assert result.returncode == 0
    assert result.stdout == b"a\tb\r\n\0raw\x01no newline"
    [audit] = setup.events("audit")
    assert (audit["decision"], audit["rule"]) == (
        "allowed",
        "security.allowed_commands[4]",
    )
    [execution] = setup.events("executions")
    assert (execution["result"], execution["exit_code"]) == ("success", 0)


def test_stderr_passes_through_and_failure_is_recorded(setup: Setup) -> None:
    result = run(setup, "sh", "-c", "echo out; echo err >&2; exit 7")

    assert result.returncode == 7
    assert result.stdout == b"out\n"
    assert b"err\n" in result.stderr
    [execution] = setup.events("executions")
    assert execution["result"] == "failure"


_REPEATS = (
    "import time\nwhile True:\n"
    "    print('waiting for lock', flush=True)\n    time.sleep(0.2)\n"
)
_COUNTS = (
    "import time\nfor n in range(20):\n    print(n, flush=True)\n    time.sleep(0.2)\n"
)


def test_repeated_output_alone_is_still_a_stall(setup: Setup) -> None:
    result = run(setup, "python3", "-c", _REPEATS, options=("--stall", "1.5"))

    assert result.returncode == exitcodes.STALL_KILLED
    assert result.stdout.startswith(b"waiting for lock\n")


def test_new_output_is_progress(setup: Setup) -> None:
    result = run(setup, "python3", "-c", _COUNTS, options=("--stall", "1.5"))

    assert result.returncode == 0
    assert result.stdout == b"".join(b"%d\n" % n for n in range(20))


def test_repeated_output_cannot_outlive_the_hard_timeout(setup: Setup) -> None:
    result = run(
        setup,
        "python3",
        "-c",
        _COUNTS.replace("range(20)", "iter(int, 1)"),
        options=("--stall", "5", "--timeout", "1.5"),
    )

    assert result.returncode == exitcodes.TIMED_OUT


_TRAPS_TERM = textwrap.dedent(
    """
    import signal, sys, time
    def leave(signum, frame):
        print(f"got {signum}", flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    print("ready", flush=True)
    time.sleep(60)
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["term", "int"])
def test_signals_are_forwarded_then_the_tree_is_cleaned(
    setup: Setup, signum: signal.Signals
) -> None:
    with start(setup, "python3", "-c", _TRAPS_TERM) as wrapper:
        assert wrapper.stdout is not None
        wrapper.send_signal(signum)
        rest = wrapper.stdout.read()
        code = wrapper.wait(timeout=60)

    assert rest == f"got {int(signum)}\n".encode()
    assert code == exitcodes.SIGNAL_BASE + signum
    [execution] = setup.events("executions")
    assert execution["ending"] == "interrupted"
    assert execution["signal_received"] == signum
