"""Scenario ``evidence``: evidence files are private, a rotation seals them
into a manifest that verifies, and one altered byte is detected.

It writes one more execution (a wrapped ``true``), so there is evidence
whatever ran before, then:

1. checks the modes: the directory ``0700``, every file in it ``0600``;
2. rotates as the exporter does at the next UTC day change (the same
   ``rotate``, with tomorrow's date), sealing every active file, and runs
   ``runner-watchdog evidence verify``: it must pass;
3. flips one bit of one byte in the middle of a sealed file and verifies
   again: it must exit 1 naming that file as altered;
4. restores the byte and verifies once more, leaving the evidence sound.
"""

from __future__ import annotations

import json
import stat
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from exporter.chaos.lab import Lab
from exporter.chaos.labconfig import RUN_JOB
from exporter.chaos.outcome import Outcome, ScenarioFailed, Verdict
from exporter.chaos.scenario import ChaosSettings, Scenario
from exporter.config import load_config
from exporter.contract import COMMAND_TYPE, EXECUTION_STREAM
from exporter.evidence import rotate, sealed_files

DIRECTORY_MODE: Final = 0o700
FILE_MODE: Final = 0o600
VERIFY_TIMEOUT_SECONDS: Final = 60


def plan(settings: ChaosSettings) -> list[str]:
    return [
        f"start 1 `runner-watchdog run -- true` wrapper (type {RUN_JOB.name})",
        "check the modes of the evidence directory and files, rotate as the next "
        "UTC day would, then run `runner-watchdog evidence verify` on the sealed "
        "files, after altering one byte, and after restoring it",
    ]


class _Verified:
    def __init__(self, status: int, document: dict[str, object]) -> None:
        self.status = status
        raw = document.get("problems", [])
        self.problems: list[dict[str, str]] = raw if isinstance(raw, list) else []
        self.checked = document.get("checked")

    @property
    def summary(self) -> str:
        kinds = ", ".join(f"{p['kind']} {p['name']}" for p in self.problems)
        return f"exit {self.status}, {self.checked} files rehashed" + (
            f", {kinds}" if kinds else ""
        )


def _verify(lab: Lab) -> _Verified:
    done = subprocess.run(
        lab.watchdog(
            "evidence",
            "verify",
            "--config",
            str(lab.config_path),
            "--format",
            "json",
        ),
        capture_output=True,
        text=True,
        timeout=VERIFY_TIMEOUT_SECONDS,
        check=False,
    )
    try:
        document = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise ScenarioFailed(
            f"evidence verify printed no report (exit {done.returncode}): "
            f"{done.stderr.strip()[-300:]}"
        ) from None
    return _Verified(done.returncode, document)


def run(lab: Lab, settings: ChaosSettings) -> Outcome:
    _write_one_execution(lab)
    directory = lab.evidence_dir
    verdict = Verdict()
    created = _modes(directory)
    verdict.expect(not _wrong(created), f"wrong modes: {_wrong(created)}")

    lab.progress.step("rotating as the next UTC day would")
    rotation = load_config(lab.config_path).logging.rotation
    result = rotate(directory, rotation, datetime.now(UTC) + timedelta(days=1))
    sealed = list(result.sealed) if result is not None else []
    modes = _modes(directory)
    verdict.expect(bool(sealed), "the rotation sealed nothing")
    verdict.expect(not _wrong(modes), f"wrong modes after rotation: {_wrong(modes)}")

    lab.progress.step("verifying the sealed files")
    first = _verify(lab)
    verdict.expect(first.status == 0, f"verify after rotation: {first.summary}")
    tamper = _tamper(lab, directory / _victim(directory))
    verdict.expect(
        tamper.found.status == 1 and tamper.altered == [tamper.target.name],
        f"verify after tampering: {tamper.found.summary}",
    )
    restored = _verify(lab)
    verdict.expect(restored.status == 0, f"verify after restoring: {restored.summary}")
    return Outcome(
        scenario="evidence",
        passed=verdict.passed,
        did=(
            f"checked the modes of {len(created) - 1} evidence files and their "
            f"directory, sealed {len(sealed)} files by a rotation dated tomorrow, "
            f"verified, flipped one bit of byte {tamper.offset} of "
            f"{tamper.target.name}, verified again, restored it"
        ),
        expected=(
            "directory 0700 and files 0600; the manifest verifies after rotation; "
            "the altered file reported (exit 1), and only it"
        ),
        saw=verdict.saw(
            f"modes {_mode_summary(modes)}; verify after rotation: "
            f"{first.summary}; after tampering: {tamper.found.summary}; "
            f"after restoring: {restored.summary}"
        ),
        detection=f"the altered byte was reported in {tamper.seconds:.2f} s",
        detection_seconds=tamper.seconds,
        facts={
            "modes": {name: f"{mode:04o}" for name, mode in sorted(modes.items())},
            "sealed": sealed,
            "verify_after_rotation": first.status,
            "verify_after_tampering": tamper.found.status,
            "altered": tamper.altered,
            "tampered_file": tamper.target.name,
            "verify_after_restoring": restored.status,
        },
    )


def _write_one_execution(lab: Lab) -> None:
    """A wrapped ``true``: evidence exists whatever ran before."""
    before = len(_runs(lab))
    config = str(lab.config_path)
    lab.spawn(
        lab.watchdog("run", "--config", config, "--type", RUN_JOB.name, "--", "true")
    )
    lab.wait_until(
        "the wrapped run's execution event", lambda: len(_runs(lab)) > before, 30
    )


@dataclass(frozen=True)
class _Tamper:
    target: Path
    offset: int
    found: _Verified
    altered: list[str]
    seconds: float


def _tamper(lab: Lab, target: Path) -> _Tamper:
    """Flip one bit, verify, and put the byte back."""
    offset, original = _flip(target)
    lab.progress.step(f"verifying after altering byte {offset} of {target.name}")
    started = time.monotonic()
    try:
        found = _verify(lab)
    finally:
        _restore(target, offset, original)
    seconds = time.monotonic() - started
    altered = [p["name"] for p in found.problems if p["kind"] == "altered"]
    return _Tamper(target, offset, found, altered, seconds)


def _runs(lab: Lab) -> list[object]:
    return [
        e for e in lab.events(EXECUTION_STREAM) if e.get(COMMAND_TYPE) == RUN_JOB.name
    ]


def _modes(directory: Path) -> dict[str, int]:
    """Permission bits of the directory (as ".") and of every file in it."""
    modes = {".": stat.S_IMODE(directory.stat().st_mode)}
    for path in sorted(directory.iterdir()):
        modes[path.name] = stat.S_IMODE(path.stat().st_mode)
    return modes


def _wrong(modes: dict[str, int]) -> dict[str, str]:
    """Entries whose mode is not the one evidence must have."""
    return {
        name: f"{mode:04o}"
        for name, mode in modes.items()
        if mode != (DIRECTORY_MODE if name == "." else FILE_MODE)
    }


def _mode_summary(modes: dict[str, int]) -> str:
    files = [mode for name, mode in modes.items() if name != "."]
    found = sorted({f"{mode:04o}" for mode in files})
    return f"directory {modes['.']:04o}, {len(files)} files {'/'.join(found)}"


def _victim(directory: Path) -> str:
    """The sealed file to alter: the largest, so the byte is a record's."""
    names = [name.name for name in sealed_files(directory)]
    if not names:
        raise ScenarioFailed("no sealed file to alter")
    return max(names, key=lambda name: (directory / name).stat().st_size)


def _flip(path: Path) -> tuple[int, int]:
    """Flip the lowest bit of the middle byte; its offset and old value."""
    data = bytearray(path.read_bytes())
    offset = len(data) // 2
    original = data[offset]
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    return offset, original


def _restore(path: Path, offset: int, value: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] = value
    path.write_bytes(bytes(data))


SCENARIO: Final = Scenario(
    name="evidence",
    title="private evidence files, a manifest that verifies, tampering detected",
    plan=plan,
    run=run,
)
