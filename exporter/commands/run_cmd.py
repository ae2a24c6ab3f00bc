"""``runner-watchdog run``: run one command the way a CI step would, under
the exporter's stall detection, and leave evidence of what happened."""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from exporter.commandpolicy import Decision, decide
from exporter.commandtype import classify_argv
from exporter.config import (
    Config,
    config_option,
    env_option,
    load_config,
    resolve_environment,
)
from exporter.config.schema import config_schema
from exporter.contract import OTHER_COMMAND_TYPE
from exporter.errors import InvalidInputError, WatchdogError
from exporter.evidence import EvidenceWriter
from exporter.logsetup import configure_from_settings
from exporter.pushgateway import PushedRun, push_execution
from exporter.wrapper import exitcodes
from exporter.wrapper.reaper import SubreaperError
from exporter.wrapper.records import result_of, write_decision, write_run
from exporter.wrapper.supervise import WATCH_FAILED, Limits, RunOutcome, supervise
from exporter.wrapper.timelimit import (
    PATTERN_SEARCH_SECONDS,
    TimeLimitExceeded,
    time_limit,
)

logger = logging.getLogger(__name__)


def _schema_maximum(key: str) -> int:
    most: int = config_schema()["$defs"][key]["maximum"]
    return most


_EPILOG = "Exit status: the command's own, or\n\n" + "\n\n".join(
    f"{code}  {meaning}" for code, meaning in exitcodes.DOCUMENTED
)


class _RunCommand(click.Command):
    """Usage mistakes exit 125, the wrapper's own failure (GNU ``timeout``
    does the same), so they cannot pass for the command's own status 2."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            exc.show()
            sys.exit(exitcodes.WRAPPER_FAILED)


def _finite(
    ctx: click.Context, param: click.Parameter, value: float | None
) -> float | None:
    """FloatRange lets nan through: a nan allowance would never expire."""
    if value is not None and math.isnan(value):
        raise click.BadParameter("nan is not a number of seconds")
    return value


@click.command(
    "run",
    cls=_RunCommand,
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
    type=click.FloatRange(min=0.1, max=_schema_maximum("stall_seconds")),
    callback=_finite,
    metavar="S",
    help="Stall allowance in seconds",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=_schema_maximum("hard_timeout_seconds")),
    callback=_finite,
    metavar="H",
    help="Hard timeout in seconds",
)
@click.option("--pushgateway", metavar="URL", help="Also push execution metrics here")
@click.argument(
    "argv", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- CMD [ARGS]..."
)
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
    _occupy_standard_descriptors()
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
            _refuse(decision)

        try:
            outcome = supervise(argv, limits)
        except SubreaperError as exc:
            click.echo(f"runner-watchdog: cannot watch the command: {exc}", err=True)
            sys.exit(exitcodes.WRAPPER_FAILED)
        if outcome.error:
            doing = (
                "stopped watching" if outcome.ending == WATCH_FAILED else "cannot run"
            )
            click.echo(f"runner-watchdog: {doing} {argv[0]}: {outcome.error}", err=True)
        if outcome.output_lost:
            _say(f"output of {argv[0]} lost: {outcome.output_lost}")
        write_run(writer, command_type, argv, limits, outcome)

    url = pushgateway or config.metrics.pushgateway_url
    if url:
        _push(url, config, environment, command_type, outcome)
    sys.exit(outcome.exit_code)


def _say(message: str) -> None:
    """One line on stderr, if stderr itself can still be written."""
    try:
        click.echo(f"runner-watchdog: {message}", err=True)
    except OSError:
        logger.debug("stderr unwritable message=%s", message)


def _refuse(decision: Decision) -> NoReturn:
    if decision.not_found or decision.cannot_run:
        click.echo(
            f"runner-watchdog: cannot run the command: {decision.detail}", err=True
        )
        sys.exit(exitcodes.NOT_FOUND if decision.not_found else exitcodes.CANNOT_RUN)
    click.echo(
        f"runner-watchdog: refused by {decision.rule}: {decision.detail}", err=True
    )
    sys.exit(exitcodes.REFUSED)


def _occupy_standard_descriptors() -> None:
    """Point a closed stdin, stdout or stderr at /dev/null: otherwise the
    next file opened (an evidence file) would take its number and receive
    the command's output."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            os.set_inheritable(fd, True)  # the command inherits it


def _load(config_path: Path, env_flag: str | None) -> tuple[Config, str]:
    config = load_config(config_path)
    configure_from_settings(config.logging)
    return config, resolve_environment(config, env_flag)


def _command_type(config: Config, type_flag: str | None, argv: Sequence[str]) -> str:
    if type_flag is None:
        return _classified(config, argv)
    known = [*config.command_types, OTHER_COMMAND_TYPE]
    if type_flag not in known:
        raise InvalidInputError(
            f"--type {type_flag!r} is not a command type of {config.source}; "
            f"expected one of {', '.join(known)}"
        )
    return type_flag


def _classified(config: Config, argv: Sequence[str]) -> str:
    try:
        with time_limit(PATTERN_SEARCH_SECONDS):
            return classify_argv(config.command_types, argv)
    except TimeLimitExceeded:
        logger.warning(
            "argument patterns too slow on this command line, classified as %s",
            OTHER_COMMAND_TYPE,
        )
        return OTHER_COMMAND_TYPE


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
