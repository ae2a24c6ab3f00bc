"""One alerting pipeline of the end-to-end test: the test spec (or a
deliberately broken variant of it) built by ``rulegen build``, a real
Alertmanager with the generated config, and a real Prometheus scraping the
exporter every second with the packaging's scrape job and the generated
rules, alerting to that Alertmanager.

The spec's receivers are webhooks on a placeholder host; each pipeline
points them at the test's webhook receiver under a path of its own
(``/<variant>/<receiver>``), so one receiver tells the pipelines apart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from e2e.services import Service, start_alertmanager, start_prometheus

SPEC = Path(__file__).with_name("slo.yaml")
ROOT = SPEC.parents[2]
SCRAPE_CONFIG = ROOT / "packaging" / "prometheus" / "scrape-config.yml"
PLACEHOLDER = "http://webhook.e2e.invalid"
RULEGEN = str(Path(sys.executable).parent / "rulegen")
ALERT = "E2EStallFastBurn"
INTERVAL = "1s"  # scrape and rule evaluation (groups with their own keep it)


@dataclass(frozen=True)
class Variant:
    """The test spec with some text replaced (each must occur once)."""

    name: str
    replacements: tuple[tuple[str, str], ...] = ()

    def spec_text(self, webhook_url: str) -> str:
        text = SPEC.read_text()
        for old, new in self.replacements:
            assert text.count(old) == 1, f"{self.name}: {old!r} is not in the spec once"
            text = text.replace(old, new)
        return text.replace(PLACEHOLDER, f"{webhook_url}/{self.name}")


GOOD = Variant("good")
# A typo in the bad-events selector: rulegen accepts it, Prometheus evaluates
# it without error, and the alert can never fire.
BROKEN_RULE = Variant(
    "broken-rule",
    (("bad: spark_runner_stalls_total{", "bad: spark_runner_stall_total{"),),
)
# Critical alerts routed to the board instead of the pager.
BROKEN_ROUTE = Variant(
    "broken-route", (("critical: e2e-pager", "critical: e2e-board"),)
)


class Pipeline:
    def __init__(
        self, variant: Variant, directory: Path, target: str, webhook_url: str
    ) -> None:
        self.variant = variant
        self.directory = directory
        directory.mkdir()
        spec = directory / "slo.yaml"
        spec.write_text(variant.spec_text(webhook_url))
        self.out = directory / "out"
        subprocess.run(
            [RULEGEN, "build", str(spec), "--out", str(self.out)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.alertmanager_config = self.out / "alertmanager" / "alertmanager.yml"
        self.alertmanager: Service | None = start_alertmanager(
            self.alertmanager_config, directory
        )
        config = directory / "prometheus.yml"
        config.write_text(json.dumps(self._prometheus_config(target), indent=2))
        try:
            self.prometheus = start_prometheus(config, directory)
        except BaseException:
            self.stop()
            raise

    @property
    def path(self) -> str:
        """The webhook path prefix of this pipeline's receivers."""
        return f"/{self.variant.name}/"

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result; fails unless its status is success."""
        answer = self.prometheus.get_json("/api/v1/query", query=expr)
        assert answer["status"] == "success", f"{expr}: {answer}"
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def firing(self, alertname: str = ALERT) -> list[dict[str, str]]:
        """Label sets of the alert's firing instances."""
        expr = f'ALERTS{{alertname="{alertname}", alertstate="firing"}}'
        return [sample["metric"] for sample in self.query(expr)]

    def stop(self) -> None:
        prometheus = getattr(self, "prometheus", None)
        if prometheus is not None:
            prometheus.stop()
        if self.alertmanager is not None:
            self.alertmanager.stop()

    def _prometheus_config(self, target: str) -> dict[str, Any]:
        """The packaging's scrape job aimed at the test's exporter, every
        second, with the generated rules and this pipeline's Alertmanager."""
        job = dict(
            YAML(typ="safe").load(SCRAPE_CONFIG.read_text())["scrape_configs"][0]
        )
        job.update(
            scrape_interval=INTERVAL,
            scrape_timeout=INTERVAL,
            static_configs=[
                {
                    "targets": [target],
                    "labels": {"environment": "ci", "host": "testhost"},
                }
            ],
        )
        assert self.alertmanager is not None
        return {
            "global": {"scrape_interval": INTERVAL, "evaluation_interval": INTERVAL},
            "rule_files": [str(self.out / "prometheus" / "rules" / "*.yml")],
            "alerting": {
                "alertmanagers": [
                    {
                        "static_configs": [
                            {"targets": [f"127.0.0.1:{self.alertmanager.port}"]}
                        ]
                    }
                ]
            },
            "scrape_configs": [job],
        }


def expected_receiver(config: Path, labels: dict[str, str]) -> str:
    """The receiver Alertmanager's routing tree names for a label set, as
    ``amtool config routes test`` reads it."""
    done = subprocess.run(
        [
            "amtool",
            "config",
            "routes",
            "test",
            f"--config.file={config}",
            *(f"{name}={value}" for name, value in sorted(labels.items())),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()
