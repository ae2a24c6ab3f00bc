"""runner-watchdog: finds stalled CI jobs on a runner host, records evidence,
kills them when the policy says so, and serves Prometheus metrics."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("runner-watchdog")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
