"""Deterministic synthetic people (CSV) and activity history (JSONL) for benchmarks and demos.

    python -m kampanj.synthetic --people 10000 --activities 50000 --out /tmp/data --seed 7

The same seed gives byte-identical files. Functions for reuse: `write_people_csv` and
`write_activities_jsonl`.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

FIRST_NAMES = (
    "Ada", "Alva", "Astrid", "Bo", "Carl", "Dagny", "Ebba", "Elin", "Erik", "Freja",
    "Gustav", "Hugo", "Ida", "Ingrid", "Johan", "Karin", "Lars", "Linnea", "Maja", "Nils",
    "Olle", "Saga", "Sven", "Tove", "Vera", "Wilma", "Yusuf", "Zara", "Amir", "Li",
)  # fmt: skip
LAST_NAMES = (
    "Andersson", "Berg", "Dahl", "Ek", "Forsberg", "Holm", "Jansson", "Karlsson", "Lind",
    "Lundqvist", "Nilsson", "Nyström", "Olsson", "Persson", "Sandberg", "Sjöberg", "Strand",
    "Wallin", "Öberg", "Åkesson", "Chen", "Garcia", "Okafor", "Novak", "Silva",
)  # fmt: skip
_BRANDS = ("Nordic", "Baltic", "Polar", "Fjord", "Aurora", "Birch", "Granite", "Harbor", "Lumen")
COMPANIES = tuple(f"{w} {s}" for w in _BRANDS for s in ("AB", "Systems", "Labs", "Group"))
TITLES = ("CEO", "CTO", "CMO", "Marketing Manager", "Developer", "Analyst", "Consultant",
    "Sales Director", "Product Owner", "Designer")  # fmt: skip
CITIES = (("Stockholm", "Sweden"), ("Göteborg", "Sweden"), ("Malmö", "Sweden"),
    ("Oslo", "Norway"), ("Copenhagen", "Denmark"), ("Helsinki", "Finland"),
    ("Berlin", "Germany"), ("London", "United Kingdom"), ("Austin", "United States"))  # fmt: skip
STATUSES = ("Open", "Contacted", "Qualified", "Nurture", "Disqualified")
PEOPLE_COLUMNS = (
    "email", "firstName", "lastName", "company", "title", "city", "country",
    "leadScore", "leadStatus", "unsubscribed",
)  # fmt: skip
PAGES = ("/", "/pricing", "/product", "/blog/set-based-engines", "/docs", "/contact", "/demo")
FORMS = (("1001", "Contact Us"), ("1002", "Webinar Registration"), ("1003", "Newsletter"))
MAILINGS = (("2001", "Welcome"), ("2002", "Monthly Newsletter"), ("2003", "Webinar Invite"))
AGENTS = ("Mozilla/5.0 (Macintosh)", "Mozilla/5.0 (Windows NT 10.0)", "Mozilla/5.0 (iPhone)")
HISTORY_DAYS = 180  # activities are spread over the half year before `now`

CustomValue = Callable[[random.Random, int], object]


def email_for(index: int) -> str:
    """The email of generated person ``index`` (1-based); person ids follow import order."""
    return f"person{index}@example.com"


def write_people_csv(
    path: Path,
    n: int,
    seed: int = 7,
    custom: Mapping[str, CustomValue] | None = None,
) -> Path:
    """Write ``n`` people with standard fields (and ``custom`` columns, if given) as CSV."""
    rng = random.Random(seed)
    extra = dict(custom or {})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow((*PEOPLE_COLUMNS, *extra))
        for index in range(1, n + 1):
            city, country = rng.choice(CITIES)
            writer.writerow(
                (
                    email_for(index),
                    rng.choice(FIRST_NAMES),
                    rng.choice(LAST_NAMES),
                    rng.choice(COMPANIES),
                    rng.choice(TITLES),
                    city,
                    country,
                    rng.randrange(0, 200),
                    rng.choice(STATUSES),
                    "true" if rng.random() < 0.03 else "false",
                    *(make(rng, index) for make in extra.values()),
                )
            )
    return path


def _visit(rng: random.Random) -> tuple[str, str | None, dict[str, object]]:
    page = rng.choice(PAGES)
    return (
        "Visit Webpage",
        page,
        {
            "Webpage URL": f"https://www.example.com{page}",
            "Referrer URL": rng.choice(
                ("https://www.google.com/", "https://www.linkedin.com/", "")
            ),
            "User Agent": rng.choice(AGENTS),
            "Client IP Address": f"203.0.113.{rng.randrange(1, 255)}",
        },
    )


def _form(rng: random.Random) -> tuple[str, str | None, dict[str, object]]:
    form_id, name = rng.choice(FORMS)
    return (
        "Fill Out Form",
        name,
        {
            "Webpage ID": rng.choice(PAGES),
            "Form Fields": json.dumps({"formId": form_id}),
            "User Agent": rng.choice(AGENTS),
        },
    )


def _click(rng: random.Random) -> tuple[str, str | None, dict[str, object]]:
    page = rng.choice(PAGES)
    return "Click Link", f"https://www.example.com{page}", {"Webpage ID": page}


def _open(rng: random.Random) -> tuple[str, str | None, dict[str, object]]:
    mailing_id, name = rng.choice(MAILINGS)
    mobile = rng.random() < 0.4
    return (
        "Open Email",
        name,
        {
            "Platform": "iOS" if mobile else "Windows",
            "Device": "iPhone" if mobile else "Desktop",
            "User Agent": rng.choice(AGENTS),
            "Is Mobile Device": mobile,
            "Campaign Run ID": int(mailing_id),
        },
    )


def _click_email(rng: random.Random) -> tuple[str, str | None, dict[str, object]]:
    _, name = rng.choice(MAILINGS)
    return (
        "Click Email",
        name,
        {
            "Link": f"https://www.example.com{rng.choice(PAGES)}",
            "Device": rng.choice(("iPhone", "Desktop")),
        },
    )


_KINDS: Sequence[
    tuple[Callable[[random.Random], tuple[str, str | None, dict[str, object]]], int]
] = (
    (_visit, 50),
    (_open, 25),
    (_click, 10),
    (_click_email, 10),
    (_form, 5),
)


def write_activities_jsonl(
    path: Path, n_people: int, n_activities: int, seed: int = 7, now: datetime | None = None
) -> Path:
    """Write ``n_activities`` standard activities for people 1..``n_people`` as JSONL.

    Dates fall in the ``HISTORY_DAYS`` before ``now`` (default 2026-01-01T00:00:00Z).
    """
    rng = random.Random(seed + 1)
    end = (now or datetime(2026, 1, 1, tzinfo=UTC)).astimezone(UTC)
    makers = [make for make, _ in _KINDS]
    weights = [weight for _, weight in _KINDS]
    with path.open("w", encoding="utf-8") as handle:
        for _ in range(n_activities):
            make = rng.choices(makers, weights)[0]
            type_name, primary, attributes = make(rng)
            moment = end - timedelta(seconds=rng.randrange(HISTORY_DAYS * 86_400))
            record = {
                "personId": rng.randrange(1, n_people + 1),
                "activityType": type_name,
                "activityDate": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "primaryAttributeValue": primary,
                "attributes": {k: v for k, v in attributes.items() if v != ""},
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--activities", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write_people_csv(args.out / "people.csv", args.people, args.seed)
    if args.activities:
        write_activities_jsonl(
            args.out / "activities.jsonl", args.people, args.activities, args.seed
        )


if __name__ == "__main__":
    main()
