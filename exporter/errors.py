"""The exporter's one exception family; each class carries its exit code.

The CLI turns any of these into one line on stderr and the class's exit
code, never a traceback: they describe the user's input, not our bugs.
"""

from __future__ import annotations


class WatchdogError(Exception):
    """Base of every error the user can cause and fix."""

    exit_code = 1


class InvalidInputError(WatchdogError):
    """Input was read but is wrong: a config, an argument, a date."""

    exit_code = 1


class UnreadableInputError(WatchdogError):
    """Input could not be read at all, or is not the format it claims."""

    exit_code = 2
