"""Rule evaluation cost: the rules rulegen writes beside the rules slok/sloth
generated, for the same SLO, in the same Prometheus, on the same data.

The SLO is sloth's getting-started example: 99.9% of myservice's requests
answered without a 5xx or 429 over 30d, with multi-window, multi-burn-rate
alerts. Sloth's rules are read from its examples under
``../shared/anchors/sloth/``; ours come from ``rulegen build`` over an
equivalent spec. Each set gets its own Prometheus over a fresh TSDB that
``promtool`` backfills just before the server starts, with:

- the same synthetic traffic: ``http_request_duration_seconds_count`` of 50
  instances and 6 codes every 30s, reaching back as far as the longest raw
  range either set reads (sloth's 3d rates) and ending now;
- the history of the recordings the set itself reads over ranges (sloth's
  5m ratio over 30d, our 5m counts over 3d), at the interval the set would
  record them, as a server in steady state holds it.

While measured, every group of both sets is evaluated every
MEASURE_INTERVAL. Per set: rules, evaluation seconds per cycle (the groups'
last durations summed; median of CYCLES cycles after a warm-up one), and
seconds per hour at the set's own cadence: sloth's groups set no interval
and run at the global one, ours at their group interval. Figures, never
pass or fail.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

import promql_parser

from bench.probes import free_port, get, value
from rulegen import durations, names
from rulegen.spec.loader import load_spec
from yamlsource import load_file

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = ROOT.parent / "shared" / "anchors" / "sloth"
SLOTH_RULES = "generated-getting-started.yml"
# The 3d error ratio sloth's rules record (from SLOTH_RULES): printed as a
# check that both sets read the same traffic.
SLOTH_RATIO_3D = "slo:sli_error:ratio_rate3d"

# sloth's spec-getting-started.yml in our spec: its SLI, objective, period
# and labels; the preset stands for its page and ticket alerts.
SPEC: dict[str, Any] = {
    "service": "myservice",
    "team": "myteam",
    "labels": {"owner": "myteam", "repo": "myorg/myservice", "tier": "2"},
    "slos": [
        {
            "name": "requests-availability",
            "description": "Requests answered without a 5xx or 429.",
            "objective": 0.999,
            "period": "30d",
            "sli": {
                "events_ratio": {
                    "bad": 'http_request_duration_seconds_count{job="myservice", '
                    'code=~"(5..|429)"}',
                    "total": 'http_request_duration_seconds_count{job="myservice"}',
                }
            },
            "burn_rate_alerts": {
                tier: {
                    "name": f"MyServiceHighErrorRate{tier.capitalize()}",
                    "severity": severity,
                    "runbook": "myservice-error-rate",
                    "summary": "High error rate on myservice's responses.",
                }
                for tier, severity in (("fast", "critical"), ("slow", "warning"))
            },
        }
    ],
}

# The synthetic traffic: requests per second per instance by code; 0.078%
# are 5xx or 429, under the 0.1% budget, so no alert fires while measuring.
METRIC = "http_request_duration_seconds_count"
INSTANCES = 50
RATES = {"200": 10.0, "201": 1.0, "204": 0.5, "500": 0.004, "503": 0.002, "429": 0.003}
BAD_CODES = ("500", "503", "429")
SCRAPE_INTERVAL = timedelta(seconds=30)
SEED = 20240601

# The largest block a Prometheus keeping 30d compacts to (a tenth of its
# retention, as 2h x 3^n); the backfill writes blocks of this size.
BLOCK = timedelta(hours=54)
RETENTION = "40d"
# Level compaction only merges blocks up to the max block duration: at 2h it
# never starts while measuring.
NO_COMPACTION = [
    "--storage.tsdb.min-block-duration=2h",
    "--storage.tsdb.max-block-duration=2h",
]

MEASURE_INTERVAL = timedelta(seconds=5)
CYCLES = 10
# Prometheus's default evaluation_interval: what sloth's groups, which set
# no interval of their own, run at in production.
GLOBAL_INTERVAL = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@dataclass
class RuleSet:
    name: str
    groups: list[dict[str, Any]]
    ratio_3d: str  # a recording printed as a check that it saw the traffic
    history: dict[str, float]  # mean value of each ranged recording's samples


@dataclass
class Figures:
    name: str
    rules: int = 0
    groups: int = 0
    cycle_seconds: float = 0.0
    hour_seconds: float = 0.0
    cadence: str = ""
    ratio_3d: str = ""
    costliest: str = ""
    failures: float = 0.0
    samples: int = 0
    generate_seconds: float = 0.0
    backfill_seconds: float = 0.0
    disk_mb: float = 0.0
    cycles: list[float] = field(default_factory=list)


def main() -> None:
    if not (ANCHORS / SLOTH_RULES).is_file():
        print(f"rules: sloth's rules not found under {ANCHORS}; skipped")
        return
    if not (shutil.which("prometheus") and shutil.which("promtool")):
        print("rules: prometheus and promtool (Debian: prometheus) needed; skipped")
        return
    started = time.monotonic()
    print(
        f"rules: sloth's getting-started SLO, sloth's rules beside rulegen's; "
        f"every group evaluated every {durations.render(MEASURE_INTERVAL)}, "
        f"median of {CYCLES} cycles after a warm-up"
    )
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as base:
        sets = [_sloth(), _rulegen(Path(base))]
        raw_window = max(_raw_window(s) for s in sets) + 10 * SCRAPE_INTERVAL
        figures = [_measure(Path(base) / s.name, s, raw_window) for s in sets]
    for f in figures:
        _print(f)
    _print_ratio(figures[1], figures[0])
    print(f"  took {time.monotonic() - started:.0f} s")


def _sloth() -> RuleSet:
    groups = load_file(ANCHORS / SLOTH_RULES).data["groups"]
    bad, total = _means()
    return RuleSet(
        "sloth", groups, SLOTH_RATIO_3D, {"slo:sli_error:ratio_rate5m": bad / total}
    )


def _rulegen(directory: Path) -> RuleSet:
    spec_path = directory / "spec.yaml"
    spec_path.write_text(json.dumps(SPEC, indent=1))  # JSON is YAML
    out = directory / "rulegen"
    rulegen = Path(sys.executable).parent / "rulegen"
    subprocess.run(
        [str(rulegen), "build", str(spec_path), "--out", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    slo = load_spec(spec_path)[0].slos[0]
    groups = load_file(out / names.rules_file(slo)).data["groups"]
    bad, total = (m * slo.base_window.total_seconds() for m in _means())
    history = {names.bad_events(slo): bad, names.events(slo): total}
    return RuleSet("rulegen", groups, names.error_ratio(timedelta(days=3)), history)


def _means() -> tuple[float, float]:
    """Bad and all requests per second, over every instance."""
    bad = sum(RATES[code] for code in BAD_CODES) * INSTANCES
    return bad, sum(RATES.values()) * INSTANCES


def _measure(directory: Path, rule_set: RuleSet, raw_window: timedelta) -> Figures:
    figures = Figures(rule_set.name)
    tsdb = directory / "tsdb"
    tsdb.mkdir(parents=True)
    _backfill(tsdb, rule_set, raw_window, figures)
    rules = directory / "rules.yml"
    measured = [
        {**g, "interval": durations.render(MEASURE_INTERVAL)} for g in rule_set.groups
    ]
    rules.write_text(json.dumps({"groups": measured}, indent=1))
    with _prometheus(directory, tsdb, rules) as (port, process):
        by_group = _durations(port, process, len(rule_set.groups))
        text = get(port, "/metrics")
        figures.rules = int(value(text, "prometheus_rule_group_rules"))
        figures.failures = value(text, "prometheus_rule_evaluation_failures_total")
        figures.ratio_3d = _query(port, rule_set.ratio_3d)
        figures.costliest = _costliest(port)
    _summarise(figures, rule_set, by_group)
    return figures


def _summarise(
    figures: Figures, rule_set: RuleSet, by_group: dict[str, list[float]]
) -> None:
    every = {g["name"]: _production_interval(g) for g in rule_set.groups}
    figures.groups = len(by_group)
    figures.cycles = [sum(cycle) for cycle in zip(*by_group.values(), strict=True)]
    figures.cycle_seconds = statistics.median(figures.cycles)
    figures.hour_seconds = sum(
        statistics.median(seconds) * (HOUR / every[group])
        for group, seconds in by_group.items()
    )
    cadences = sorted({durations.render(interval) for interval in every.values()})
    figures.cadence = ", ".join(cadences)


def _production_interval(group: dict[str, Any]) -> timedelta:
    if "interval" in group:
        return durations.parse(str(group["interval"]))
    return GLOBAL_INTERVAL


# Synthetic data.


def _raw_window(rule_set: RuleSet) -> timedelta:
    """The longest range the set reads over series it does not record."""
    recorded = {rule["record"] for rule in _rules(rule_set) if "record" in rule}
    ranges = _ranges(rule_set)
    return max(window for name, window in ranges.items() if name not in recorded)


def _rules(rule_set: RuleSet) -> Iterator[dict[str, Any]]:
    for group in rule_set.groups:
        yield from group["rules"]


def _ranges(rule_set: RuleSet) -> dict[str, timedelta]:
    """The longest range each series name is read over, by any rule."""
    longest: dict[str, timedelta] = {}
    for rule in _rules(rule_set):
        for name, window in _range_selectors(promql_parser.parse(rule["expr"])):
            longest[name] = max(window, longest.get(name, timedelta(0)))
    return longest


def _range_selectors(node: Any) -> Iterator[tuple[str, timedelta]]:
    if isinstance(node, promql_parser.MatrixSelector):
        # A selector naming its series by a __name__ matcher has no name.
        yield node.vector_selector.name or "", node.range
        return
    children = [getattr(node, attr, None) for attr in ("lhs", "rhs", "expr", "param")]
    for child in [*children, *(getattr(node, "args", None) or [])]:
        if child is not None:
            yield from _range_selectors(child)


def _histories(rule_set: RuleSet) -> Iterator[tuple[str, timedelta, timedelta, float]]:
    """Series line prefix, interval, window and mean of each recording the set
    reads over a range. Its rules sum without ``by``, so a recording's series
    carries its rule's labels only."""
    ranges = _ranges(rule_set)
    for group in rule_set.groups:
        every = _production_interval(group)
        for rule in group["rules"]:
            name = rule.get("record")
            if name not in ranges:
                continue
            if name not in rule_set.history:
                raise RuntimeError(f"no history modelled for {name} of {rule_set.name}")
            prefix = _series(name, {k: str(v) for k, v in rule["labels"].items()})
            yield prefix, every, ranges[name] + every, rule_set.history[name]


def _series(name: str, labels: dict[str, str]) -> str:
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"') for v in labels.values())
    pairs = ",".join(f'{k}="{v}"' for k, v in zip(labels, escaped, strict=True))
    return f"{name}{{{pairs}}} "


def _backfill(
    tsdb: Path, rule_set: RuleSet, raw_window: timedelta, figures: Figures
) -> None:
    """Traffic and recorded history ending now, as TSDB blocks under ``tsdb``.

    Two inputs split on a block boundary, so no two blocks overlap and
    promtool, which reads its input once per block, reads the big one at
    most three times."""
    started = time.monotonic()
    step = int(SCRAPE_INTERVAL.total_seconds())
    end = int(time.time()) // step * step
    boundary = _block_start(end - int(raw_window.total_seconds()))
    rng = random.Random(SEED)
    recent, older = tsdb.parent / "recent.om", tsdb.parent / "older.om"
    with recent.open("w") as near, older.open("w") as far:
        figures.samples = _write_traffic(near, end, raw_window, rng)
        for prefix, every, window, mean in _histories(rule_set):
            seconds = int(every.total_seconds())
            first = end - int(window.total_seconds()) // seconds * seconds
            for at in range(first, end + 1, seconds):
                line = f"{prefix}{mean * (0.8 + 0.4 * rng.random()):.6g} {at}\n"
                (near if at >= boundary else far).write(line)
        for out in (near, far):
            out.write("# EOF\n")
    figures.generate_seconds = time.monotonic() - started

    started = time.monotonic()
    for path in (older, recent):
        _promtool_blocks(path, tsdb)
        path.unlink()
    figures.backfill_seconds = time.monotonic() - started
    figures.disk_mb = (
        sum(p.stat().st_size for p in tsdb.rglob("*") if p.is_file()) / 1e6
    )


def _block_start(at: int) -> int:
    block = int(BLOCK.total_seconds())
    return at // block * block


def _write_traffic(out: TextIO, end: int, window: timedelta, rng: random.Random) -> int:
    """Counters per instance and code every SCRAPE_INTERVAL up to ``end``;
    returns the samples written."""
    step = int(SCRAPE_INTERVAL.total_seconds())
    series = [
        (_series(METRIC, _traffic_labels(i, code)), rate * step)
        for i in range(INSTANCES)
        for code, rate in RATES.items()
    ]
    counts = [rng.randrange(10_000) for _ in series]
    scrapes = int(window.total_seconds()) // step
    for at in range(end - scrapes * step, end + 1, step):
        lines = []
        for i, (prefix, mean) in enumerate(series):
            counts[i] += int(mean * (0.5 + rng.random()) + rng.random())
            lines.append(f"{prefix}{counts[i]} {at}\n")
        out.write("".join(lines))
    return (scrapes + 1) * len(series)


def _traffic_labels(instance: int, code: str) -> dict[str, str]:
    return {
        "job": "myservice",
        "instance": f"myservice-{instance:02d}:8080",
        "code": code,
    }


def _promtool_blocks(source: Path, tsdb: Path) -> None:
    if source.stat().st_size <= len("# EOF\n"):
        return
    done = subprocess.run(
        [
            "promtool",
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--quiet",
            f"--max-block-duration={BLOCK // timedelta(hours=1)}h",  # Go: no "d"
            str(source),
            str(tsdb),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"promtool backfill of {source.name}: {done.stderr.strip()}")


# Prometheus.


@contextmanager
def _prometheus(
    directory: Path, tsdb: Path, rules: Path
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A Prometheus over ``tsdb`` evaluating ``rules``, no scrape targets."""
    port = free_port()
    config = directory / "prometheus.yml"
    interval = durations.render(MEASURE_INTERVAL)
    config.write_text(
        json.dumps(
            {"global": {"evaluation_interval": interval}, "rule_files": [str(rules)]}
        )
    )
    log = directory / "prometheus.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={tsdb}",
                f"--storage.tsdb.retention.time={RETENTION}",
                *NO_COMPACTION,
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield port, process
        except Exception as exc:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            exc.add_note("prometheus log: " + " | ".join(tail))
            raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _durations(
    port: int, process: subprocess.Popen[bytes], groups: int
) -> dict[str, list[float]]:
    """Each group's durations, in seconds, of CYCLES evaluations after its
    first, read from the server's own metrics."""
    seen: dict[str, dict[float, float]] = {}
    wait = (CYCLES + 3) * MEASURE_INTERVAL.total_seconds() + 60
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with {process.returncode}")
        text = get(port, "/metrics", wait=True)
        last = _by_group(text, "prometheus_rule_group_last_duration_seconds")
        stamps = _by_group(
            text, "prometheus_rule_group_last_evaluation_timestamp_seconds"
        )
        for group, stamp in stamps.items():
            if stamp > 0:
                seen.setdefault(group, {})[stamp] = last[group]
        if len(seen) == groups and all(len(s) > CYCLES for s in seen.values()):
            return {
                group.rpartition(";")[2]: [d for _, d in sorted(s.items())][
                    1 : CYCLES + 1
                ]
                for group, s in seen.items()
            }
        time.sleep(0.5)
    raise RuntimeError(
        f"prometheus did not evaluate {groups} groups {CYCLES + 1} times"
    )


def _by_group(text: str, name: str) -> dict[str, float]:
    pattern = rf'^{name}{{rule_group="([^"]*)"}} (\S+)$'
    return {m[1]: float(m[2]) for m in re.finditer(pattern, text, re.MULTILINE)}


def _query(port: int, expr: str) -> str:
    answer = json.loads(get(port, "/api/v1/query?query=" + urllib.parse.quote(expr)))
    result = answer["data"]["result"]
    return f"{float(result[0]['value'][1]):.5f}" if result else "none"


def _costliest(port: int) -> str:
    """The rule whose last evaluation took longest, with its share of them all."""
    groups = json.loads(get(port, "/api/v1/rules"))["data"]["groups"]
    seconds = {
        rule["name"]: rule["evaluationTime"] for g in groups for rule in g["rules"]
    }
    name = max(seconds, key=lambda n: seconds[n])
    return f"{name}, {seconds[name] / sum(seconds.values()):.0%} of the last cycle"


# Figures.


def _print(f: Figures) -> None:
    print(
        f"  {f.name}: data {f.samples / 1e6:.1f}M traffic samples, generated in "
        f"{f.generate_seconds:.0f} s, backfilled in {f.backfill_seconds:.0f} s, "
        f"{f.disk_mb:.1f} MB on disk"
    )
    print(
        f"    {f.rules} rules in {f.groups} group{'s' if f.groups > 1 else ''}: "
        f"{f.cycle_seconds * 1000:.1f} ms per cycle (min {min(f.cycles) * 1000:.1f}, "
        f"max {max(f.cycles) * 1000:.1f}); {f.hour_seconds:.2f} s per hour "
        f"evaluated every {f.cadence}"
    )
    print(f"    costliest rule: {f.costliest}; 3d error ratio {f.ratio_3d}")
    if f.failures:
        print(f"    {f.failures:.0f} rule evaluations failed")


def _print_ratio(ours: Figures, theirs: Figures) -> None:
    print(
        f"  ratio {ours.name}/{theirs.name}: "
        f"{ours.cycle_seconds / theirs.cycle_seconds:.3f} per cycle, "
        f"{ours.hour_seconds / theirs.hour_seconds:.4f} per hour "
        f"(1/{theirs.cycle_seconds / ours.cycle_seconds:.0f} and "
        f"1/{theirs.hour_seconds / ours.hour_seconds:.0f})"
    )


if __name__ == "__main__":
    main()
