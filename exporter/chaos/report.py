"""The chaos results for people (text) and for tools (JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from exporter.chaos.outcome import Outcome

_LABEL_WIDTH = 10


def render_outcome(outcome: Outcome) -> str:
    verdict = "PASS" if outcome.passed else "FAIL"
    lines = [f"{verdict} {outcome.scenario} ({outcome.elapsed_seconds:.1f} s)"]
    for label, text in (
        ("did", outcome.did),
        ("expected", outcome.expected),
        ("saw", outcome.saw),
        ("detection", outcome.detection),
    ):
        lines.append(f"  {label + ':':<{_LABEL_WIDTH}} {text}")
    return "\n".join(lines) + "\n\n"


def render_summary(outcomes: Sequence[Outcome], elapsed_seconds: float) -> str:
    width = max((len(o.scenario) for o in outcomes), default=8)
    lines = [f"{'scenario':<{width}}  result  detection"]
    for outcome in outcomes:
        verdict = "pass" if outcome.passed else "FAIL"
        lines.append(f"{outcome.scenario:<{width}}  {verdict:<6}  {outcome.detection}")
    failed = sum(not outcome.passed for outcome in outcomes)
    lines.append(
        f"chaos: {len(outcomes) - failed} passed, {failed} failed "
        f"in {elapsed_seconds:.1f} s"
    )
    return "\n".join(lines) + "\n"


def report_document(
    outcomes: Sequence[Outcome], elapsed_seconds: float, lab: str, kept: bool
) -> str:
    document = {
        "passed": all(outcome.passed for outcome in outcomes),
        "elapsed_seconds": round(elapsed_seconds, 3),
        "lab_directory": lab,
        "lab_kept": kept,
        "scenarios": [outcome.to_document() for outcome in outcomes],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
