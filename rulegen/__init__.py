"""rulegen: one SLO spec in; Prometheus rules, their promtool tests,
Alertmanager routes, Grafana dashboards and runbooks out."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("runner-watchdog")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
