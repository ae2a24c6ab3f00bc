"""Helpers of the end-to-end test: real Prometheus, Alertmanager and a
webhook receiver on loopback, and the test SLO spec (slo.yaml)."""
