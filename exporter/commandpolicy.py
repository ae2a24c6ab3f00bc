"""May this command run? The allowlist, the shells and the blocked patterns.

The executable is resolved the way ``execvp`` will find it (``shutil.which``)
and matched on that resolved file, never on a substring of the command line:
an allowlist entry is a base name or an absolute path, optionally with the
leading arguments the command must start with (``exporter.config.allowlist``
defines the entries; ``./bin/make`` is ``make`` only when it is the file that
PATH finds for ``make``, and the same holds for shells). A shell may run only
when ``allow_shell`` is true and the shell is listed in ``shells``. Blocked
patterns are searched in the whole command line and in the script of every
``sh -c`` (or ``bash -lc`` ...) it carries, nested scripts included, each
as written and with its quoting undone.

The first rule that decides names itself in the decision, so the audit
evidence and the refusal line say exactly which config entry it was. A
blocked pattern that takes longer than PATTERN_SEARCH_SECONDS on a command
line (catastrophic backtracking) refuses it: the check fails closed.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from exporter.config.allowlist import SHELLS, AllowedCommand, is_named
from exporter.config.model import Security
from exporter.wrapper.timelimit import (
    PATTERN_SEARCH_SECONDS,
    TimeLimitExceeded,
    time_limit,
)

ALLOWED = "allowed"
REFUSED = "refused"
# How deep nested ``sh -c "bash -c '...'"`` scripts are searched.
_SCRIPT_DEPTH = 4


@dataclass(frozen=True)
class Decision:
    """The verdict on one command line and the rule that gave it."""

    allowed: bool
    rule: str  # the config entry that decided, e.g. security.blocked_patterns[2]
    detail: str  # one human sentence
    executable: str | None  # the resolved path, None when not found
    not_found: bool = False
    cannot_run: bool = False  # a path to a directory or a non-executable file

    @property
    def verdict(self) -> str:
        return ALLOWED if self.allowed else REFUSED


def decide(
    security: Security, argv: Sequence[str], path: str | None = None
) -> Decision:
    """Judge ``argv`` against the security settings; ``path`` is the search
    path (default: ``$PATH``)."""
    if not argv:
        return Decision(False, "argv", "no command given", None)
    resolved = shutil.which(argv[0], path=path)
    if resolved is not None:
        resolved = os.path.abspath(resolved)

    blocked = _blocked(security, argv)
    if blocked is not None:
        return Decision(False, blocked[0], blocked[1], resolved)
    if resolved is None:
        return _unresolved(argv[0])

    shell_refusal = _shell_refusal(security, argv)
    if shell_refusal is not None:
        return Decision(False, shell_refusal[0], shell_refusal[1], resolved)
    name = os.path.basename(resolved)
    if name in SHELLS and is_named(name, argv[0], resolved, path):
        detail = f"shell {name!r} is listed in security.shells"
        return Decision(True, "security.shells", detail, resolved)
    return _allowlisted(security, argv, resolved, path)


def _unresolved(command: str) -> Decision:
    """Why ``command`` cannot be started: not found, or (a path) not a file
    that can be executed, as a shell would tell them apart (127 and 126)."""
    if "/" not in command or not os.path.exists(command):
        where = "" if "/" in command else " on PATH"
        detail = f"{command!r} not found{where}"
        return Decision(False, "executable", detail, None, not_found=True)
    path = os.path.abspath(command)
    what = "a directory" if os.path.isdir(command) else "not executable"
    detail = f"{command!r} is {what}"
    return Decision(False, "executable", detail, path, cannot_run=True)


def _blocked(security: Security, argv: Sequence[str]) -> tuple[str, str] | None:
    texts = [" ".join(argv)]
    for script in shell_scripts(argv):
        # Also with the shell's quoting undone: r""m, \rm and "/"* are rm and /*.
        texts.extend(dict.fromkeys([script, " ".join(_split(script))]))
    index = 0
    try:
        with time_limit(PATTERN_SEARCH_SECONDS):
            for text in texts:
                for index, pattern in enumerate(security.blocked_patterns):
                    if pattern.search(text):
                        rule = f"security.blocked_patterns[{index}]"
                        return rule, f"matches blocked pattern {pattern.pattern}"
    except TimeLimitExceeded:
        rule = f"security.blocked_patterns[{index}]"
        detail = (
            f"searching the command line took over {PATTERN_SEARCH_SECONDS} s "
            "(the pattern backtracks catastrophically); refused to be safe"
        )
        return rule, detail
    return None


def _shell_refusal(security: Security, argv: Sequence[str]) -> tuple[str, str] | None:
    """A shell anywhere in argv (``sh -c`` behind a launcher too) needs
    ``allow_shell`` and a listing in ``shells``."""
    for word in _shell_words(argv):
        name = os.path.basename(word)
        if not security.allow_shell:
            return (
                "security.allow_shell",
                f"shell {name!r} refused: allow_shell is false",
            )
        if name not in security.shells:
            listed = ", ".join(security.shells) or "none"
            return "security.shells", f"shell {name!r} is not listed (listed: {listed})"
    return None


def _allowlisted(
    security: Security, argv: Sequence[str], resolved: str, path: str | None
) -> Decision:
    for index, entry in enumerate(security.allowed_commands):
        if AllowedCommand.parse(entry).allows(argv, resolved, path):
            rule = f"security.allowed_commands[{index}]"
            return Decision(True, rule, f"allowed by {entry!r}", resolved)
    detail = f"{resolved} is not in the allowlist"
    return Decision(False, "security.allowed_commands", detail, resolved)


def _shell_words(argv: Sequence[str]) -> Iterator[str]:
    """Words of argv that name a shell as the executable or as the command
    a launcher runs (the first word, or one followed by ``-c``)."""
    for position, word in enumerate(argv):
        if os.path.basename(word) not in SHELLS:
            continue
        if position == 0 or _script_flag_at(argv, position + 1) is not None:
            yield word


def shell_scripts(argv: Sequence[str], depth: int = _SCRIPT_DEPTH) -> list[str]:
    """The scripts of every ``SHELL -c SCRIPT`` in argv, and of the shells
    those scripts start in turn."""
    scripts: list[str] = []
    for position, word in enumerate(argv):
        if os.path.basename(word) not in SHELLS:
            continue
        script_at = _script_flag_at(argv, position + 1)
        if script_at is None or script_at >= len(argv):
            continue
        script = argv[script_at]
        scripts.append(script)
        if depth > 1:
            scripts.extend(shell_scripts(_split(script), depth - 1))
    return scripts


def _script_flag_at(argv: Sequence[str], start: int) -> int | None:
    """Where the script is when options from ``start`` include ``c``
    (``-c``, ``-ec``, ``-lc``, ``-o pipefail -c``); None without one."""
    position = start
    while position < len(argv) and argv[position].startswith(("-", "+")):
        option = argv[position]
        position += 1
        if option in ("-o", "+o"):
            position += 1  # its argument
        elif option == "--":
            break
        elif not option.startswith("--") and "c" in option[1:]:
            return position
    return None


def _split(script: str) -> list[str]:
    """Words of a shell script, best effort (unbalanced quotes: plain split)."""
    try:
        return shlex.split(script, comments=True)
    except ValueError:
        return script.split()
