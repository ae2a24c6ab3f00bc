"""Reading the spec's gauge alerts: a gauge compared with a value, such as
the exporter's ``spark_runner_config_valid`` falling to 0."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rulegen.spec import fields
from rulegen.spec.alerts import alert_name, as_severity, runbook_location, runbook_page
from rulegen.spec.fields import Mapping, Source
from rulegen.spec.model import GAUGE_OPS, SEVERITIES, GaugeAlert
from rulegen.spec.selectors import selector
from yamlsource import KeyPath

GAUGE_ALERT_KEYS = (
    "name",
    "severity",
    "gauge",
    *GAUGE_OPS,
    "for",
    "runbook",
    "summary",
)


def gauge_alerts(
    src: Source, path: KeyPath, data: Any, runbook_base_url: str
) -> tuple[GaugeAlert, ...] | None:
    items = fields.sequence(src, path, data)
    if items is None:
        return None
    found = [
        _gauge_alert(src, (*path, i), item, runbook_base_url)
        for i, item in enumerate(items)
    ]
    return None if None in found else tuple(a for a in found if a)


def _gauge_alert(
    src: Source, path: KeyPath, data: Any, runbook_base_url: str
) -> GaugeAlert | None:
    m = Mapping(src, path, data, GAUGE_ALERT_KEYS)
    name = m.required("name", alert_name)
    severity = m.required("severity", fields.choice(SEVERITIES))
    gauge = m.required("gauge", selector)
    for_ = m.optional("for", fields.duration, timedelta(0))
    runbook = m.required("runbook", runbook_page)
    summary = m.required("summary", fields.text)
    given = [key for key in GAUGE_OPS if m.has(key)]
    if m.valid and len(given) != 1:
        src.error(path, f"give exactly one of: {', '.join(GAUGE_OPS)}")
        return None
    value = m.optional(given[0], fields.number, None) if given else None
    if None in (name, severity, gauge, for_, runbook, summary, value):
        return None
    assert name and severity and gauge and runbook and summary
    assert for_ is not None and value is not None
    url, page = runbook_location(runbook, runbook_base_url)
    return GaugeAlert(
        name=name,
        severity=as_severity(severity),
        gauge=gauge,
        op=GAUGE_OPS[given[0]],
        value=value,
        for_=for_,
        summary=summary,
        runbook_url=url,
        runbook_page=page,
        path=path,
    )
