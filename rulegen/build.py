"""``rulegen build SPEC``: every artifact from one SLO spec.

Generators take the validated spec and return artifacts. The rule format
picks the rule generators; GENERATORS (the Alertmanager config, dashboards
and runbooks) run for every format.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import click

from rulegen import artifacts
from rulegen.alertmanager import alertmanager_files
from rulegen.artifacts import Artifact
from rulegen.dashboards import dashboard_files
from rulegen.gaugealerts import gauge_alert_files
from rulegen.promtests.testfile import promtool_test_files
from rulegen.rulefiles import k8s_files, prometheus_files
from rulegen.runbooks import runbook_files
from rulegen.spec.loader import load_spec
from rulegen.spec.model import Spec

log = logging.getLogger(__name__)

Generator = Callable[[Spec], list[Artifact]]

RULE_FORMATS: dict[str, tuple[Generator, ...]] = {
    "prometheus": (prometheus_files, promtool_test_files, gauge_alert_files),
    "k8s": (k8s_files,),
}
GENERATORS: list[Generator] = [alertmanager_files, dashboard_files, runbook_files]


def generate(spec: Spec, rule_format: str = "prometheus") -> list[Artifact]:
    """Every artifact of ``spec``, in a stable order."""
    found: list[Artifact] = []
    for generator in (*RULE_FORMATS[rule_format], *GENERATORS):
        found += generator(spec)
    return found


@click.command()
@click.argument(
    "spec_file",
    metavar="SPEC",
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option(
    "--out",
    "out",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory the artifacts are written under (prometheus/, ...).",
)
@click.option(
    "--format",
    "rule_format",
    type=click.Choice(sorted(RULE_FORMATS)),
    default="prometheus",
    show_default=True,
    help="prometheus: rule files and their promtool tests; k8s: one "
    "PrometheusRule resource (monitoring.coreos.com/v1).",
)
def build(spec_file: Path, out: Path, rule_format: str) -> None:
    """Generate the rules and their tests, the Alertmanager config, the
    dashboards and the runbooks from the SLO spec SPEC."""
    spec, warnings = load_spec(spec_file)
    for warning in warnings:
        click.echo(f"rulegen: {warning}", err=True)
    generated = generate(spec, rule_format)
    changed = artifacts.write(out, generated)
    files = "file" if len(generated) == 1 else "files"
    click.echo(
        f"rulegen: {len(generated)} {files} from {spec_file} under {out}, "
        f"{len(changed)} changed"
    )
