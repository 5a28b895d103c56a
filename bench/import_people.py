"""People import benchmark: generate N people, import them into a fresh database, print JSON.

    python bench/import_people.py --people 1000000 [--db URL] [--chunk-size 10000] [--repeat 3]

Prints one line: {"people", "seconds", "people_per_s", "peak_rss_mb", "backend", ...}.
With ``--repeat``, each run imports into a fresh database and the line reports the best
run plus every run's seconds. ``cpu_loop_s`` (a fixed pure-Python loop, timed just before)
and ``cpu_steal_pct`` (CPU time the hypervisor gave to other guests during the runs) say
how much of the machine the benchmark really had: on shared virtual machines both vary a
lot, and throughput with them.
Targets on SQLite: ≥ 50,000 people/s and ≤ 1 GiB peak RSS (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from _machine import StealMeter, cpu_loop_seconds

from kampanj.clock import FixedClock
from kampanj.ingest.people import DEFAULT_CHUNK_SIZE, import_people
from kampanj.store.database import Database
from kampanj.synthetic import write_people_csv

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def peak_rss_mb() -> float:
    """This process's peak plus the parsing child's (an upper bound of both at once)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024  # ru_maxrss is in KiB on Linux


def _server_database(url: str, name: str, *, create: bool) -> str:
    """Drop (and with ``create``, recreate) database ``name`` on the server of ``url``."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return admin.url.set(database=name).render_as_string(hide_password=False)


def fresh_database(url: str | None, scratch: Path, run: int) -> Database:
    if url is None:
        return Database(f"sqlite:///{scratch / f'bench{run}.db'}")
    return Database(_server_database(url, f"kampanj_bench_import_{run}", create=True))


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark `kampanj people import`.")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument(
        "--db",
        help="PostgreSQL server URL (a fresh database is created on it per run); "
        "default: a fresh SQLite file",
    )
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    runs: list[float] = []
    steal = StealMeter.start()
    with tempfile.TemporaryDirectory() as scratch:
        csv_path = write_people_csv(Path(scratch) / "people.csv", args.people, args.seed)
        calibration = cpu_loop_seconds()
        for run in range(args.repeat):
            database = fresh_database(args.db, Path(scratch), run)
            database.migrate()
            started = time.perf_counter()
            report = import_people(
                database, csv_path, clock=FixedClock(NOW), chunk_size=args.chunk_size
            )
            runs.append(time.perf_counter() - started)
            backend = database.dialect
            database.dispose()
            if args.db is not None:
                _server_database(args.db, f"kampanj_bench_import_{run}", create=False)
    steal_pct = steal.percent()
    best = min(runs)
    result = {
        "people": report.created + report.updated + report.unchanged,
        "seconds": round(best, 2),
        "people_per_s": round(args.people / best),
        "median_people_per_s": round(args.people / statistics.median(runs)),
        "runs_s": [round(r, 2) for r in runs],
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "backend": backend,
        "skipped": len(report.skipped),
        "chunk_size": args.chunk_size,
        "cpu_loop_s": round(calibration, 2),
        "cpu_steal_pct": steal_pct,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
