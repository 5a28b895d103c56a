"""Benchmark smart-list evaluation: a whole-database count and the per-person check.

    .venv/bin/python bench/smart_lists.py --people 1000000 --activities 10000000
    .venv/bin/python bench/smart_lists.py --db postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Without ``--db`` the dataset goes into a new SQLite file in a temporary directory; with a
PostgreSQL URL a fresh database ``kampanj_bench_sl`` is created on that server and dropped
at the end. The dataset is built straight in the database with set-based SQL (no CSV):
people with scores and flags, and activities spread over the 180 days before a fixed
instant (visits, email opens, form fills, sends). The secondary indexes of ``person`` and
``activity`` are dropped for the bulk insert and created again afterwards (one sort each
instead of ten million random index insertions), then the statistics are refreshed.
It then measures

* the count of a 4-filter Advanced-logic list with two activity filters
  (``1 and (2 or 3) and not 4``: Lead Score ≥ 50; visited a pricing page in the past
  30 days; opened an email at least twice in the past 60 days; unsubscribed), and
* the single-person check a trigger runs (same list, ``Placement.PERSON``, one id),

and prints one JSON line of figures, with the CPU calibration loop and the CPU share the
hypervisor stole during the measurements (see ``bench/_machine.py``). ``count_cpu_s_median``
is the CPU time the count itself used (the server process on PostgreSQL, when the server
runs on this machine; this process on SQLite): on a shared machine the wall time of a count
is mostly waiting for a CPU, its CPU time much less so.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from _machine import StealMeter, cpu_loop_seconds
from sqlalchemy import Connection, bindparam, select, text

from kampanj.model.fields import FieldRegistry
from kampanj.model.smartlists import Condition, FilterMatchType, Rule, SmartListRules
from kampanj.smartlist.catalogue import Catalogue
from kampanj.smartlist.compiler import compile_rules, count_query
from kampanj.smartlist.conditions import Moment
from kampanj.smartlist.context import CompileContext, Placement
from kampanj.smartlist.evaluation import prepare_set_query
from kampanj.store.database import Database
from kampanj.store.registry import person_table
from kampanj.store.schema import person

PG_DATABASE = "kampanj_bench_sl"

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HISTORY_SECONDS = 180 * 86400
# Activity mix by i % 10: 4 visits (type 1), 3 opens (10), 2 sends (6), 1 form fill (2);
# visits cycle through seven pages, one of them /pricing.

RULES = SmartListRules(
    filters=(
        Rule(name="Lead Score", operator="at least", values=(50,)),
        Rule(
            name="Visited Web Page",
            primary=Condition(name="Web Page", operator="contains", values=("pricing",)),
        ),
        Rule(
            name="Opened Email",
            constraints=(
                Condition(name="Date of Activity", operator="in past", values=("60 days",)),
                Condition(name="Min. Number of Times", operator="at least", values=(2,)),
            ),
        ),
        Rule(name="Unsubscribed", operator="is true"),
    ),
    match_type=FilterMatchType.ADVANCED,
    advanced_logic="1 and (2 or 3) and not 4",
)

_SQLITE_PEOPLE = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :people)
INSERT INTO person (id, email, first_name, lead_score, unsubscribed, marketing_suspended,
                    email_invalid, blocklisted, created_at, updated_at)
SELECT i, 'person' || i || '@example.com', 'Name' || (i % 97), (i * 7919) % 100,
       (i % 10) = 0, 0, 0, 0, :created, :created
FROM n
"""
_SQLITE_ACTIVITIES = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :activities)
INSERT INTO activity (id, person_id, activity_type_id, activity_date,
                      primary_attribute_value, attributes)
SELECT i,
       ((i * 2654435761) % :people) + 1,
       CASE i % 10 WHEN 0 THEN 1 WHEN 1 THEN 1 WHEN 2 THEN 1 WHEN 3 THEN 1
                   WHEN 4 THEN 10 WHEN 5 THEN 10 WHEN 6 THEN 10
                   WHEN 7 THEN 6 WHEN 8 THEN 6 ELSE 2 END,
       strftime('%Y-%m-%d %H:%M:%S.000000', :now, '-' || ((i * 7907) % :history) || ' seconds'),
       CASE WHEN i % 10 < 4 THEN
         CASE (i / 10) % 7 WHEN 0 THEN '/' WHEN 1 THEN '/pricing' WHEN 2 THEN '/product'
              WHEN 3 THEN '/docs' WHEN 4 THEN '/blog' WHEN 5 THEN '/contact' ELSE '/demo' END
       ELSE 'Mailing ' || (i % 5) END,
       CASE WHEN i % 10 < 4 THEN json_object('Browser', 'Agent ' || (i % 3)) ELSE '{}' END
FROM n
"""
_PG_PEOPLE = """
INSERT INTO person (id, email, first_name, lead_score, unsubscribed, marketing_suspended,
                    email_invalid, blocklisted, created_at, updated_at)
SELECT i, 'person' || i || '@example.com', 'Name' || (i % 97), (i * 7919) % 100,
       (i % 10) = 0, false, false, false, :created, :created
FROM generate_series(1::bigint, :people) AS i
"""
_PG_ACTIVITIES = """
INSERT INTO activity (id, person_id, activity_type_id, activity_date,
                      primary_attribute_value, attributes)
SELECT i,
       ((i * 2654435761) % :people) + 1,
       (ARRAY[1, 1, 1, 1, 10, 10, 10, 6, 6, 2])[(i % 10) + 1],
       CAST(:now AS timestamp) - make_interval(secs => (i * 7907) % :history),
       CASE WHEN i % 10 < 4 THEN
         (ARRAY['/', '/pricing', '/product', '/docs', '/blog', '/contact', '/demo'])
           [((i / 10) % 7) + 1]
       ELSE 'Mailing ' || (i % 5) END,
       CASE WHEN i % 10 < 4 THEN jsonb_build_object('Browser', 'Agent ' || (i % 3))
            ELSE '{}'::jsonb END
FROM generate_series(1::bigint, :activities) AS i
"""


def build(database: Database, people: int, activities: int) -> dict[str, float]:
    """Fill ``person`` and ``activity``; seconds per phase."""
    phases: dict[str, float] = {}
    with database.begin() as connection:
        indexes = _secondary_indexes(connection)
        for name in indexes:
            connection.execute(text(f'DROP INDEX "{name}"'))
        tick = time.perf_counter()
        _insert(connection, people, activities)
        phases["insert_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    with database.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for ddl in indexes.values():
            connection.execute(text(ddl))
    phases["index_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    with database.engine.connect() as connection:
        # VACUUM also sets PostgreSQL's visibility map, as autovacuum would on a live
        # database, so index-only scans are possible.
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        if connection.dialect.name == "postgresql":
            autocommit.execute(text("VACUUM ANALYZE person"))
            autocommit.execute(text("VACUUM ANALYZE activity"))
        else:
            autocommit.execute(text("ANALYZE"))
    phases["analyze_s"] = time.perf_counter() - tick
    return phases


def _secondary_indexes(connection: Connection) -> dict[str, str]:
    """Name → CREATE INDEX statement of the person and activity indexes the migrations made."""
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema() AND tablename IN ('person', 'activity') "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
        )
    else:
        rows = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name IN ('person', 'activity') AND sql IS NOT NULL"
            )
        )
    return {name: ddl for name, ddl in rows}


def _insert(connection: Connection, people: int, activities: int) -> None:
    postgres = connection.dialect.name == "postgresql"
    naive_now = NOW.replace(tzinfo=None)
    connection.execute(
        text(_PG_PEOPLE if postgres else _SQLITE_PEOPLE),
        {"people": people, "created": naive_now},
    )
    connection.execute(
        text(_PG_ACTIVITIES if postgres else _SQLITE_ACTIVITIES),
        {
            "people": people,
            "activities": activities,
            "now": naive_now if postgres else naive_now.strftime("%Y-%m-%d %H:%M:%S"),
            "history": HISTORY_SECONDS,
        },
    )
    if postgres:
        connection.execute(text("SELECT setval('person_id_seq', :n)"), {"n": people})
        connection.execute(text("SELECT setval('activity_id_seq', :n)"), {"n": activities})


def _server_admin(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


def _fresh_postgres(url: str) -> str:
    """A new empty database ``kampanj_bench_sl`` on the server of ``url``; its URL."""
    admin = _server_admin(url)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{PG_DATABASE}"')
    admin.dispose()
    return admin.url.set(database=PG_DATABASE).render_as_string(hide_password=False)


def _drop_postgres(url: str) -> None:
    admin = _server_admin(url)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark smart-list count and person check.")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--activities", type=int, default=10_000_000)
    parser.add_argument(
        "--db",
        help=f"PostgreSQL server URL (database {PG_DATABASE} is created on it and dropped); "
        "default: a new SQLite file",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed counts (median reported)")
    parser.add_argument("--probes", type=int, default=500, help="single-person checks")
    parser.add_argument(
        "--keep",
        metavar="SQLITE_FILE",
        nargs="?",
        const="/tmp/kampanj_bench_sl.db",
        help="keep the dataset (SQLite: in this file; PostgreSQL: the database) and reuse "
        "it when it is already there, to study plans or re-measure after a migration",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        url = args.db and (_fresh_postgres(args.db) if not args.keep else _kept_postgres(args.db))
        if not url:
            url = f"sqlite:///{args.keep or Path(scratch) / 'bench.db'}"
        database = Database(url)
        database.migrate()
        build_steal = StealMeter.start()
        started = time.perf_counter()
        phases: dict[str, float] = {}
        with database.read() as connection:
            present = connection.execute(select(sa.func.count()).select_from(person)).scalar()
        if present != args.people:
            phases = build(database, args.people, args.activities)
        build_seconds = time.perf_counter() - started
        build_steal_pct = build_steal.percent()

        calibration = cpu_loop_seconds()
        steal = StealMeter.start()
        ctx = CompileContext(
            catalogue=Catalogue.standard(),
            person=person_table(FieldRegistry.standard()),
            moment=Moment(now=NOW, zone=ZoneInfo("UTC")),
        )
        compiled = compile_rules(RULES, ctx)
        assert compiled.valid, compiled.problems
        counts: list[float] = []
        count_cpu: list[float] = []
        count = 0
        with database.read() as connection:
            prepare_set_query(connection)
            cpu = _count_cpu_clock(connection)
            for _ in range(args.repeat):
                tick, cpu_tick = time.perf_counter(), cpu()
                count = connection.execute(count_query(compiled, ctx)).scalar_one()
                counts.append(time.perf_counter() - tick)
                count_cpu.append(cpu() - cpu_tick)

        probe_ctx = ctx.at(Placement.PERSON)
        probe = compile_rules(RULES, probe_ctx)
        statement = select(probe.predicate).where(probe_ctx.person.c.id == bindparam("person_id"))
        rng = random.Random(7)
        timings: list[float] = []
        qualified = 0
        with database.read() as connection:
            for _ in range(args.probes):
                person_id = rng.randint(1, args.people)
                tick = time.perf_counter()
                qualified += bool(connection.execute(statement, {"person_id": person_id}).scalar())
                timings.append(time.perf_counter() - tick)
        steal_pct = steal.percent()
        backend = database.dialect
        database.dispose()
        if args.db and not args.keep:
            _drop_postgres(args.db)

    print(
        json.dumps(
            {
                "backend": backend,
                "people": args.people,
                "activities": args.activities,
                "build_s": round(build_seconds, 1),
                **{name: round(seconds, 1) for name, seconds in phases.items()},
                "build_cpu_steal_pct": build_steal_pct,
                "count": count,
                "count_s_median": round(statistics.median(counts), 3),
                "count_s_runs": [round(c, 3) for c in counts],
                "count_cpu_s_median": round(statistics.median(count_cpu), 3),
                "person_check_ms_median": round(statistics.median(timings) * 1000, 3),
                "person_check_ms_p95": round(
                    sorted(timings)[int(len(timings) * 0.95) - 1] * 1000, 3
                ),
                "person_checks_qualified": qualified,
                "cpu_loop_s": round(calibration, 2),
                "cpu_steal_pct": steal_pct,
            }
        )
    )


def _count_cpu_clock(connection: Connection) -> Callable[[], float]:
    """CPU seconds used so far by whoever runs the count: this process on SQLite, the
    server process of ``connection`` on PostgreSQL (read from ``/proc``, so only for a
    server on this machine; elsewhere the clock stays at 0). Unlike the wall time, this
    hardly depends on how many other processes share the CPUs."""
    if connection.dialect.name != "postgresql":
        return time.process_time
    stat = Path(f"/proc/{connection.execute(text('SELECT pg_backend_pid()')).scalar_one()}/stat")
    ticks = os.sysconf("SC_CLK_TCK")

    def server_cpu() -> float:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    return server_cpu


def _kept_postgres(url: str) -> str:
    """The kept database's URL, created empty when it does not exist yet."""
    admin = _server_admin(url)
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": PG_DATABASE}
        ).scalar()
        if not exists:
            connection.exec_driver_sql(f'CREATE DATABASE "{PG_DATABASE}"')
    admin.dispose()
    return admin.url.set(database=PG_DATABASE).render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
