"""Batch campaign benchmark: the engine against a hand-written SQL script, same data.

    .venv/bin/python bench/batch_campaign.py --people 1000000
    .venv/bin/python bench/batch_campaign.py --db postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Builds N people (``kampanj.synthetic`` CSV through the people importer, in a child process
so its memory does not count) and the campaign below, copies the database, then runs

* the engine: ``run_batch`` on the first copy (qualification, then the flow), and
* ``bench/batch_campaign_hand.py``: the same campaign as plain SQL on the second copy,

and checks that both copies end in the same state: person fields, list and campaign
membership, and the campaign's activities as a multiset (ids and timestamps left out).
Before each of the two timed runs the file systems are synced (``os.sync``), so neither
pays for writing back what the build (or the run before it) left in the page cache.
Prints one JSON line: seconds per phase and per step, people/s, peak RSS, the hand script's
seconds and the ratio, ``cpu_loop_s`` / ``cpu_steal_pct`` (``bench/_machine.py``). Exits 1
when the end states differ.

Without ``--db`` the databases are SQLite files in a temporary directory; with a PostgreSQL
URL, databases ``kampanj_bench_batch`` and ``kampanj_bench_batch_hand`` are created on that
server and dropped at the end. ``--profile-sql`` adds the slowest statements to stderr (wall
and CPU seconds each).
``--with-executable`` replaces step 3 by an Execute Campaign of a child executable campaign
(``EXECUTABLE_YAML`` below); the hand script then writes the call as plain SQL too.

The campaign (smart list with 3 filters, 5 steps, qualification "once"):
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _datasets import drop_database, in_child, pg_execute, pg_url, refresh_statistics
from _machine import StealMeter, cpu_loop_seconds
from batch_campaign_hand import HandCampaign, HandChild, run_hand
from sqlalchemy import event, select

from kampanj.clock import FixedClock
from kampanj.engine.batch import run_batch
from kampanj.engine.runs import DEFAULT_CHUNK_SIZE, RunStatus
from kampanj.ingest.people import import_people
from kampanj.services.apply import apply_paths
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry, person_table
from kampanj.synthetic import write_people_csv

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PG_DATABASE = "kampanj_bench_batch"
CAMPAIGN = "Batch Bench"
LIST = "Bench List"

CAMPAIGN_YAML = """\
workspace: Default
folders:
  - name: Bench
    tokens:
      Bonus: {type: score, value: "+7"}
    lists:
      - name: Bench List
    campaigns:
      - name: Batch Bench
        smartList:
          filters:
            - Lead Score: {at least: 10}
            - Unsubscribed: is false
            - Country: {is not: [Germany]}
        flow:
          - Change Score: {scoreName: Lead Score, change: "{{my.Bonus}}"}
          - Change Data Value: {attribute: Job Title, newValue: "{{lead.Company Name}} contact"}
          - Change Data Value:
              attribute: Lead Status
              newValue: Contacted
              choices:
                - {if: {Lead Score: {at least: 150}}, newValue: Qualified}
                - {if: {Country: is Norway}, doNothing: true}
          - Add to List: Bench List
          - Interesting Moment: {type: Milestone, description: "Batch bench, bonus {{my.Bonus}}"}
        schedule: {qualification: once}
"""
__doc__ = (__doc__ or "") + "\n" + CAMPAIGN_YAML

CHILD = "Bench Child"
# --with-executable: step 3 calls a child (2 filters, 2 steps) with the parent's token
# context, so the child's {{my.Bonus}} is the parent folder's +7, not its own +1 (EXE-16).
# The Lead Status step with its choices moves into the child.
EXECUTABLE_YAML = """\
workspace: Default
folders:
  - name: Bench
    tokens:
      Bonus: {type: score, value: "+7"}
    lists:
      - name: Bench List
    campaigns:
      - name: Batch Bench
        smartList:
          filters:
            - Lead Score: {at least: 10}
            - Unsubscribed: is false
            - Country: {is not: [Germany]}
        flow:
          - Change Score: {scoreName: Lead Score, change: "{{my.Bonus}}"}
          - Change Data Value: {attribute: Job Title, newValue: "{{lead.Company Name}} contact"}
          - Execute Campaign: {campaign: Bench Child, useParentContext: true}
          - Add to List: Bench List
          - Interesting Moment: {type: Milestone, description: "Batch bench, bonus {{my.Bonus}}"}
        schedule: {qualification: once}
  - name: Bench Children
    tokens:
      Bonus: {type: score, value: "+1"}
    campaigns:
      - name: Bench Child
        executable: true
        smartList:
          filters:
            - Lead Score: {at least: 40}
            - Lead Status: {is not: [Disqualified]}
        flow:
          - Change Data Value:
              attribute: Lead Status
              newValue: Contacted
              choices:
                - {if: {Lead Score: {at least: 150}}, newValue: Qualified}
                - {if: {Country: is Norway}, doNothing: true}
          - Change Score: {scoreName: Lead Score, change: "{{my.Bonus}}"}
        schedule: {qualification: once}
"""

HAND_CHILD = {
    "child_name": CHILD,
    "child_min_score": 40,
    "child_excluded_status": "Disqualified",
    "child_bonus": 7,  # the parent's {{my.Bonus}} (useParentContext: true)
    "use_parent_context": True,
}

HAND = {
    "campaign_name": CAMPAIGN,
    "list_name": LIST,
    "bonus": 7,
    "min_score": 10,
    "excluded_country": "Germany",
    "qualified_score": 150,
    "skipped_country": "Norway",
    "moment_type": "Milestone",
    "moment_description": "Batch bench, bonus +7",
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- databases -------------------------------------------------------------------------


def build(url: str, scratch: Path, people: int, seed: int, definitions: str) -> None:
    """Migrate, define the campaign(s), import ``people`` and refresh the statistics."""
    database = Database(url)
    database.migrate()
    yaml_path = scratch / "campaign.yaml"
    yaml_path.write_text(definitions, encoding="utf-8")
    apply_paths(database, [yaml_path])
    csv_path = write_people_csv(scratch / "people.csv", people, seed)
    import_people(database, csv_path, clock=FixedClock(NOW))
    csv_path.unlink()
    refresh_statistics(database)
    database.dispose()


def prepare(
    server: str | None, scratch: Path, people: int, seed: int, definitions: str
) -> tuple[str, str]:
    """Two identical databases: (engine URL, hand script URL)."""
    if server is None:
        engine_url = f"sqlite:///{scratch / 'engine.db'}"
        in_child(build, engine_url, scratch, people, seed, definitions)
        shutil.copyfile(scratch / "engine.db", scratch / "hand.db")
        return engine_url, f"sqlite:///{scratch / 'hand.db'}"
    hand = f"{PG_DATABASE}_hand"
    pg_execute(
        server, drop_database(PG_DATABASE), drop_database(hand), f'CREATE DATABASE "{PG_DATABASE}"'
    )
    engine_url = pg_url(server, PG_DATABASE)
    in_child(build, engine_url, scratch, people, seed, definitions)
    pg_execute(server, f'CREATE DATABASE "{hand}" TEMPLATE "{PG_DATABASE}"')
    return engine_url, pg_url(server, hand)


# --- measuring -------------------------------------------------------------------------


class StatementTimer:
    """Wall and CPU seconds per SQL statement text (``--profile-sql``) and when qualification
    committed. On SQLite the statement runs in this process, so its CPU seconds are what a
    loaded machine does not inflate."""

    def __init__(self, engine: sa.Engine, *, profile: bool) -> None:
        self.profile = profile
        self.totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
        self.cohort_written = False
        self.qualified_at: float | None = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "commit", self._commit)

    def _before(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["bench_started"] = (time.perf_counter(), time.process_time())
        if statement.lstrip().upper().startswith("INSERT INTO RUN_MEMBER"):
            self.cohort_written = True

    def _after(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if self.profile:
            wall, cpu = conn.info.pop("bench_started")
            total = self.totals[" ".join(statement.split())[:160]]
            total[0] += time.perf_counter() - wall
            total[1] += time.process_time() - cpu
            total[2] += 1

    def _commit(self, conn: Any) -> None:
        # The qualification transaction is the one that wrote the cohort.
        if self.cohort_written and self.qualified_at is None:
            self.qualified_at = time.perf_counter()

    def report(self, limit: int = 25) -> None:
        ranked = sorted(self.totals.items(), key=lambda item: -item[1][0])[:limit]
        print("  wall s    cpu s  count  statement", file=sys.stderr)
        for statement, (seconds, cpu, count) in ranked:
            print(f"{seconds:8.3f} {cpu:8.3f} {int(count):6d}x  {statement}", file=sys.stderr)


def run_engine(url: str, chunk_size: int, profile: bool) -> dict[str, Any]:
    database = Database(url)
    timer = StatementTimer(database.engine, profile=profile)
    step_done: dict[str, float] = {}

    def on_chunk(step: str, chunk: int) -> None:
        step_done[step] = time.perf_counter()

    cpu = time.process_time()
    started = time.perf_counter()
    run = run_batch(database, FixedClock(NOW), CAMPAIGN, chunk_size=chunk_size, on_chunk=on_chunk)
    finished = time.perf_counter()
    cpu = time.process_time() - cpu
    result = run.result
    if result.status is not RunStatus.COMPLETED:
        raise SystemExit(f"the run ended {result.status.value}: {result.errors}")
    qualified_at = timer.qualified_at or started
    steps: dict[str, float] = {}
    previous = qualified_at
    for step, at in step_done.items():
        steps[step] = round(at - previous, 3)
        previous = at
    if profile:
        timer.report()
    database.dispose()
    return {
        "seconds": finished - started,
        "cpu_s": cpu,
        "qualify_s": qualified_at - started,
        "steps_s": steps,
        "qualified": result.qualified or 0,
        "campaign_id": result.campaign_id,
    }


def run_hand_script(url: str, campaign_id: int, with_executable: bool) -> tuple[float, float]:
    """(seconds, this process's CPU seconds) of the hand-written script."""
    database = Database(url)
    with database.read() as connection:
        list_id = connection.execute(
            select(schema.static_list.c.id).where(schema.static_list.c.name == LIST)
        ).scalar_one()
        child: dict[str, Any] = {}
        if with_executable:
            child_id = connection.execute(
                select(schema.campaign.c.id).where(schema.campaign.c.name == CHILD)
            ).scalar_one()
            child = {"child": HandChild(child_id=child_id, **HAND_CHILD)}
    campaign = HandCampaign(campaign_id=campaign_id, list_id=list_id, **HAND, **child)
    cpu = time.process_time()
    started = time.perf_counter()
    with database.begin() as connection:
        run_hand(connection, campaign, NOW)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    database.dispose()
    return seconds, cpu


# --- end states ------------------------------------------------------------------------


def _rows(connection: sa.Connection, statement: Any) -> Iterator[Any]:
    streamed = connection.execution_options(stream_results=True, yield_per=20_000)
    yield from streamed.execute(statement)


def end_state(url: str) -> dict[str, tuple[int, int]]:
    """(rows, order-independent digest) per part of the end state, read in one pass each."""
    database = Database(url)
    parts: dict[str, tuple[int, int]] = {}
    with database.read() as connection:
        person = person_table(load_field_registry(connection))
        kept = [c for c in person.c if c.name not in ("created_at", "updated_at")]
        activity = schema.activity
        queries = {
            "people": select(*kept),
            "list_member": select(schema.list_member.c.list_id, schema.list_member.c.person_id),
            "campaign_member": select(
                schema.campaign_member.c.campaign_id, schema.campaign_member.c.person_id
            ),
            "activities": select(
                activity.c.person_id,
                activity.c.activity_type_id,
                activity.c.campaign_id,
                activity.c.primary_attribute_value_id,
                activity.c.primary_attribute_value,
                activity.c.attributes,
            ).where(activity.c.campaign_id.is_not(None)),
        }
        for name, statement in queries.items():
            count = digest = 0
            for row in _rows(connection, statement):
                values = tuple(
                    tuple(sorted(value.items())) if isinstance(value, dict) else value
                    for value in row
                )
                # A sum of row hashes is the same for any order of the same multiset.
                digest = (digest + hash(values)) & 0xFFFFFFFFFFFFFFFF
                count += 1
            parts[name] = (count, digest)
    database.dispose()
    return parts


# --- main ------------------------------------------------------------------------------


@contextmanager
def databases(
    server: str | None, people: int, seed: int, definitions: str
) -> Iterator[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as scratch:
        try:
            yield prepare(server, Path(scratch), people, seed, definitions)
        finally:
            if server is not None:
                pg_execute(server, drop_database(PG_DATABASE), drop_database(f"{PG_DATABASE}_hand"))


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark a batch campaign run end to end.")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument(
        "--db",
        help=f"PostgreSQL server URL ({PG_DATABASE} and {PG_DATABASE}_hand are created on "
        "it and dropped); default: SQLite files in a temporary directory",
    )
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile-sql", action="store_true", help="slowest statements to stderr")
    parser.add_argument(
        "--with-executable",
        action="store_true",
        help="step 3 executes a child executable campaign (2 filters, 2 steps)",
    )
    args = parser.parse_args()

    definitions = EXECUTABLE_YAML if args.with_executable else CAMPAIGN_YAML
    build_started = time.perf_counter()
    with databases(args.db, args.people, args.seed, definitions) as (engine_url, hand_url):
        build_seconds = time.perf_counter() - build_started
        # Each timed phase starts on a clean disk: otherwise the kernel's writeback of the
        # build (or of the engine's run, for the hand script) lands in the measured time.
        os.sync()
        calibration = cpu_loop_seconds()
        steal = StealMeter.start()
        engine = run_engine(engine_url, args.chunk_size, args.profile_sql)
        engine_rss = peak_rss_mb()
        engine_steal = steal.percent()
        os.sync()
        hand_steal = StealMeter.start()
        hand_seconds, hand_cpu = run_hand_script(
            hand_url, engine["campaign_id"], args.with_executable
        )
        hand_steal_pct = hand_steal.percent()
        check_started = time.perf_counter()
        ours, theirs = end_state(engine_url), end_state(hand_url)
        check_seconds = time.perf_counter() - check_started
        backend = sa.make_url(engine_url).get_backend_name()

    differing = sorted(name for name in ours if ours[name] != theirs[name])
    seconds = engine["seconds"]
    result = {
        "backend": backend,
        "with_executable": args.with_executable,
        "people": args.people,
        "qualified": engine["qualified"],
        "seconds": round(seconds, 2),
        "qualify_s": round(engine["qualify_s"], 2),
        "flow_s": round(seconds - engine["qualify_s"], 2),
        "steps_s": engine["steps_s"],
        "people_per_s": round(args.people / seconds),
        "qualified_per_s": round(engine["qualified"] / seconds),
        "peak_rss_mb": round(engine_rss, 1),
        "hand_s": round(hand_seconds, 2),
        "ratio": round(seconds / hand_seconds, 2),
        "cpu_s": round(engine["cpu_s"], 2),
        "hand_cpu_s": round(hand_cpu, 2),
        "cpu_ratio": round(engine["cpu_s"] / hand_cpu, 2) if hand_cpu else None,
        "end_states_equal": not differing,
        "differing": differing,
        "rows": {name: count for name, (count, _) in ours.items()},
        "chunk_size": args.chunk_size,
        "build_s": round(build_seconds, 1),
        "check_s": round(check_seconds, 1),
        "cpu_loop_s": round(calibration, 2),
        "cpu_steal_pct": engine_steal,
        "hand_cpu_steal_pct": hand_steal_pct,
    }
    print(json.dumps(result))
    if differing:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
