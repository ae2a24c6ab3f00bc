"""``runner-watchdog chaos``: real misbehaving processes against a real
exporter on loopback; see ``exporter.chaos``."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

import click

from exporter.chaos.report import render_summary, report_document
from exporter.chaos.scenario import DEFAULT_BURST_JOBS, ChaosSettings
from exporter.chaos.suite import NAMES, chosen, dry_run_plan, run_suite
from exporter.logsetup import LEVELS, configure_logging

EXIT_FAILED = 1


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so the lab is cleaned up."""
    raise KeyboardInterrupt


@click.command("chaos")
@click.argument(
    "scenarios", nargs=-1, type=click.Choice(["all", *NAMES]), metavar="[SCENARIO]..."
)
@click.option(
    "--dry-run", is_flag=True, help="Say what would be started; start nothing."
)
@click.option(
    "--burst-jobs",
    type=click.IntRange(2, 200),
    default=DEFAULT_BURST_JOBS,
    show_default=True,
    help="How many jobs the burst scenario stalls at once.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JSON to this file.",
)
@click.option(
    "--keep",
    is_flag=True,
    help="Keep the lab directory even when every scenario passes.",
)
@click.option(
    "--log-level",
    type=click.Choice(list(LEVELS)),
    default="warning",
    show_default=True,
    help="Log level of the chaos command itself.",
)
def chaos_command(
    scenarios: tuple[str, ...],
    dry_run: bool,
    burst_jobs: int,
    report_path: Path | None,
    keep: bool,
    log_level: str,
) -> None:
    """Run chaos scenarios (all, io, hang, burst, metrics, evidence; default
    all) against a real exporter on loopback, with short allowances, and
    print per scenario what it did, expected and saw, and how long detection
    took. Exit 1 when any scenario fails.
    """
    selected = chosen(scenarios)
    settings = ChaosSettings(burst_jobs=burst_jobs)
    if dry_run:
        click.echo(dry_run_plan(selected, settings), nl=False)
        return
    configure_logging(log_level)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    result = run_suite(selected, settings, keep=keep)
    click.echo(render_summary(result.outcomes, result.elapsed_seconds), nl=False)
    if result.kept:
        click.echo(f"lab kept in {result.lab_directory}", err=True)
    if report_path is not None:
        report_path.write_text(
            report_document(
                result.outcomes,
                result.elapsed_seconds,
                str(result.lab_directory),
                result.kept,
            )
        )
    if not result.passed:
        sys.exit(EXIT_FAILED)
