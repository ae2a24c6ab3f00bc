"""``runner-watchdog run``: run one command the way a CI step would, under
the exporter's stall detection, and leave evidence of what happened."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from exporter.commandpolicy import decide
from exporter.commandtype import classify_argv
from exporter.config import (
    Config,
    config_option,
    env_option,
    load_config,
    resolve_environment,
)
from exporter.contract import OTHER_COMMAND_TYPE
from exporter.errors import InvalidInputError, WatchdogError
from exporter.evidence import EvidenceWriter
from exporter.logsetup import configure_from_settings
from exporter.pushgateway import PushedRun, push_execution
from exporter.wrapper import exitcodes
from exporter.wrapper.reaper import SubreaperError
from exporter.wrapper.records import result_of, write_decision, write_run
from exporter.wrapper.supervise import Limits, RunOutcome, supervise

logger = logging.getLogger(__name__)

_EPILOG = "Exit status: the command's own, or\n\n" + "\n\n".join(
    f"{code}  {meaning}" for code, meaning in exitcodes.DOCUMENTED
)


@click.command(
    "run",
    epilog=_EPILOG,
    context_settings={"allow_interspersed_args": False},
)
@config_option
@env_option
@click.option(
    "--type", "type_flag", metavar="TYPE", help="Command type [default: classified]"
)
@click.option(
    "--stall",
    type=click.FloatRange(min=0.1),
    metavar="S",
    help="Stall allowance in seconds",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    metavar="H",
    help="Hard timeout in seconds",
)
@click.option("--pushgateway", metavar="URL", help="Also push execution metrics here")
@click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED)
def run_command(
    config_path: Path,
    env_flag: str | None,
    type_flag: str | None,
    stall: float | None,
    timeout: float | None,
    pushgateway: str | None,
    argv: Sequence[str],
) -> None:
    """Run CMD [ARGS...] (after --) if the security policy allows it, watch it
    for stalls, kill its whole tree on a stall or the hard timeout, and write
    audit, execution, stall and kill evidence."""
    try:
        config, environment = _load(config_path, env_flag)
        command_type = _command_type(config, type_flag, argv)
        limits = _limits(config, command_type, environment, stall, timeout)
    except WatchdogError as exc:
        click.echo(f"runner-watchdog: {exc}", err=True)
        sys.exit(exitcodes.WRAPPER_FAILED)

    writer = EvidenceWriter(
        config.logging.evidence_dir,
        config.logging.rotation,
        host=config.metrics.host,
        environment=environment,
    )
    with writer:
        decision = decide(config.security, argv)
        write_decision(writer, command_type, argv, decision)
        if not decision.allowed:
            click.echo(
                f"runner-watchdog: refused by {decision.rule}: {decision.detail}",
                err=True,
            )
            sys.exit(exitcodes.NOT_FOUND if decision.not_found else exitcodes.REFUSED)

        try:
            outcome = supervise(argv, limits)
        except SubreaperError as exc:
            click.echo(f"runner-watchdog: cannot watch the command: {exc}", err=True)
            sys.exit(exitcodes.WRAPPER_FAILED)
        if outcome.error:
            click.echo(
                f"runner-watchdog: cannot run {argv[0]}: {outcome.error}", err=True
            )
        write_run(writer, command_type, argv, limits, outcome)

    url = pushgateway or config.metrics.pushgateway_url
    if url:
        _push(url, config, environment, command_type, outcome)
    sys.exit(outcome.exit_code)


def _load(config_path: Path, env_flag: str | None) -> tuple[Config, str]:
    config = load_config(config_path)
    configure_from_settings(config.logging)
    return config, resolve_environment(config, env_flag)


def _command_type(config: Config, type_flag: str | None, argv: Sequence[str]) -> str:
    if type_flag is None:
        return classify_argv(config.command_types, argv)
    known = [*config.command_types, OTHER_COMMAND_TYPE]
    if type_flag not in known:
        raise InvalidInputError(
            f"--type {type_flag!r} is not a command type of {config.source}; "
            f"expected one of {', '.join(known)}"
        )
    return type_flag


def _limits(
    config: Config,
    command_type: str,
    environment: str,
    stall: float | None,
    timeout: float | None,
) -> Limits:
    allowance = config.allowance(command_type, environment)
    limits = Limits(
        stall_seconds=stall if stall is not None else allowance.stall_seconds,
        hard_timeout_seconds=timeout
        if timeout is not None
        else allowance.hard_timeout_seconds,
        kill_grace_seconds=allowance.kill_grace_seconds,
        sample_interval_seconds=allowance.sample_interval_seconds,
    )
    if limits.stall_seconds > limits.hard_timeout_seconds:
        logger.info(
            "stall allowance exceeds hard timeout stall=%s timeout=%s",
            limits.stall_seconds,
            limits.hard_timeout_seconds,
        )
    return limits


def _push(
    url: str, config: Config, environment: str, command_type: str, outcome: RunOutcome
) -> None:
    stall = outcome.stall
    run = PushedRun(
        service=config.metrics.service,
        environment=environment,
        host=config.metrics.host,
        command_type=command_type,
        result=result_of(outcome),
        duration_seconds=outcome.duration_seconds,
        stall_cause=stall.diagnosis.cause if stall is not None else None,
    )
    push_execution(url, run)
