"""``runner-watchdog serve``: the exporter of one runner host."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

import click

from exporter import __version__
from exporter.config import config_option, env_option
from exporter.logsetup import LEVELS, configure_from_settings, configure_logging
from exporter.procfs import raise_open_file_limit
from exporter.service import ExporterService, ServeOptions

logger = logging.getLogger(__name__)

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_SIGNALS = {signal.SIGHUP, *_STOP_SIGNALS}


def parse_listen(text: str) -> tuple[str, int]:
    """``ADDR:PORT``, ``[IPv6]:PORT`` or ``:PORT`` (every IPv4 interface)."""
    host, colon, port_text = text.rpartition(":")
    if not colon or not port_text.isdigit() or int(port_text) > 65535:
        raise click.BadParameter(
            f"{text!r}; expected ADDR:PORT such as 127.0.0.1:9477, [::1]:9477 "
            "or :9477, with a port from 0 to 65535"
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or "0.0.0.0", int(port_text)


@click.command("serve")
@config_option
@env_option
@click.option(
    "--listen",
    metavar="ADDR:PORT",
    help="Where to serve metrics [default: the config's metrics section].",
)
@click.option(
    "--web-config",
    "web_config",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="exporter-toolkit web config for TLS and basic auth "
    "[default: the config's metrics.web_config_file].",
)
@click.option(
    "--log-level",
    type=click.Choice(list(LEVELS)),
    help="Log level [default: the config's logging.level].",
)
def serve_command(
    config_path: Path,
    env_flag: str | None,
    listen: str | None,
    web_config: Path | None,
    log_level: str | None,
) -> None:
    """Watch the runner process trees of this host for stalls, record
    evidence, act, and serve Prometheus metrics.

    SIGHUP reloads the config (an invalid one is refused and the last good
    one kept, with spark_runner_config_valid 0); SIGTERM or SIGINT stops.
    """
    configure_logging(log_level or "info")
    address = parse_listen(listen) if listen else None
    options = ServeOptions(config_path, env_flag, address, web_config)
    descriptors = raise_open_file_limit()

    # Block the signals before any thread starts, so only sigwait sees them.
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    service = ExporterService(options, __version__)
    configure_from_settings(service.settings.config.logging, log_level)
    click.echo(f"environment: {service.settings.environment}", err=True)
    click.echo(f"listening on {service.server.url}", err=True)
    logger.info("exporter started open_file_limit=%d", descriptors)
    service.start()
    try:
        _wait_for_signals(service)
    finally:
        service.stop()
    logger.info("exporter stopped")


def _wait_for_signals(service: ExporterService) -> None:
    while True:
        received = signal.sigwait(_SIGNALS)
        if received in _STOP_SIGNALS:
            return
        logger.info("reload requested signal=SIGHUP")
        service.reload()
