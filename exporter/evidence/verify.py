"""Checking sealed files against the manifest.

``verify`` rehashes every file the manifest lists and reports each file
that is missing, extra (sealed-looking but unlisted), altered (size or
SHA-256 differs), torn (holds torn lines) or pending (a rotation was
interrupted before recording it; the next rotation finishes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from exporter.evidence.layout import MANIFEST_NAME, sealed_files
from exporter.evidence.manifest import (
    Manifest,
    ManifestEntry,
    describe_file,
    load_manifest,
)
from exporter.evidence.permissions import naming_read_denials, require_readable

ProblemKind = Literal["missing", "extra", "altered", "torn", "pending"]


@dataclass(frozen=True)
class Problem:
    name: str
    kind: ProblemKind
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    checked: int  # files rehashed
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(directory: Path) -> VerifyReport:
    """Rehash the sealed files and compare them with the manifest. A file
    that cannot be read raises an EvidencePermissionError naming it."""
    require_readable(directory)
    with naming_read_denials():
        return _verify(directory)


def _verify(directory: Path) -> VerifyReport:
    manifest = load_manifest(directory)
    on_disk = {name.name for name in sealed_files(directory)}
    problems: list[Problem] = []
    if manifest is None:
        if on_disk:
            detail = "no manifest, yet sealed files exist"
            problems.append(Problem(MANIFEST_NAME, "missing", detail))
        manifest = Manifest({}, frozenset())

    for entry in manifest.entries.values():
        if entry.name in on_disk:
            problems.extend(_check_file(directory / entry.name, entry))
        else:
            problems.append(Problem(entry.name, "missing", "listed, not on disk"))
    for name in sorted(manifest.pending & on_disk):
        problems.append(Problem(name, "pending", "sealing was interrupted"))
    for name in sorted(on_disk - manifest.entries.keys() - manifest.pending):
        problems.append(Problem(name, "extra", "on disk, not in the manifest"))

    checked = len(on_disk & manifest.entries.keys())
    return VerifyReport(checked, tuple(sorted(problems, key=_order)))


def _check_file(path: Path, recorded: ManifestEntry) -> list[Problem]:
    found = describe_file(path)
    problems = []
    if found.sha256 != recorded.sha256 or found.size != recorded.size:
        detail = (
            f"sha256 {found.sha256} size {found.size}, "
            f"recorded sha256 {recorded.sha256} size {recorded.size}"
        )
        problems.append(Problem(path.name, "altered", detail))
    if found.torn_lines:
        detail = f"{found.torn_lines} torn of {found.line_count} lines"
        problems.append(Problem(path.name, "torn", detail))
    return problems


def _order(problem: Problem) -> tuple[str, str]:
    return (problem.name, problem.kind)
