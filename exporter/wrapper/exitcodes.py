"""Exit codes of ``runner-watchdog run``, after GNU ``timeout`` where it has
one (124, 125, 126, 127). Otherwise the command's own status is returned,
and 128+N when the command (or the wrapper) ended on signal N.
"""

from __future__ import annotations

from typing import Final

REFUSED: Final = 122  # the policy refused the command; it never started
STALL_KILLED: Final = 123  # no progress for the stall allowance: tree killed
TIMED_OUT: Final = 124  # the hard timeout expired: tree killed
WRAPPER_FAILED: Final = 125  # the wrapper itself failed (usage, config, setup)
CANNOT_RUN: Final = 126  # found but could not be executed
NOT_FOUND: Final = 127  # the executable is not on PATH
SIGNAL_BASE: Final = 128  # 128+N: ended by signal N

# (code, meaning) for the README and --help.
DOCUMENTED: Final[tuple[tuple[int | str, str], ...]] = (
    (REFUSED, "refused by the security policy; the command never started"),
    (STALL_KILLED, "stalled: no progress for the stall allowance; tree killed"),
    (TIMED_OUT, "hard timeout expired; tree killed"),
    (
        WRAPPER_FAILED,
        "the wrapper failed (bad usage or config, cannot set up, or could not "
        "write the output of a command that succeeded)",
    ),
    (CANNOT_RUN, "the command was found but could not be executed"),
    (NOT_FOUND, "the command was not found"),
    ("128+N", "the command ended on signal N, or the wrapper received it"),
)


def from_returncode(returncode: int) -> int:
    """A Popen return code as a shell would report it."""
    return SIGNAL_BASE - returncode if returncode < 0 else returncode
