"""Running the chosen scenarios in one lab, and the dry run.

Scenarios run in the order of ``SCENARIOS`` whatever order they were named
in (``metrics`` compares everything the earlier ones left in the evidence).
A scenario that gives up or raises is a failed outcome; the others still
run. The lab directory is kept when any scenario failed, so its logs and
evidence can be read.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

from exporter.chaos import burst, childhang, integrity, iowait, metricsmatch
from exporter.chaos.lab import LAB_PREFIX, Lab, open_lab
from exporter.chaos.labconfig import config_text
from exporter.chaos.outcome import Outcome, ScenarioFailed
from exporter.chaos.progress import ProgressLine
from exporter.chaos.report import render_outcome
from exporter.chaos.scenario import ChaosSettings, Scenario

logger = logging.getLogger(__name__)

SCENARIOS: Final = (
    iowait.SCENARIO,
    childhang.SCENARIO,
    burst.SCENARIO,
    metricsmatch.SCENARIO,
    integrity.SCENARIO,
)
NAMES: Final = tuple(scenario.name for scenario in SCENARIOS)


@dataclass(frozen=True)
class SuiteResult:
    outcomes: tuple[Outcome, ...]
    elapsed_seconds: float
    lab_directory: Path
    kept: bool

    @property
    def passed(self) -> bool:
        return all(outcome.passed for outcome in self.outcomes)


def chosen(names: Sequence[str]) -> list[Scenario]:
    """The scenarios named (``all`` or nothing: every one), in suite order."""
    wanted = set(names)
    if not wanted or "all" in wanted:
        return list(SCENARIOS)
    return [scenario for scenario in SCENARIOS if scenario.name in wanted]


def run_suite(
    scenarios: Sequence[Scenario],
    settings: ChaosSettings,
    *,
    keep: bool = False,
    show: TextIO = sys.stdout,
    progress_stream: TextIO = sys.stderr,
    parent: Path | None = None,
) -> SuiteResult:
    """Run the scenarios in a fresh lab; each outcome is printed as it ends."""
    progress = ProgressLine(progress_stream, len(scenarios))
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with open_lab(progress, parent) as lab:
        for index, scenario in enumerate(scenarios, start=1):
            progress.begin(index, scenario.name)
            outcome = _run_one(lab, scenario, settings)
            outcomes.append(outcome)
            progress.clear()
            show.write(render_outcome(outcome))
            show.flush()
        lab.keep = keep or not all(outcome.passed for outcome in outcomes)
        directory, kept = lab.directory, lab.keep
    return SuiteResult(tuple(outcomes), time.monotonic() - started, directory, kept)


def _run_one(lab: Lab, scenario: Scenario, settings: ChaosSettings) -> Outcome:
    started = time.monotonic()
    try:
        outcome = scenario.run(lab, settings)
    except ScenarioFailed as exc:
        outcome = _failed(scenario, f"gave up: {exc}")
    except Exception as exc:  # a bug or a broken lab: report it, run the rest
        with (lab.directory / "chaos-errors.log").open("a") as log:
            traceback.print_exc(file=log)
        outcome = _failed(scenario, f"error: {type(exc).__name__}: {exc}")
    elapsed = time.monotonic() - started
    return Outcome(**{**outcome.__dict__, "elapsed_seconds": elapsed})


def _failed(scenario: Scenario, saw: str) -> Outcome:
    return Outcome(
        scenario=scenario.name,
        passed=False,
        did=scenario.title,
        expected=scenario.title,
        saw=saw,
        detection="not measured",
        detection_seconds=None,
    )


def dry_run_plan(scenarios: Sequence[Scenario], settings: ChaosSettings) -> str:
    """What a run would start, in words; starts and writes nothing."""
    placeholder = Path("<lab>")
    lines = [
        "dry run: nothing is started, nothing is written. A run would:",
        f"- create a lab directory {LAB_PREFIX}XXXXXXXX under the temporary "
        "directory ($TMPDIR), removed afterwards unless a scenario fails or "
        "--keep is given",
        "- write <lab>/runner.yaml (the runner marker is made fresh per run):",
        *(
            f"    {line}"
            for line in config_text(
                placeholder / "evidence", "rw-chaos-runner-<random>"
            ).splitlines()
            if not line.startswith("security:")
        ),
        "    security: the shipped config's security section",
        f"- start the fake runner root: {sys.executable} -c <root script> "
        "rw-chaos-runner-<random> <lab>/jobs.log",
        "- start the exporter: runner-watchdog serve --config <lab>/runner.yaml "
        "--listen 127.0.0.1:0 (log in <lab>/exporter.log)",
    ]
    for scenario in scenarios:
        lines.append(f"- scenario {scenario.name}: {scenario.title}")
        lines.extend(f"    {step}" for step in scenario.plan(settings))
    lines.append(
        "- stop the exporter, kill the fake runner root's tree, remove the lab"
    )
    return "\n".join(lines) + "\n"
