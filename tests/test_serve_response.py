"""How a finished tree kill is accounted: an auto-skip and a kill event when
the tree died, a sample error when members survived, nothing at all when
the job had already ended (a race, not an error)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from exporter.config.model import Allowance, Rotation
from exporter.evidence import EvidenceWriter
from exporter.metrics import ExporterMetrics
from exporter.procfs import ProcessId, read_identity
from exporter.proctree import TreeSample
from exporter.progress import Progress
from exporter.settings import Scope
from exporter.stallresponse import JobRef, StallResponder
from exporter.treekill import KillReport, SignalBatch

SCOPE = Scope("runner", "ci", "h", ("test", "other"))
KILL = Allowance(2, 60, 1, 1, "kill")


def report(root: ProcessId, *, members: bool, survivors: bool) -> KillReport:
    done = KillReport(root, 1.0, started_at=time.time())
    if members:
        done.members[root] = "sleep"
        done.signals.append(SignalBatch("SIGTERM", 0.0, (root,), ()))
    if survivors:
        done.survivors.append(root)
    return done


@pytest.mark.parametrize(
    ("members", "survivors", "auto_skips", "errors", "kill_events"),
    [
        pytest.param(True, False, 1, 0, 1, id="killed"),
        pytest.param(True, True, 0, 1, 1, id="survivors"),
        pytest.param(False, False, 0, 0, 0, id="already-gone"),
    ],
)
def test_kill_accounting(
    tmp_path: Path,
    members: bool,
    survivors: bool,
    auto_skips: int,
    errors: int,
    kill_events: int,
) -> None:
    root = read_identity(os.getpid())
    assert root is not None
    metrics = ExporterMetrics("test")
    metrics.use_scope(SCOPE)
    rotation = Rotation(50 << 20, 1 << 30, 14)
    with EvidenceWriter(tmp_path, rotation, host="h", environment="ci") as writer:
        responder = StallResponder(
            metrics,
            writer,
            kill=lambda identity, grace: report(
                identity, members=members, survivors=survivors
            ),
        )
        job = JobRef(root, "test", SCOPE.job_labels("test"))
        sample = TreeSample(root=root, root_alive=True)
        progress = Progress(False, "", 0.0, 3.0, 0)
        assert responder.stalled(job, sample, progress, KILL)
        responder.close()

    view = metrics.view()
    assert view.auto_skips[SCOPE.job_labels("test")] == auto_skips
    assert view.sample_errors["kill"] == errors
    kills = tmp_path / "kills.jsonl"
    lines = kills.read_text().splitlines() if kills.exists() else []
    assert len(lines) == kill_events
    if lines:
        assert json.loads(lines[0])["cause"] == "idle"
