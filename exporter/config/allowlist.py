"""What an entry of ``security.allowed_commands`` means, and which entries are
risky.

An entry is an executable name (compared with the base name of the
executable as found on PATH, symlinks not followed) or an absolute path
(compared with that path), optionally followed by the leading arguments a
command must start with: ``python3 -m pytest`` allows ``python3 -m pytest -q``
but not ``python3 script.py``. A command given as a path (``./bin/echo``)
matches a name only when it is the very file that name finds on PATH, so a
file merely named like an allowed tool is not that tool.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

# Shells: allowing one allows any script. They belong under security.shells.
SHELLS = frozenset(
    {"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "csh", "tcsh"}
    | {"rbash", "busybox", "pwsh", "powershell"}
)

# Commands whose job is to run another command, so allowing them allows
# anything: the allowlist would be checked against the wrapper only.
LAUNCHERS = frozenset(
    {"env", "xargs", "sudo", "doas", "su", "nohup", "nice", "ionice", "timeout"}
    | {"stdbuf", "setsid", "chroot", "unshare", "nsenter", "flock", "watch"}
    | {"time", "strace", "ltrace", "gdb", "parallel", "exec", "eval", "command"}
)

# Interpreters and the arguments that make them run code given inline.
INLINE_CODE_FLAGS: dict[str, frozenset[str]] = {
    "python": frozenset({"-c"}),
    "perl": frozenset({"-e", "-E"}),
    "ruby": frozenset({"-e"}),
    "node": frozenset({"-e", "--eval", "-p", "--print"}),
    "nodejs": frozenset({"-e", "--eval", "-p", "--print"}),
    "php": frozenset({"-r"}),
    "lua": frozenset({"-e"}),
    "Rscript": frozenset({"-e"}),
    "awk": frozenset(),  # the program text is its first argument
}

WILDCARD_CHARACTERS = frozenset("*?[]")


@dataclass(frozen=True)
class AllowedCommand:
    """One parsed allowlist entry."""

    executable: str  # a base name, or an absolute path
    leading_args: tuple[str, ...]

    @classmethod
    def parse(cls, entry: str) -> AllowedCommand:
        words = entry.split()
        return cls(words[0], tuple(words[1:]))

    def allows(
        self, argv: Sequence[str], resolved: str, path: str | None = None
    ) -> bool:
        """Whether this entry allows ``argv`` whose executable was found at
        ``resolved`` (the path from a search of ``path``, symlinks not
        followed)."""
        if self.executable.startswith("/"):
            if resolved != self.executable:
                return False
        elif not is_named(self.executable, argv[0], resolved, path):
            return False
        given = tuple(argv[1 : 1 + len(self.leading_args)])
        return given == self.leading_args


def is_named(name: str, command: str, resolved: str, path: str | None) -> bool:
    """Whether ``command`` (found at ``resolved``) is what the bare ``name``
    means: the same base name and, for a command given as a path, the same
    file that a search of ``path`` for ``name`` finds."""
    if os.path.basename(resolved) != name:
        return False
    if "/" not in command:
        return True  # found by that very search
    found = shutil.which(name, path=path)
    try:
        return found is not None and os.path.samefile(found, resolved)
    except OSError:
        return False


def interpreter_family(executable: str) -> str | None:
    """``python3.11`` -> ``python``; None when not an interpreter we know."""
    name = os.path.basename(executable)
    stem = name.rstrip("0123456789.")
    if name in INLINE_CODE_FLAGS:
        return name
    if stem in INLINE_CODE_FLAGS:
        return stem
    if name in {"gawk", "mawk", "nawk"}:
        return "awk"
    return None


def risk_of(entry: str) -> str | None:
    """Why an entry weakens the allowlist, or None when it does not."""
    if not entry.split():
        return None  # blank: the schema reports it
    if WILDCARD_CHARACTERS & set(entry):
        return "a wildcard allows commands nobody listed"
    parsed = AllowedCommand.parse(entry)
    name = os.path.basename(parsed.executable)
    if name in SHELLS:
        return (
            f"{name!r} is a shell, so it would run any script; list it under "
            "security.shells with allow_shell: true instead"
        )
    if name in LAUNCHERS:
        return f"{name!r} runs other commands, which the allowlist would not see"
    family = interpreter_family(name)
    if family == "awk":
        return f"{name!r} runs the program text it is given"
    if family is not None:
        inline = INLINE_CODE_FLAGS[family] & set(parsed.leading_args)
        if inline:
            flag = sorted(inline)[0]
            return f"{name} {flag} runs inline code, which nobody reviewed"
    return None
