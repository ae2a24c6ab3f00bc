"""slo.yaml is written against the exporter's metric contract: the names,
labels and label values in exporter/contract.py, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter import contract
from rulegen.spec.loader import load_spec
from rulegen.spec.model import EventCountSLI, EventsRatioSLI, LatencySLI, Selector

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def spec():
    return load_spec(ROOT / "slo.yaml")[0]


def selectors(spec) -> list[Selector]:
    found: list[Selector] = []
    for slo in spec.slos:
        sli = slo.sli
        if isinstance(sli, EventsRatioSLI):
            found += [sli.bad, sli.total]
        elif isinstance(sli, LatencySLI):
            found.append(sli.histogram)
        else:
            assert isinstance(sli, EventCountSLI)
            found.append(sli.events)
    return found


def test_the_spec_reads_exactly_the_contracts_job_metrics(spec):
    assert {s.metric for s in selectors(spec)} == {
        contract.EXECUTIONS_TOTAL,
        contract.STALLS_TOTAL,
        contract.AUTO_SKIPS_TOTAL,
        contract.EXECUTION_DURATION,
    }


def test_matchers_use_contract_labels_and_values(spec):
    for selector in selectors(spec):
        for matcher in selector.matchers:
            assert matcher.name in (*contract.JOB_LABELS, contract.RESULT)
            if matcher.name == contract.RESULT:
                assert set(matcher.value.split("|")) <= set(contract.RESULTS)
            if matcher.name == contract.SERVICE:
                assert (matcher.op, matcher.value) == ("=", spec.service)


def test_every_slo_aggregates_by_contract_job_labels(spec):
    for slo in spec.slos:
        assert set(slo.aggregate_by) <= set(contract.JOB_LABELS)
        assert {contract.ENVIRONMENT, contract.COMMAND_TYPE} <= set(slo.aggregate_by)


def test_the_latency_threshold_is_a_bucket_bound_of_the_histogram(spec):
    [latency] = [s.sli for s in spec.slos if isinstance(s.sli, LatencySLI)]
    assert float(latency.threshold_seconds) in contract.DURATION_BUCKETS


def test_the_failure_ratio_counts_only_known_outcomes(spec):
    [failure] = [s for s in spec.slos if s.name == "failure-ratio"]
    assert isinstance(failure.sli, EventsRatioSLI)
    [total_result] = [
        m for m in failure.sli.total.matchers if m.name == contract.RESULT
    ]
    assert (total_result.op, total_result.value) == ("!=", "unknown")
