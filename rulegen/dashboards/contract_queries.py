"""Selectors over the exporter's metric contract (exporter/contract.py),
filtered by the dashboards' template variables; shared by the fleet and the
exporter-health dashboards."""

from __future__ import annotations

from exporter import contract
from rulegen import names
from rulegen.dashboards import promql
from rulegen.dashboards.builder import Link, Variable
from rulegen.spec.model import SLO, EventCountSLI, EventsRatioSLI, LatencySLI, Spec

# The job labels a dashboard filters by, in the order the variables appear.
FILTERS = (contract.ENVIRONMENT, contract.HOST, contract.COMMAND_TYPE)
EXPORTER_FILTERS = (contract.ENVIRONMENT, contract.HOST)
# Results that count as failed: every known outcome but success.
SUCCESS = "success"
UNKNOWN = "unknown"
FAILED_RESULTS = tuple(r for r in contract.RESULTS if r not in (SUCCESS, UNKNOWN))


def reads_the_contract(spec: Spec) -> bool:
    """The runner dashboards fit a spec whose SLIs read the exporter's job
    metrics (as slo.yaml does); another service's spec gets the SLO
    dashboard only."""
    job_metrics = {
        contract.EXECUTIONS_TOTAL,
        contract.STALLS_TOTAL,
        contract.AUTO_SKIPS_TOTAL,
        contract.EXECUTION_DURATION,
    }
    read = set()
    for slo in spec.slos:
        sli = slo.sli
        if isinstance(sli, EventsRatioSLI):
            read |= {sli.bad.metric, sli.total.metric}
        elif isinstance(sli, LatencySLI):
            read.add(sli.histogram.metric)
        elif isinstance(sli, EventCountSLI):
            read.add(sli.events.metric)
    return bool(read & job_metrics)


def variables(spec: Spec) -> list[Variable]:
    """environment, then host within it, then command type within both."""
    found = []
    for i, label in enumerate(FILTERS):
        source = job_series(spec, contract.EXECUTIONS_TOTAL, FILTERS[:i])
        heading = label.replace("_", " ").capitalize()
        found.append(Variable(label, heading, f"label_values({source}, {label})"))
    return found


def job_series(
    spec: Spec,
    metric: str,
    filters: tuple[str, ...] = FILTERS,
    extra: tuple[str, ...] = (),
) -> str:
    """A job-level series of this service, filtered by the variables."""
    return promql.selector(metric, {names.SERVICE: spec.service}, filters, extra)


def health_series(spec: Spec, metric: str) -> str:
    """One of the exporter's own series: labelled with the exporter's
    service, environment and host, but no command type."""
    return promql.selector(metric, {names.SERVICE: spec.service}, EXPORTER_FILTERS)


def result_in(results: tuple[str, ...]) -> str:
    return f'{contract.RESULT}=~"{"|".join(results)}"'


def result_known() -> str:
    return f'{contract.RESULT}!="{UNKNOWN}"'


def runbook_links(spec: Spec, metric: str) -> list[Link]:
    """Runbooks of the alerts whose SLO counts bad events from ``metric``."""
    found: dict[str, Link] = {}
    for slo in spec.slos:
        if _bad_events_metric(slo) == metric:
            for alert in slo.alerts:
                found.setdefault(
                    alert.runbook_url, Link(f"Runbook: {alert.name}", alert.runbook_url)
                )
    return list(found.values())


def _bad_events_metric(slo: SLO) -> str:
    sli = slo.sli
    if isinstance(sli, EventsRatioSLI):
        return sli.bad.metric
    if isinstance(sli, LatencySLI):
        return sli.histogram.metric
    return sli.events.metric
