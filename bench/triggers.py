"""Trigger campaign benchmark: sustained events/s and latency from event recorded to flow done.

    .venv/bin/python bench/triggers.py --people 100000
    .venv/bin/python bench/triggers.py --db postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        --queue redis://127.0.0.1:6379/13 --workers 2

Builds N people (``kampanj.synthetic`` CSV through the people importer, in a child process)
and the campaigns below, activates the trigger campaigns, then measures two phases:

* **throughput**: ``--events`` web visits recorded as fast as one producer can, while the
  events are dispatched and their runs executed; ``events_per_s`` is events divided by the
  time from the first event's activity date to the last run's ``finished_at``;
* **latency**: ``--latency-events`` visits offered open-loop at ``--rate`` events/s;
  per event that fired a run, ``run.finished_at - activity.activity_date`` (both from the
  ledger, so other processes' timings count the same way); p50, p99, max.

Without ``--db``: SQLite in a temporary directory, ONE process — a producer thread records
the events (``record_event(..., offer=False)``) and a consumer thread runs
``triggers.drain`` (dispatch in batches, micro-batched runs, ORD-5). With a PostgreSQL
server URL: database ``kampanj_bench_triggers_<pid>`` is created on it (dropped at the end),
``--workers`` ``kampanj worker`` processes consume ``--queue`` (``KAMPANJ_QUEUE_URL``;
default Redis db 13, flushed before and after) and the producer sends a ``dispatch``
message after an event, at most one per ``--nudge`` seconds (a worker's sweep does the
rest). Events are recorded with the system clock, by ``--producers`` threads (one sequential client
records at most one event per round trip and commit: on PostgreSQL here about 6 ms).

Prints one JSON line; ``cpu_loop_s`` / ``cpu_steal_pct`` come from ``bench/_machine.py``.
``--profile`` (SQLite only) writes the consumer's cProfile top functions to stderr;
``--profile-sql`` the slowest statements of this process.

The campaigns (only *Pricing Visits* fires; the others make the index realistic):
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _datasets import drop_database, in_child, pg_execute, pg_url, refresh_statistics
from _machine import StealMeter, cpu_loop_seconds
from sqlalchemy import event as sa_event

from kampanj.clock import SystemClock
from kampanj.engine.activation import activate
from kampanj.engine.events import record_event
from kampanj.engine.triggers import drain
from kampanj.ingest.people import import_people
from kampanj.services.apply import apply_paths
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.synthetic import write_people_csv

PG_DATABASE = f"kampanj_bench_triggers_{os.getpid()}"  # two runs at once never meet
DEFAULT_QUEUE = "redis://127.0.0.1:6379/13"
KAMPANJ = str(Path(sys.executable).parent / "kampanj")
WARM_UP = 50
ACTIVE = ("Pricing Visits", "Careers Visits", "Webinar Forms")

CAMPAIGN_YAML = """\
workspace: Default
folders:
  - name: Bench
    tokens:
      Bonus: {type: score, value: "+5"}
    campaigns:
      - name: Pricing Visits
        smartList:
          triggers:
            - Visits Web Page:
                Web Page: {contains: pricing}
                Referrer URL: {not contains: internal}
          filters:
            - Lead Score: {at least: 10}
            - Unsubscribed: is false
        flow:
          - Change Score: {scoreName: Lead Score, change: "{{my.Bonus}}"}
          - Change Data Value:
              attribute: Lead Status
              newValue: Engaged
              choices:
                - {if: {Lead Score: {at least: 150}}, newValue: MQL}
          - Interesting Moment: {type: Web, description: "Visited {{trigger.Name}}"}
        schedule: {qualification: every time}
      - name: Careers Visits
        smartList:
          triggers:
            - Visits Web Page: {Web Page: {contains: careers}}
        flow:
          - Change Data Value: {attribute: Title, newValue: Candidate}
        schedule: {qualification: once}
      - name: Webinar Forms
        smartList:
          triggers:
            - Fills Out Form: {Form Name: {is: Webinar Registration}}
        flow:
          - Interesting Moment: {type: Web, description: "Webinar"}
        schedule: {qualification: every time}
"""
__doc__ = (__doc__ or "") + "\n" + CAMPAIGN_YAML

PAGES = ("/pricing", "/pricing/enterprise", "/", "/product", "/docs", "/blog/engines")
PAGE_WEIGHTS = (45, 15, 10, 10, 10, 10)  # 60 % of visits are pricing pages
REFERRERS = ("https://www.google.com/", "https://www.linkedin.com/", "https://internal.example/")
REFERRER_WEIGHTS = (60, 35, 5)


# --- databases -------------------------------------------------------------------------


def build(url: str, scratch: Path, people: int, seed: int) -> None:
    """Migrate, define and activate the campaigns, import ``people``, refresh statistics."""
    database = Database(url)
    database.migrate()
    yaml_path = scratch / "campaigns.yaml"
    yaml_path.write_text(CAMPAIGN_YAML, encoding="utf-8")
    apply_paths(database, [yaml_path])
    csv_path = write_people_csv(scratch / "people.csv", people, seed)
    import_people(database, csv_path, clock=SystemClock())
    csv_path.unlink()
    for name in ACTIVE:
        activate(database, SystemClock(), name)
    refresh_statistics(database)
    database.dispose()


@contextmanager
def database_url(server: str | None, people: int, seed: int) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="kampanj-bench-triggers-") as scratch:
        if server is None:
            url = f"sqlite:///{Path(scratch) / 'bench.db'}"
            in_child(build, url, Path(scratch), people, seed)
            yield url
            return
        pg_execute(server, drop_database(PG_DATABASE), f'CREATE DATABASE "{PG_DATABASE}"')
        url = pg_url(server, PG_DATABASE)
        try:
            in_child(build, url, Path(scratch), people, seed)
            yield url
        finally:
            pg_execute(server, drop_database(PG_DATABASE))


# --- load ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Visit:
    person_id: int
    page: str
    referrer: str


def visits(count: int, people: int, rng: random.Random) -> list[Visit]:
    return [
        Visit(
            person_id=rng.randrange(1, people + 1),
            page=rng.choices(PAGES, PAGE_WEIGHTS)[0],
            referrer=rng.choices(REFERRERS, REFERRER_WEIGHTS)[0],
        )
        for _ in range(count)
    ]


def produce(
    database: Database,
    load: list[Visit],
    rate: float | None,
    after_each: Callable[[], None],
    producers: int = 1,
) -> tuple[int, int, float]:
    """Record ``load`` (open loop at ``rate``/s, or flat out) from ``producers`` threads,
    each taking every n-th event (several clients at once); (first id, last id, seconds)."""
    clock = SystemClock()
    ids: list[int] = []
    failures: list[BaseException] = []
    started = time.perf_counter()

    def record(offset: int) -> None:
        try:
            for number in range(offset, len(load), producers):
                visit = load[number]
                if rate is not None:
                    delay = started + number / rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                recorded = record_event(
                    database,
                    clock,
                    "Visit Webpage",
                    person_id=visit.person_id,
                    primary=visit.page,
                    attributes={
                        "Webpage URL": f"https://www.example.com{visit.page}",
                        "Referrer URL": visit.referrer,
                    },
                    offer=False,
                )
                ids.append(recorded.activity_id)
                after_each()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=record, args=(n,)) for n in range(producers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return min(ids), max(ids), time.perf_counter() - started


class Inline:
    """SQLite, one process: a consumer thread drains while the producer records."""

    def __init__(self, database: Database, *, profile: bool) -> None:
        self.database = database
        self.profile = cProfile.Profile() if profile else None
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.failure: BaseException | None = None
        self.runs = 0
        self.thread = threading.Thread(target=self._consume, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def notify(self) -> None:
        self.wake.set()

    def finish(self) -> None:
        self.stop.set()
        self.wake.set()
        self.thread.join()
        if self.failure is not None:
            raise self.failure

    def _consume(self) -> None:
        clock = SystemClock()
        if self.profile is not None:
            self.profile.enable()
        try:
            while True:
                stopping = self.stop.is_set()
                self.wake.clear()
                self.runs += len(drain(self.database, clock))
                if stopping:
                    return  # the drain after the last event finished everything
                self.wake.wait(0.01)
        except BaseException as error:
            self.failure = error
        finally:
            if self.profile is not None:
                self.profile.disable()


class Workers:
    """``kampanj worker`` processes on a shared queue; the producer nudges them."""

    def __init__(
        self,
        database: Database,
        queue_url: str,
        count: int,
        interval: float,
        concurrency: int,
        nudge: float,
    ) -> None:
        from kampanj.queue.backends import open_queue

        self.database = database
        self.queue = open_queue(queue_url, database.url)
        self.queue_url = queue_url
        self.count = count
        self.interval = interval
        self.concurrency = concurrency
        self.nudge = nudge
        self.processes: list[subprocess.Popen[str]] = []
        self.logs: list[Any] = []
        self.nudged = 0.0

    def start(self) -> None:
        for _ in range(self.count):
            log = tempfile.TemporaryFile(mode="w+")  # closed in finish()
            self.logs.append(log)
            self.processes.append(
                subprocess.Popen(
                    [
                        *(KAMPANJ, "worker", "--db", self.database.url, "--queue", self.queue_url),
                        *("--interval", str(self.interval), "--json"),
                        *("--concurrency", str(self.concurrency)),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    text=True,
                )
            )

    def notify(self, *, last: bool = False) -> None:
        """A ``dispatch`` message, at most one per ``nudge`` s (and after the last event)."""
        now = time.monotonic()
        if self.nudge > 0 and (last or now - self.nudged >= self.nudge):
            self.queue.put({"kind": "dispatch"})
            self.nudged = now

    def settle(self, last_id: int, deadline: float) -> None:
        """Wait until the workers offered ``last_id`` and no trigger run is unfinished."""
        cursor = sa.select(schema.trigger_cursor.c.last_activity_id)
        unfinished = (
            sa.select(sa.func.count())
            .select_from(schema.run)
            .where(schema.run.c.status.in_(("queued", "running")))
        )
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise SystemExit(f"a worker exited with {process.returncode}: {self._log()}")
            with self.database.read() as connection:
                done = (connection.execute(cursor).scalar() or 0) >= last_id
                if done and connection.execute(unfinished).scalar_one() == 0:
                    return
            time.sleep(0.05)
        raise SystemExit(f"the workers did not finish in time: {self._log()}")

    def finish(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=120)
        self.queue.close()
        for log in self.logs:
            log.close()

    def _log(self) -> str:
        text = []
        for log in self.logs:
            log.seek(0)
            text.append(log.read()[-2000:])
        return "\n".join(text)


# --- figures from the ledger -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhaseFigures:
    events: int
    fired: int
    runs: int
    seconds: float
    latencies_ms: list[float]


def phase_figures(database: Database, first_id: int, last_id: int) -> PhaseFigures:
    """Per fired event: its run's finished_at minus its activity date; the phase's span."""
    activity, member, run = schema.activity, schema.run_member, schema.run
    window = (activity.c.id >= first_id, activity.c.id <= last_id)
    fired = (
        sa.select(activity.c.activity_date, run.c.finished_at, run.c.id, run.c.status)
        .join(member, member.c.trigger_activity_id == activity.c.id)
        .join(run, run.c.id == member.c.run_id)
        .where(*window)
    )
    date = activity.c.activity_date
    bounds = sa.select(sa.func.min(date), sa.func.max(date), sa.func.count()).where(
        *window, activity.c.activity_type_id == 1
    )
    with database.read() as connection:
        rows = connection.execute(fired).all()
        started, last_recorded, events = connection.execute(bounds).one()
    unfinished = [row for row in rows if row.status != "completed"]
    if unfinished:
        raise SystemExit(f"{len(unfinished)} fired events have runs that did not complete")
    latencies = sorted((row.finished_at - row.activity_date).total_seconds() * 1000 for row in rows)
    # The phase ends when the last flow completed, or with the last event if it fired none.
    ended: datetime = max([last_recorded, *(row.finished_at for row in rows)])
    return PhaseFigures(
        events=int(events),
        fired=len(rows),
        runs=len({row.id for row in rows}),
        seconds=(ended - started).total_seconds(),
        latencies_ms=latencies,
    )


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return None
    rank = max(1, round(share * len(values) + 0.5))
    return round(values[min(rank, len(values)) - 1], 1)


class StatementTimer:
    """Seconds per SQL statement text in this process (``--profile-sql``)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
        sa_event.listen(engine, "before_cursor_execute", self._before)
        sa_event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        total = self.totals[" ".join(statement.split())[:160]]
        total[0] += time.perf_counter() - conn.info.pop("bench_started")
        total[1] += 1

    def report(self, limit: int = 30) -> None:
        ranked = sorted(self.totals.items(), key=lambda item: -item[1][0])[:limit]
        for statement, (seconds, count) in ranked:
            print(f"{seconds:8.3f} s {count:7d}x  {statement}", file=sys.stderr)


# --- main ------------------------------------------------------------------------------


def run_phase(
    database: Database,
    consumer: Inline | Workers,
    load: list[Visit],
    rate: float | None,
    producers: int,
) -> tuple[PhaseFigures, float, float]:
    """(figures, producer seconds, this process's CPU seconds) of one phase."""
    if isinstance(consumer, Inline):
        consumer.start()
    cpu = time.process_time()
    first_id, last_id, produced = produce(database, load, rate, consumer.notify, producers)
    if isinstance(consumer, Workers):
        consumer.notify(last=True)
        consumer.settle(last_id, time.monotonic() + 1800)
    else:
        consumer.finish()
        if consumer.profile is not None:
            out = io.StringIO()
            pstats.Stats(consumer.profile, stream=out).sort_stats("cumulative").print_stats(45)
            print(out.getvalue(), file=sys.stderr)
    cpu = time.process_time() - cpu
    return phase_figures(database, first_id, last_id), produced, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark trigger campaigns under load.")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000, help="throughput phase")
    parser.add_argument("--latency-events", type=int, default=4_000, help="latency phase")
    parser.add_argument("--rate", type=float, default=200.0, help="latency phase events/s")
    parser.add_argument(
        "--db",
        help=f"PostgreSQL server URL ({PG_DATABASE} is created on it and dropped; workers "
        "consume --queue); default: SQLite in one process",
    )
    parser.add_argument("--queue", default=os.environ.get("KAMPANJ_QUEUE_URL", DEFAULT_QUEUE))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-interval", type=float, default=0.5, help="seconds per sweep")
    parser.add_argument("--worker-concurrency", type=int, default=1, help="consumer threads")
    parser.add_argument(
        "--nudge", type=float, default=0.05, help="seconds between dispatch messages (0: none)"
    )
    parser.add_argument(
        "--producers", type=int, default=1, help="threads recording events (clients at once)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="consumer cProfile to stderr")
    parser.add_argument("--profile-sql", action="store_true", help="slowest statements to stderr")
    args = parser.parse_args()
    if args.db is not None and args.profile:
        parser.error("--profile profiles the in-process consumer: SQLite only")

    rng = random.Random(args.seed)
    build_started = time.perf_counter()
    with database_url(args.db, args.people, args.seed) as url:
        build_seconds = time.perf_counter() - build_started
        database = Database(url)
        timer = StatementTimer(database.engine) if args.profile_sql else None

        workers: Workers | None = None
        if args.db is not None:
            _flush_queue(args.queue)
            workers = Workers(
                database,
                args.queue,
                args.workers,
                args.worker_interval,
                args.worker_concurrency,
                args.nudge,
            )

        def consumer(*, profile: bool = False) -> Inline | Workers:
            return workers if workers is not None else Inline(database, profile=profile)

        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        if workers is not None:
            workers.start()
        # Warm-up: the trigger index, compiled statements, the workers' first sweep.
        run_phase(database, consumer(), visits(WARM_UP, args.people, rng), None, 1)
        calibration = cpu_loop_seconds()
        steal = StealMeter.start()
        burst, burst_produced, burst_cpu = run_phase(
            database,
            consumer(profile=args.profile),
            visits(args.events, args.people, rng),
            None,
            args.producers,
        )
        paced, paced_produced, paced_cpu = run_phase(
            database,
            consumer(),
            visits(args.latency_events, args.people, rng),
            args.rate,
            args.producers,
        )
        steal_pct = steal.percent()
        if workers is not None:
            workers.finish()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if timer is not None:
            timer.report()
        backend = database.dialect
        database.dispose()
        if args.db is not None:
            _flush_queue(args.queue)

    worker_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    result: dict[str, Any] = {
        "backend": backend,
        "mode": "inline"
        if args.db is None
        else f"{args.workers} workers x {args.worker_concurrency} threads",
        "queue": None if args.db is None else sa.make_url(args.queue).get_backend_name(),
        "producers": args.producers,
        "people": args.people,
        "events": burst.events,
        "fired": burst.fired,
        "runs": burst.runs,
        "seconds": round(burst.seconds, 2),
        "events_per_s": round(burst.events / burst.seconds) if burst.seconds else None,
        "events_per_cpu_s": round(burst.events / burst_cpu) if args.db is None else None,
        "recorded_per_s": round(burst.events / burst_produced),
        "burst_p50_ms": percentile(burst.latencies_ms, 0.50),
        "burst_p99_ms": percentile(burst.latencies_ms, 0.99),
        "cpu_s": round(burst_cpu, 2),
        "rate": args.rate,
        "offered_per_s": round(paced.events / paced_produced, 1),
        "latency_events": paced.events,
        "latency_fired": paced.fired,
        "latency_runs": paced.runs,
        "p50_ms": percentile(paced.latencies_ms, 0.50),
        "p99_ms": percentile(paced.latencies_ms, 0.99),
        "max_ms": round(paced.latencies_ms[-1], 1) if paced.latencies_ms else None,
        "latency_cpu_s": round(paced_cpu, 2),
        "worker_cpu_s": round(worker_cpu, 2) if args.db is not None else None,
        "build_s": round(build_seconds, 1),
        "cpu_loop_s": round(calibration, 2),
        "cpu_steal_pct": steal_pct,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))


def _flush_queue(url: str) -> None:
    if sa.make_url(url).get_backend_name() == "redis":
        import redis

        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()


if __name__ == "__main__":
    main()
