"""``runner-watchdog evidence``: rotate, verify and inspect evidence files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from exporter.config import Rotation, config_option, load_config
from exporter.evidence import evidence_status, rotate, verify
from exporter.evidence.status import render_status_text, status_document
from exporter.evidence.verify import VerifyReport

F = TypeVar("F", bound=Callable[..., Any])
EXIT_PROBLEMS = 1


def directory_option(command: F) -> F:
    """``--dir DIR``: the evidence directory instead of the config's."""
    decorate = click.option(
        "--dir",
        "directory",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Evidence directory [default: the config's logging.evidence_dir]",
    )
    return decorate(command)


def format_option(command: F) -> F:
    decorate = click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Output for people or for tools.",
    )
    return decorate(command)


def _settings(config_path: Path, directory: Path | None) -> tuple[Path, Rotation]:
    logging_settings = load_config(config_path).logging
    return directory or logging_settings.evidence_dir, logging_settings.rotation


@click.group("evidence")
def evidence_group() -> None:
    """Rotate, verify and inspect the evidence files."""


@evidence_group.command("rotate")
@config_option
@directory_option
def rotate_command(config_path: Path, directory: Path | None) -> None:
    """Seal files from earlier UTC days or over the size limit, delete what
    retention says, and rewrite the manifest."""
    target, rotation = _settings(config_path, directory)
    result = rotate(target, rotation)
    assert result is not None  # waiting for the lock always yields a result
    for name in result.sealed:
        click.echo(f"sealed {name}")
    for name in result.expired:
        click.echo(f"deleted {name} (past retention_days={rotation.retention_days})")
    for name in result.evicted:
        click.echo(f"deleted {name} (over max_total_bytes={rotation.max_total_bytes})")
    if not (result.sealed or result.expired or result.evicted):
        click.echo(f"nothing to rotate in {target}")


@evidence_group.command("verify")
@config_option
@directory_option
@format_option
@click.pass_context
def verify_command(
    ctx: click.Context, config_path: Path, directory: Path | None, output_format: str
) -> None:
    """Rehash every sealed file and compare it with the manifest. Exit 1 when
    any file is missing, extra, altered, torn or pending."""
    target = directory or _settings(config_path, None)[0]
    report = verify(target)
    if output_format == "json":
        click.echo(json.dumps(_report_document(report), sort_keys=True, indent=2))
    else:
        for problem in report.problems:
            click.echo(f"{problem.kind} {problem.name}: {problem.detail}")
        verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        click.echo(f"{verdict}: {report.checked} sealed file(s) rehashed in {target}")
    if not report.ok:
        ctx.exit(EXIT_PROBLEMS)


@evidence_group.command("status")
@config_option
@directory_option
@format_option
def status_command(
    config_path: Path, directory: Path | None, output_format: str
) -> None:
    """Sizes, file counts, oldest and newest files, and how close each limit
    is."""
    target, rotation = _settings(config_path, directory)
    status = evidence_status(target, rotation)
    if output_format == "json":
        click.echo(json.dumps(status_document(status), sort_keys=True, indent=2))
    else:
        click.echo(render_status_text(status), nl=False)


def _report_document(report: VerifyReport) -> dict[str, object]:
    return {
        "checked": report.checked,
        "ok": report.ok,
        "problems": [
            {"detail": p.detail, "kind": p.kind, "name": p.name}
            for p in report.problems
        ],
    }
