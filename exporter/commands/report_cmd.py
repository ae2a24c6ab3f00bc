"""``runner-watchdog report daily``: a day of evidence against the SLOs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click

from exporter.commands.evidence_cmd import (
    directory_option,
    evidence_directory,
    format_option,
)
from exporter.config import config_option, load_config
from exporter.errors import InvalidInputError
from exporter.report import daily_report, report_json, report_text
from rulegen.spec.loader import load_spec


@click.group("report")
def report_group() -> None:
    """Reports made from the evidence files."""


@report_group.command("daily")
@config_option
@directory_option
@click.option(
    "--date",
    "day_text",
    metavar="YYYY-MM-DD",
    default=None,
    help="The UTC day to report on [default: today, UTC]",
)
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("slo.yaml"),
    show_default=True,
    help="The SLO spec whose objectives the day is held against.",
)
@format_option
def daily_command(
    config_path: Path,
    directory: Path | None,
    day_text: str | None,
    spec_path: Path,
    output_format: str,
) -> None:
    """Executions, failures, stalls by cause, auto-skips, P95 duration per
    environment and command type, and each SLO of the spec met or missed."""
    day = parse_day(day_text) if day_text else datetime.now(UTC).date()
    config = load_config(config_path)
    spec, _ = load_spec(spec_path)
    target = evidence_directory(directory, config)
    report = daily_report(target, day, spec, config.metrics.service)
    if output_format == "json":
        click.echo(report_json(report), nl=False)
    else:
        click.echo(report_text(report), nl=False)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"--date {text!r} is not a day; expected YYYY-MM-DD, e.g. 2024-03-01"
        ) from None
