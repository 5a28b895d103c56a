"""bench/triggers.py at a tiny size: it runs, every fired event's run completes, and it
prints the figures docs/performance.md quotes (their values are not checked here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "triggers.py"
BACKENDS = os.environ.get("KAMPANJ_TEST_BACKENDS", "sqlite").split(",")
QUEUES = os.environ.get("KAMPANJ_TEST_QUEUES", "sqlite").split(",")
POSTGRES = os.environ.get(
    "KAMPANJ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = "redis://127.0.0.1:6379/12"  # flushed by the bench: not the db other tests use
FIGURES = {
    "backend", "mode", "queue", "producers", "people", "events", "fired", "runs", "seconds",
    "events_per_s", "events_per_cpu_s", "recorded_per_s", "burst_p50_ms", "burst_p99_ms",
    "cpu_s", "rate", "offered_per_s", "latency_events", "latency_fired", "latency_runs",
    "p50_ms", "p99_ms", "max_ms", "latency_cpu_s", "worker_cpu_s", "build_s", "cpu_loop_s",
    "cpu_steal_pct", "load_avg_1m",
}  # fmt: skip


def _bench(*extra: str) -> dict[str, Any]:
    size = ("--people", "300", "--events", "80", "--latency-events", "40", "--rate", "100")
    done = subprocess.run(
        [sys.executable, str(BENCH), *size, *extra],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    figures: dict[str, Any] = json.loads(line)
    assert set(figures) == FIGURES
    # Every visit was recorded and offered; some fired Pricing Visits, in fewer runs
    # than fired events or as many (micro-batching, ORD-5), and all of them completed.
    assert (figures["events"], figures["latency_events"]) == (80, 40)
    assert 0 < figures["runs"] <= figures["fired"] < figures["events"]
    assert 0 < figures["latency_runs"] <= figures["latency_fired"] < figures["latency_events"]
    assert figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    return figures


@pytest.mark.slow
def test_single_process_on_sqlite() -> None:
    figures = _bench()
    assert (figures["backend"], figures["mode"], figures["queue"]) == ("sqlite", "inline", None)
    assert figures["events_per_cpu_s"] > 0 and figures["worker_cpu_s"] is None


@pytest.mark.slow
@pytest.mark.skipif(
    "postgresql" not in BACKENDS or "redis" not in QUEUES,
    reason="needs KAMPANJ_TEST_BACKENDS with postgresql and KAMPANJ_TEST_QUEUES with redis",
)
def test_two_workers_on_postgresql_and_redis() -> None:
    figures = _bench(
        *("--db", POSTGRES, "--queue", REDIS, "--worker-interval", "0.2", "--producers", "2")
    )
    assert (figures["backend"], figures["mode"], figures["queue"]) == (
        "postgresql",
        "2 workers x 1 threads",
        "redis",
    )
    assert figures["worker_cpu_s"] > 0
