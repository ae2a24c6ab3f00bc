"""``runner-watchdog run`` under abuse: signals the wrapper did not expect,
a tree larger than its descriptors, a container's pid 1, closed or vanished
output, a Pushgateway that trickles, patterns that never finish, usage
mistakes. Each ends with the documented exit status, one clear line and
nothing left running.

Every process a command starts carries a marker (a sleep of an odd length),
so a survivor is found among all processes; only marked processes are ever
signalled by the clean-up here.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from run_support import (
    BLOCKED_PATTERNS,
    Setup,
    WrapperConfig,
    marked,
    run,
    start,
    wrapper_setup,
)

from exporter.cli import main
from exporter.wrapper import exitcodes

CONFIG = WrapperConfig(
    argument_pattern="-m pytest",
    allowed_commands=("python3", "sleep", "true", "printf", "yes", "cat"),
)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with wrapper_setup(
        tmp_path, CONFIG, marker_lead=4, cwd=tmp_path, timeout_seconds=60
    ) as prepared:
        yield prepared


def stderr_lines(result: subprocess.CompletedProcess[bytes]) -> list[str]:
    return [
        line
        for line in result.stderr.decode().splitlines()
        if not line.startswith("config: ")
    ]


def comms(kill: dict[str, object]) -> list[str]:
    members = kill["members"]
    assert isinstance(members, list)
    return sorted(member["comm"] for member in members)


# --- signals the wrapper receives ---------------------------------------


@pytest.mark.parametrize(
    "signum",
    [signal.SIGHUP, signal.SIGQUIT, signal.SIGALRM],
    ids=["hup", "quit", "alrm"],
)
def test_ending_signals_clean_up_the_tree_instead_of_orphaning_it(
    setup: Setup, signum: signal.Signals
) -> None:
    script = f"sleep {setup.marker} & echo ready; sleep {setup.marker}"
    with start(setup, "sh", "-c", script) as wrapper:
        wrapper.send_signal(signum)
        code = wrapper.wait(timeout=60)

    assert code == exitcodes.SIGNAL_BASE + signum
    assert marked(setup.marker) == []
    [execution] = setup.events("executions")
    assert (execution["ending"], execution["signal_received"]) == (
        "interrupted",
        int(signum),
    )


def test_sigint_reaches_the_whole_foreground_group_like_a_terminal(
    setup: Setup,
) -> None:
    # "ready" comes from inside the foreground child, so the signal cannot
    # reach the group before that child exists.
    foreground = f"sh -c 'echo ready; exec sleep {setup.marker}'"
    script = f"sleep {setup.marker} & {foreground}; echo after"
    with start(setup, "sh", "-c", script) as wrapper:
        wrapper.send_signal(signal.SIGINT)
        assert wrapper.stdout is not None
        rest = wrapper.stdout.read()
        code = wrapper.wait(timeout=60)

    assert code == 130
    assert rest == b""
    [execution] = setup.events("executions")
    # The shell died of the SIGINT itself, not of the clean-up's SIGTERM.
    assert execution["command_returncode"] == -signal.SIGINT
    [kill] = setup.events("kills")
    assert kill["reason"] == "signal"
    assert comms(kill) == ["sleep"]  # the background sleep ignores SIGINT
    assert marked(setup.marker) == []


_USR1_EXITS_5 = textwrap.dedent(
    """
    import signal, sys
    def leave(signum, frame):
        print("usr1", flush=True)
        sys.exit(5)
    signal.signal(signal.SIGUSR1, leave)
    print("ready", flush=True)
    signal.pause()
    """
)


def test_sigusr1_is_passed_on_and_the_run_goes_on(setup: Setup) -> None:
    with start(setup, "python3", "-c", _USR1_EXITS_5) as wrapper:
        wrapper.send_signal(signal.SIGUSR1)
        assert wrapper.stdout is not None
        rest = wrapper.stdout.read()
        code = wrapper.wait(timeout=60)

    assert (code, rest) == (5, b"usr1\n")
    [execution] = setup.events("executions")
    assert (execution["ending"], execution["signal_received"]) == ("exited", None)


# --- trees the wrapper cannot hold, and a container's pid 1 --------------


_MANY_SLEEPERS = textwrap.dedent(
    """
    import os, sys, time
    for _ in range(150):
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", sys.argv[1]])
    print("ready", flush=True)
    time.sleep(120)
    """
)


def _few_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))


def test_a_tree_larger_than_the_descriptor_limit_is_killed_not_leaked(
    setup: Setup,
) -> None:
    result = run(
        setup,
        "python3",
        "-c",
        _MANY_SLEEPERS,
        setup.marker,
        preexec_fn=_few_descriptors,
    )

    assert result.returncode == exitcodes.WRAPPER_FAILED
    assert b"Traceback" not in result.stderr
    [line] = [x for x in stderr_lines(result) if x.startswith("runner-watchdog:")]
    assert line.startswith("runner-watchdog: stopped watching python3: ")
    assert marked(setup.marker) == []
    [kill] = setup.events("kills")
    assert kill["reason"] == "watch_failed"
    assert kill["survivors"] == []
    assert len(comms(kill)) > 100  # beyond the pidfds it could hold, too
    [execution] = setup.events("executions")
    assert (execution["result"], execution["exit_code"]) == ("failure", 125)


def test_as_pid_1_of_a_container_the_stall_kill_still_happens(setup: Setup) -> None:
    script = f"sleep {setup.marker} & echo started; wait"
    result = run(
        setup,
        "sh",
        "-c",
        script,
        options=("--stall", "1"),
        launcher=("unshare", "--pid", "--fork", "--mount-proc"),
    )

    assert result.returncode == exitcodes.STALL_KILLED, result.stderr
    assert result.stdout == b"started\n"
    [kill] = setup.events("kills")
    assert comms(kill) == ["sh", "sleep"]
    assert kill["survivors"] == []
    assert "tree kill refused" not in result.stderr.decode()


# --- output nobody reads, closed descriptors ----------------------------


def test_a_reader_that_leaves_ends_the_command_with_sigpipe(setup: Setup) -> None:
    # `runner-watchdog run -- yes | head -c 1` must end like `yes | head -c 1`.
    with subprocess.Popen(
        setup.argv("yes", options=("--timeout", "30")),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=setup.env,
        cwd=setup.cwd,
        start_new_session=True,
    ) as wrapper:
        assert wrapper.stdout is not None
        assert wrapper.stdout.read(1) == b"y"
        wrapper.stdout.close()
        code = wrapper.wait(timeout=60)

    assert code == exitcodes.SIGNAL_BASE + signal.SIGPIPE
    [execution] = setup.events("executions")
    assert (execution["ending"], execution["command_returncode"]) == (
        "exited",
        -signal.SIGPIPE,
    )


@pytest.mark.parametrize("closed", [0, 1, 2], ids=["stdin", "stdout", "stderr"])
def test_closed_standard_descriptors_never_route_output_into_evidence(
    setup: Setup, closed: int
) -> None:
    script = "printf %s%s LEAK ED; printf %s%s LEAK ED >&2; cat"
    result = run(
        setup,
        "sh",
        "-c",
        script,
        stdin=subprocess.DEVNULL if closed != 0 else None,
        preexec_fn=lambda: os.close(closed),
    )

    assert result.returncode == 0  # cat reads an empty stdin, not a closed one
    leaked = [
        path.name for path in setup.evidence.iterdir() if b"LEAKED" in path.read_bytes()
    ]
    assert leaked == []
    assert result.stdout == (b"" if closed == 1 else b"LEAKED")
    assert (b"LEAKED" in result.stderr) == (closed != 2)


@pytest.mark.parametrize(
    ("stream", "script", "code"),
    [
        pytest.param("stdout", "echo hi", exitcodes.WRAPPER_FAILED, id="stdout"),
        pytest.param("stderr", "echo hi >&2", exitcodes.WRAPPER_FAILED, id="stderr"),
        pytest.param("stdout", "echo hi; exit 3", 3, id="own-failure-kept"),
    ],
)
def test_output_that_cannot_be_written_is_reported_not_hidden(
    setup: Setup, stream: str, script: str, code: int
) -> None:
    other_fd = 2 if stream == "stdout" else 1
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            setup.argv("sh", "-c", f"echo other-stream >&{other_fd}; {script}"),
            stdout=full if stream == "stdout" else subprocess.PIPE,
            stderr=full if stream == "stderr" else subprocess.PIPE,
            env=setup.env,
            cwd=setup.cwd,
            timeout=60,
            check=False,
        )

    assert result.returncode == code
    [execution] = setup.events("executions")
    lost = f"{stream}: [Errno 28] No space left on device"
    assert execution["output_lost"] == lost
    assert execution["command_returncode"] == (3 if code == 3 else 0)
    other = result.stderr if stream == "stdout" else result.stdout
    assert b"other-stream\n" in other  # the other stream still flows
    if stream == "stdout":
        assert f"runner-watchdog: output of sh lost: {lost}" in result.stderr.decode()


# --- a Pushgateway that answers a byte at a time ------------------------


@pytest.fixture
def trickling_gateway() -> Iterator[str]:
    """A loopback server that sends headers, then one byte per half second."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()
    clients: list[socket.socket] = []

    def answer(client: socket.socket) -> None:
        try:
            client.recv(65536)
            client.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
            while not stop.wait(0.5):
                client.sendall(b"#")
        except OSError:
            return

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            clients.append(client)
            threading.Thread(target=answer, args=(client,), daemon=True).start()

    acceptor = threading.Thread(target=serve, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        server.close()
        for client in clients:
            client.close()
        acceptor.join(timeout=5)


def test_a_trickling_pushgateway_cannot_hold_the_wrapper(
    setup: Setup, trickling_gateway: str
) -> None:
    result = run(setup, "printf", "ok", options=("--pushgateway", trickling_gateway))

    assert (result.returncode, result.stdout) == (0, b"ok")
    warnings = [x for x in stderr_lines(result) if "metrics push failed" in x]
    assert len(warnings) == 1
    assert warnings[0].endswith(
        f"metrics push failed: no complete answer from {trickling_gateway} within 5.0 s"
    )


# --- patterns that never finish ------------------------------------------


def test_catastrophic_patterns_refuse_instead_of_hanging(setup: Setup) -> None:
    setup.write_config(
        replace(
            CONFIG,
            argument_pattern="(x+)+z",
            blocked_patterns=("(x+x+)+y", *BLOCKED_PATTERNS),
        )
    )

    result = run(setup, "printf", "x" * 40)

    assert result.returncode == exitcodes.REFUSED
    assert result.stdout == b""
    lines = stderr_lines(result)
    assert any(
        "argument patterns too slow on this command line, classified as other" in x
        for x in lines
    )
    assert lines[-1] == (
        "runner-watchdog: refused by security.blocked_patterns[0]: searching the "
        "command line took over 2.0 s (the pattern backtracks catastrophically); "
        "refused to be safe"
    )
    [audit] = setup.events("audit")
    assert (audit["decision"], audit["rule"], audit["command_type"]) == (
        "refused",
        "security.blocked_patterns[0]",
        "other",
    )


# --- usage mistakes and commands that cannot start -----------------------


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param([], "Missing argument '-- CMD [ARGS]...'.", id="no-command"),
        pytest.param(["--"], "Missing argument '-- CMD [ARGS]...'.", id="only-dashes"),
        pytest.param(["--bogus", "--", "true"], "No such option", id="unknown-option"),
        pytest.param(
            ["--stall", "nan", "--", "true"], "nan is not a number", id="stall-nan"
        ),
        pytest.param(
            ["--timeout", "inf", "--", "true"],
            "inf is not in the range 0.1<=x<=604800",
            id="timeout-inf",
        ),
        pytest.param(
            ["--stall", "0", "--", "true"],
            "0.0 is not in the range 0.1<=x<=86400",
            id="stall-zero",
        ),
    ],
)
def test_usage_mistakes_exit_125_not_2(args: list[str], error: str) -> None:
    result = CliRunner().invoke(main, ["run", *args])

    assert result.exit_code == exitcodes.WRAPPER_FAILED
    [line] = [x for x in result.output.splitlines() if x.startswith("Error:")]
    assert error in line


@pytest.mark.parametrize(
    ("command", "code", "detail"),
    [
        pytest.param("{tmp}", 126, "'{tmp}' is a directory", id="directory"),
        pytest.param(
            "./notes", 126, "'./notes' is not executable", id="not-executable"
        ),
        pytest.param("./missing", 127, "'./missing' not found", id="missing-path"),
        pytest.param(
            "missing-tool", 127, "'missing-tool' not found on PATH", id="name"
        ),
    ],
)
def test_commands_that_cannot_start_exit_like_a_shell(
    setup: Setup, command: str, code: int, detail: str
) -> None:
    assert setup.cwd is not None  # the fixture runs commands in tmp_path
    (setup.cwd / "notes").write_text("not a program\n")
    command = command.format(tmp=setup.cwd)

    result = run(setup, command)

    assert result.returncode == code
    assert stderr_lines(result) == [
        f"runner-watchdog: cannot run the command: {detail.format(tmp=setup.cwd)}"
    ]
    [audit] = setup.events("audit")
    assert (audit["decision"], audit["rule"]) == ("refused", "executable")
