"""``runner-watchdog evidence``: rotate, verify and inspect evidence files.

Each command refuses (exit 2) a directory that does not exist, saying
where the path came from: a mistyped ``--dir`` never looks like an empty,
healthy directory.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from exporter.config import Config, config_option, load_config
from exporter.errors import UnreadableInputError
from exporter.evidence import evidence_status, rotate, verify
from exporter.evidence.permissions import denial
from exporter.evidence.status import render_status_text, status_document
from exporter.evidence.verify import VerifyReport

F = TypeVar("F", bound=Callable[..., Any])
EXIT_PROBLEMS = 1


def directory_option(command: F) -> F:
    """``--dir DIR``: the evidence directory instead of the config's."""
    decorate = click.option(
        "--dir",
        "directory",
        # Existence and permissions are checked with the evidence's own
        # wording (evidence_directory), not click's.
        type=click.Path(file_okay=False, readable=False, path_type=Path),
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


def evidence_directory(directory: Path | None, config: Config | None) -> Path:
    """``--dir``, else the config's ``logging.evidence_dir`` (``config`` may
    be None only with ``--dir``), refused when it is not a directory."""
    if directory is not None:
        return _existing_directory(directory, "from --dir")
    assert config is not None
    origin = f"logging.evidence_dir of {config.source}"
    return _existing_directory(config.logging.evidence_dir, origin)


def _existing_directory(directory: Path, origin: str) -> Path:
    try:
        status = os.stat(directory)
    except FileNotFoundError:
        raise UnreadableInputError(
            f"{directory}: no such evidence directory ({origin}); expected an "
            "existing directory (the exporter creates it when it starts)"
        ) from None
    except PermissionError:
        raise denial(directory, "search") from None
    except OSError as error:
        raise UnreadableInputError(
            f"{directory}: cannot be looked up ({error.strerror}; {origin})"
        ) from None
    if not stat.S_ISDIR(status.st_mode):
        raise UnreadableInputError(
            f"{directory}: not a directory ({origin}); expected the evidence directory"
        )
    return directory


@click.group("evidence")
def evidence_group() -> None:
    """Rotate, verify and inspect the evidence files."""


@evidence_group.command("rotate")
@config_option
@directory_option
def rotate_command(config_path: Path, directory: Path | None) -> None:
    """Seal files from earlier UTC days or over the size limit, delete what
    retention says, and rewrite the manifest."""
    config = load_config(config_path)
    target = evidence_directory(directory, config)
    rotation = config.logging.rotation
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
    config = None if directory else load_config(config_path)
    target = evidence_directory(directory, config)
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
    config = load_config(config_path)
    target = evidence_directory(directory, config)
    status = evidence_status(target, config.logging.rotation)
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
