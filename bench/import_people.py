"""People import benchmark: generate N people, import them into a fresh database, print JSON.

    python bench/import_people.py --people 1000000 [--db URL] [--chunk-size 10000]

Prints one line: {"people", "seconds", "people_per_s", "peak_rss_mb", "backend", ...}.
Targets on SQLite: ≥ 50,000 people/s and ≤ 1 GiB peak RSS (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from kampanj.clock import FixedClock
from kampanj.ingest.people import DEFAULT_CHUNK_SIZE, import_people
from kampanj.store.database import Database
from kampanj.synthetic import write_people_csv

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark `kampanj people import`.")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        csv_path = write_people_csv(Path(scratch) / "people.csv", args.people, args.seed)
        url = args.db or f"sqlite:///{Path(scratch) / 'bench.db'}"
        database = Database(url)
        database.migrate()
        started = time.perf_counter()
        report = import_people(
            database, csv_path, clock=FixedClock(NOW), chunk_size=args.chunk_size
        )
        seconds = time.perf_counter() - started
        database.dispose()
    result = {
        "people": report.created + report.updated + report.unchanged,
        "seconds": round(seconds, 2),
        "people_per_s": round(args.people / seconds),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "backend": database.dialect,
        "skipped": len(report.skipped),
        "chunk_size": args.chunk_size,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
