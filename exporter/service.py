"""The exporter as one service: load the config, sample on a thread, serve
``/metrics``, and reload on request.

Start refuses an invalid config (the caller reports every problem), and
an evidence directory it cannot create or use (the error names it). A
reload that fails keeps the last good config, logs every problem and sets
``spark_runner_config_valid`` to 0 until a reload succeeds. The listen
address and port stay as started; everything else follows the new config.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from exporter.config import load_config, resolve_environment
from exporter.config.errors import ConfigInvalid, ConfigUnreadable
from exporter.errors import InvalidInputError, WatchdogError
from exporter.evidence.failures import naming_failures
from exporter.evidence.permissions import require_creatable, require_usable_directory
from exporter.evidence.private import ensure_directory
from exporter.metrics import ExporterMetrics
from exporter.procfs import PROC_ROOT
from exporter.sampling import SamplingLoop
from exporter.server import MetricsServer
from exporter.settings import WatchSettings
from exporter.webconfig import WebConfig, load_web_config

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    config_path: Path
    env_flag: str | None = None
    listen: tuple[str, int] | None = None  # overrides the config's metrics
    web_config_path: Path | None = None  # overrides metrics.web_config_file


@dataclass(frozen=True)
class Loaded:
    settings: WatchSettings
    web: WebConfig | None


def load(options: ServeOptions) -> Loaded:
    """Everything a start or reload reads; raises a WatchdogError naming
    every problem."""
    config = load_config(options.config_path)
    environment = resolve_environment(config, options.env_flag)
    web_path = options.web_config_path or config.metrics.web_config_file
    web = load_web_config(web_path) if web_path is not None else None
    return Loaded(WatchSettings(config, environment), web)


def prepare_evidence_directory(directory: Path) -> None:
    """Create the evidence directory when missing. Start is refused (an
    error naming the directory and the permission) when the exporter could
    not list, create and rename files in it: every write would fail."""
    require_creatable(directory)
    with naming_failures(directory, "the exporter cannot keep evidence there"):
        ensure_directory(directory)
    require_usable_directory(directory)


class ExporterService:
    def __init__(
        self, options: ServeOptions, version: str, proc_root: str = PROC_ROOT
    ) -> None:
        self.options = options
        self.loaded = load(options)
        prepare_evidence_directory(self.loaded.settings.config.logging.evidence_dir)
        self.metrics = ExporterMetrics(version)
        self.loop = SamplingLoop(self.loaded.settings, self.metrics, proc_root)
        metrics_settings = self.loaded.settings.config.metrics
        address, port = options.listen or (
            metrics_settings.listen_address,
            metrics_settings.port,
        )
        try:
            self.server = MetricsServer(
                address, port, metrics_settings.path, self.metrics, self.loaded.web
            )
        except OSError as exc:
            self.loop.stop()
            raise InvalidInputError(
                f"cannot listen on {address}:{port}: {exc.strerror or exc}; "
                "expected a free port on a local address (--listen ADDR:PORT)"
            ) from None

    @property
    def settings(self) -> WatchSettings:
        return self.loaded.settings

    def start(self) -> None:
        self.loop.start()
        self.server.start()

    def reload(self) -> bool:
        """Re-read the config; True when it was applied."""
        try:
            loaded = load(self.options)
        except WatchdogError as exc:
            self._report_reload_failure(exc)
            self.metrics.set_config_valid(False)
            return False
        self.loaded = loaded
        self.loop.reconfigure(loaded.settings)
        self.server.path = loaded.settings.config.metrics.path
        self.server.use_web_config(loaded.web)
        self.metrics.set_config_valid(True)
        logger.info("config reloaded file=%s", loaded.settings.config.source)
        return True

    def stop(self) -> None:
        self.server.close()
        self.loop.stop()

    def _report_reload_failure(self, exc: WatchdogError) -> None:
        problems = (
            exc.problems if isinstance(exc, ConfigInvalid | ConfigUnreadable) else []
        )
        logger.error(
            "config reload failed, keeping the last good config file=%s problems=%d",
            self.options.config_path,
            len(problems) or 1,
        )
        for problem in problems:
            logger.error("config problem: %s", problem)
        if not problems:
            logger.error("config problem: %s", exc)
