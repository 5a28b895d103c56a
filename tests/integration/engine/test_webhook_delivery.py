"""Call Webhook through the outbox: rendering, at-most-once delivery, responses (HOOK-1..9,
LEDG-3), against a real HTTP receiver on 127.0.0.1 that counts calls."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from webhooksupport import (
    T0,
    Receiver,
    activities,
    build,
    hook_yaml,
    outbox_rows,
    person,
    receiver,
    run_row,
    run_step,
)

from kampanj.clock import FixedClock
from kampanj.engine.delivery import Transports, deliver
from kampanj.engine.http_transport import (
    DirectHttpTransport,
    HttpRequest,
    HttpResult,
)
from kampanj.model.activities import StandardActivity
from kampanj.store.database import Database

CALL = StandardActivity.CALL_WEBHOOK
CHANGE = StandardActivity.CHANGE_DATA_VALUE
LATER = FixedClock(T0 + timedelta(seconds=5))
AFTER_LEASE = FixedClock(T0 + timedelta(hours=1))


class Crash(BaseException):
    """Stands in for a worker dying (SIGKILL) in the middle of delivery."""


@dataclass
class CrashingTransport:
    """Dies before the call (``call_first=False``) or after it (``True``)."""

    call_first: bool

    def send(
        self, request: HttpRequest, *, timeout: float, allow_hosts: frozenset[str]
    ) -> HttpResult:
        if self.call_first:
            DirectHttpTransport().send(request, timeout=timeout, allow_hosts=allow_hosts)
        raise Crash


def test_one_call_per_person_with_idempotency_key_and_mappings(
    database: Database, tmp_path: Path
) -> None:
    """HOOK-3/5/6/9: a 2xx JSON answer maps into fields; 110 then 13 (Source=Webhook)."""
    with receiver() as hooks:
        answer = {"orders": [{"orderDate": "2026-02-01", "count": 3}], "note": "ok"}
        hooks.answers["/orders"] = (200, "application/json", json.dumps(answer))
        build(
            database,
            tmp_path,
            hook_yaml(
                hooks.url("/orders?email={{lead.Email Address}}"),
                payload='{"name": {{lead.First Name}}, "score": {{lead.Lead Score}}}',
                encoding="JSON",
                response_type="JSON",
                headers={"X-Who": "{{lead.First Name}}"},
                mappings={
                    "orders[0].orderDate": "orderDate",
                    "orders[0].count": "orderCount",
                    "note": "orderNote",
                    "missing.path": "orderNote",
                },
            ),
            [{"first_name": 'Ann "A"', "lead_score": 7}, {"first_name": "Bo"}],
        )
        run_id, outcome = run_step(database, [1, 2])
        assert outcome.executed == 2 and not outcome.errors
        assert hooks.calls == []  # no HTTP inside the step's transaction
        report = deliver(database, LATER)
        assert report.to_json()["sent"] == 2
        second = deliver(database, LATER)
    assert second.rows == []
    assert sorted(hooks.keys()) == [f"{run_id}:1:s1", f"{run_id}:2:s1"]
    first = hooks.calls[0]
    assert first.method == "POST"
    assert unquote(first.path) == "/orders?email=p1@x.com"
    assert json.loads(first.body) == {"name": 'Ann "A"', "score": 7}
    assert first.headers["X-Who"] == 'Ann "A"'
    assert first.headers["Content-Type"] == "application/json"
    assert [r["state"] for r in outbox_rows(database)] == ["sent", "sent"]
    assert [r["attempts"] for r in outbox_rows(database)] == [1, 1]
    stored = person(database, 1)
    assert str(stored["orderDate"]) == "2026-02-01"
    assert stored["orderCount"] == 3 and stored["orderNote"] == "ok"
    written = activities(database, CALL, CHANGE)
    assert [(a["person_id"], a["activity_type_id"]) for a in written] == [
        (1, CALL),
        (1, CHANGE),
        (1, CHANGE),
        (1, CHANGE),
        (2, CALL),
        (2, CHANGE),
        (2, CHANGE),
        (2, CHANGE),
    ]
    call = written[0]
    assert call["attributes"]["Status Code"] == 200
    assert json.loads(call["attributes"]["Response"]) == answer
    assert "Error Type" not in call["attributes"]
    assert call["primary_attribute_value"] == "Hook" and call["run_id"] == run_id
    change = written[1]
    assert change["attributes"]["Source"] == "Webhook"
    assert change["attributes"]["Attribute Name"] in ("Order Date", "Order Count", "Order Note")
    assert run_row(database, run_id)["warnings"] == []


def test_500_writes_no_mapping_and_records_the_error(database: Database, tmp_path: Path) -> None:
    """HOOK-5/6/8: non-2xx → Error Type = reason phrase, no mapping, WEBHOOK_FAILED."""
    with receiver() as hooks:
        hooks.answers["/fail"] = (500, "application/json", '{"note": "never"}')
        build(
            database,
            tmp_path,
            hook_yaml(hooks.url("/fail"), response_type="JSON", mappings={"note": "orderNote"}),
            [{}],
        )
        run_id, _ = run_step(database, [1])
        deliver(database, LATER)
        deliver(database, LATER)
    assert len(hooks.calls) == 1
    written = activities(database, CALL, CHANGE)
    assert [a["activity_type_id"] for a in written] == [CALL]
    assert written[0]["attributes"]["Status Code"] == 500
    assert written[0]["attributes"]["Error Type"] == "Internal Server Error"
    assert person(database, 1)["orderNote"] is None
    row = outbox_rows(database)[0]
    assert row["state"] == "failed" and "Internal Server Error" in row["error"]
    warnings = run_row(database, run_id)["warnings"]
    assert [w["code"] for w in warnings] == ["WEBHOOK_FAILED"]
    assert warnings[0]["personId"] == 1 and warnings[0]["stepId"] == "s1"


def test_empty_2xx_body_is_1001(database: Database, tmp_path: Path) -> None:
    """HOOK-5: a 2xx without a body has Error Type 1001 and maps nothing."""
    with receiver() as hooks:
        build(
            database,
            tmp_path,
            hook_yaml(hooks.url("/empty"), response_type="JSON", mappings={"a": "orderNote"}),
            [{}],
        )
        run_step(database, [1])
        deliver(database, LATER)
    [call] = activities(database, CALL, CHANGE)
    assert call["attributes"]["Error Type"] == "1001"
    assert outbox_rows(database)[0]["state"] == "sent"


def test_xml_mapping_and_type_mismatch(database: Database, tmp_path: Path) -> None:
    """HOOK-6: XML paths from the root; a value that does not convert is MAPPING_TYPE."""
    xml = "<r><items><item><n>5</n></item><item><n>x</n></item></items><note>hi</note></r>"
    with receiver() as hooks:
        hooks.answers["/x"] = (200, "application/xml", xml)
        build(
            database,
            tmp_path,
            hook_yaml(
                hooks.url("/x"),
                response_type="XML",
                mappings={"r.items.item[1].n": "orderCount", "r.note": "orderNote"},
            ),
            [{}],
        )
        run_id, _ = run_step(database, [1])
        deliver(database, LATER)
    stored = person(database, 1)
    assert stored["orderCount"] is None and stored["orderNote"] == "hi"
    assert [a["activity_type_id"] for a in activities(database, CALL, CHANGE)] == [CALL, CHANGE]
    assert [w["code"] for w in run_row(database, run_id)["warnings"]] == ["MAPPING_TYPE"]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("JSON", 'a="x & \\"y\\"" n=12 b=true'),
        ("Form/Url", "a=x%20%26%20%22y%22 n=12 b=true"),
        ("None", 'a=x & "y" n=12 b=true'),
    ],
)
def test_token_encodings(database: Database, tmp_path: Path, encoding: str, expected: str) -> None:
    """HOOK-3: JSON strings escaped and quoted, numbers and booleans bare; Form/Url
    percent-encoded; None as is; literal text untouched."""
    with receiver() as hooks:
        build(
            database,
            tmp_path,
            hook_yaml(
                hooks.url("/enc"),
                payload="a={{lead.First Name}} n={{lead.Lead Score}} b={{lead.Unsubscribed}}",
                encoding=encoding,
            ),
            [{"first_name": 'x & "y"', "lead_score": 12, "unsubscribed": True}],
        )
        run_step(database, [1])
        deliver(database, LATER)
    assert [call.body for call in hooks.calls] == [expected]


def test_retry_and_second_delivery_never_call_twice(database: Database, tmp_path: Path) -> None:
    """LEDG-3/HOOK-9: the same step execution cannot write a second intent, and repeated
    delivery passes call each key once."""
    with receiver() as hooks:
        build(database, tmp_path, hook_yaml(hooks.url("/once")), [{}, {}])
        run_id, _ = run_step(database, [1, 2])
        for _ in range(3):
            deliver(database, LATER)
            deliver(database, AFTER_LEASE)
    assert sorted(hooks.keys()) == [f"{run_id}:1:s1", f"{run_id}:2:s1"]
    assert [a["person_id"] for a in activities(database, CALL)] == [1, 2]


def test_crash_between_claim_and_call_is_unknown_and_never_called(
    database: Database, tmp_path: Path
) -> None:
    """LEDG-3: a claimed row left by a dead worker is marked unknown (no lookup), never
    called, and its 110 says Outcome Unknown."""
    with receiver() as hooks:
        build(database, tmp_path, hook_yaml(hooks.url("/c")), [{}])
        run_id, _ = run_step(database, [1])
        with pytest.raises(Crash):
            deliver(database, LATER, Transports(http=CrashingTransport(call_first=False)))
        assert outbox_rows(database)[0]["state"] == "claimed"
        deliver(database, LATER)  # inside the lease: the claim may still be live
        assert outbox_rows(database)[0]["state"] == "claimed"
        deliver(database, AFTER_LEASE)
        deliver(database, AFTER_LEASE)
    assert hooks.calls == []
    row = outbox_rows(database)[0]
    assert row["state"] == "unknown" and row["attempts"] == 1
    [call] = activities(database, CALL)
    assert call["attributes"]["Error Type"] == "Outcome Unknown"
    assert "Status Code" not in call["attributes"]
    assert [w["code"] for w in run_row(database, run_id)["warnings"]] == ["WEBHOOK_FAILED"]


def test_crash_between_call_and_outcome_is_never_called_again(
    database: Database, tmp_path: Path
) -> None:
    """LEDG-3: the call happened but its outcome was not recorded: unknown, one call."""
    with receiver() as hooks:
        build(database, tmp_path, hook_yaml(hooks.url("/c")), [{}])
        run_step(database, [1])
        with pytest.raises(Crash):
            deliver(database, LATER, Transports(http=CrashingTransport(call_first=True)))
        deliver(database, AFTER_LEASE)
        deliver(database, AFTER_LEASE)
    assert len(hooks.calls) == 1
    assert outbox_rows(database)[0]["state"] == "unknown"
    assert len(activities(database, CALL)) == 1


@dataclass
class RememberingTransport:
    """A transport whose receiver can say what a key got (LEDG-3 ``lookup``)."""

    receiver: Receiver
    crash_after_call: bool = True

    def send(
        self, request: HttpRequest, *, timeout: float, allow_hosts: frozenset[str]
    ) -> HttpResult:
        DirectHttpTransport().send(request, timeout=timeout, allow_hosts=allow_hosts)
        if self.crash_after_call:
            raise Crash
        raise AssertionError("not used")

    def lookup(self, key: str) -> HttpResult | None:
        if key in self.receiver.keys():
            return HttpResult(status=200, reason="OK", body='{"note": "looked up"}')
        return None


def test_lookup_resolves_a_crashed_call(database: Database, tmp_path: Path) -> None:
    """LEDG-3: with lookup(key) the recorded outcome is the receiver's, mappings apply."""
    with receiver() as hooks:
        build(
            database,
            tmp_path,
            hook_yaml(hooks.url("/c"), response_type="JSON", mappings={"note": "orderNote"}),
            [{}],
        )
        run_step(database, [1])
        transports = Transports(http=RememberingTransport(hooks))
        with pytest.raises(Crash):
            deliver(database, LATER, transports)
        deliver(database, AFTER_LEASE, transports)
    assert len(hooks.calls) == 1
    assert outbox_rows(database)[0]["state"] == "sent"
    assert person(database, 1)["orderNote"] == "looked up"


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]", "0.0.0.0", "192.168.0.1"]
)
def test_blocked_addresses_are_never_called(database: Database, tmp_path: Path, host: str) -> None:
    """HOOK-4: loopback, private and link-local targets are refused unless allow-listed."""
    with receiver() as hooks:
        build(
            database,
            tmp_path,
            hook_yaml(hooks.url("/b", host=host)),
            [{}],
            allow="other.example",
        )
        run_id, _ = run_step(database, [1])
        deliver(database, LATER)
    assert hooks.calls == []
    [call] = activities(database, CALL)
    assert call["attributes"]["Error Type"] == "Blocked Address"
    assert outbox_rows(database)[0]["state"] == "failed"
    assert [w["code"] for w in run_row(database, run_id)["warnings"]] == ["WEBHOOK_FAILED"]


def test_timeout(database: Database, tmp_path: Path) -> None:
    """HOOK-4/5: no answer within webhookTimeoutSeconds → Error Type Timeout."""
    with receiver() as hooks:
        build(database, tmp_path, hook_yaml(hooks.url("/block")), [{}], timeout=1)
        run_step(database, [1])
        deliver(database, LATER)
        hooks.release.set()
    assert len(hooks.calls) == 1
    [call] = activities(database, CALL)
    assert call["attributes"]["Error Type"] == "Timeout"
    assert "Status Code" not in call["attributes"]


def test_invalid_rendered_url_is_a_person_error(database: Database, tmp_path: Path) -> None:
    """FLOW-6: a URL that renders invalid is an error naming it; nothing queued or sent."""
    with receiver() as hooks:
        build(
            database,
            tmp_path,
            hook_yaml("{{lead.Order Note}}/x"),
            [{"orderNote": "not a url"}, {"orderNote": hooks.url("")}],
        )
        _, outcome = run_step(database, [1, 2])
        deliver(database, LATER)
    assert outcome.executed == 1
    [error] = outcome.errors
    assert error.code == "WEBHOOK_URL_INVALID" and error.person_id == 1
    assert "not a url/x" in error.message
    assert [r["person_id"] for r in outbox_rows(database)] == [2]
    assert len(hooks.calls) == 1


@pytest.mark.parametrize(("allow", "called"), [("127.0.0.1", False), ("LOCALHOST", True)])
def test_host_names_are_checked_by_the_addresses_they_resolve_to(
    database: Database, tmp_path: Path, allow: str, called: bool
) -> None:
    """HOOK-4: ``localhost`` resolves to loopback, so only its own allow-list entry lets the
    call through (an entry for the address does not cover the name)."""
    with receiver() as hooks:
        build(database, tmp_path, hook_yaml(hooks.url("/n", host="localhost")), [{}], allow=allow)
        run_step(database, [1])
        deliver(database, LATER)
    assert len(hooks.calls) == (1 if called else 0)
    [call] = activities(database, CALL)
    assert call["attributes"].get("Error Type") == ("1001" if called else "Blocked Address")
