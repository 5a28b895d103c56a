"""Response paths and conversions of webhook mappings (HOOK-6), and the address rules of the
default transport (HOOK-4)."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from kampanj.engine.http_transport import allowed_host, blocked
from kampanj.engine.steps.webhook import url_problem
from kampanj.engine.webhook_response import MISSING, json_lookup, map_response, xml_lookup
from kampanj.model.fields import STANDARD_FIELDS, FieldDef, FieldRegistry, FieldType

UTC = ZoneInfo("UTC")
DOCUMENT = {"orders": [{"orderDate": "2026-01-02", "n": [1, [2, 3]]}], "a b": {"c": None}}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("orders[0].orderDate", "2026-01-02"),
        ("orders[0].n[1][0]", 2),
        ("a b.c", None),
        ("orders[1].orderDate", MISSING),
        ("orders.orderDate", MISSING),
        ("nothing", MISSING),
        ("orders[x]", MISSING),
        ("", MISSING),
    ],
)
def test_json_paths(path: str, expected: object) -> None:
    assert json_lookup(DOCUMENT, path) == expected


def test_xml_paths_start_at_the_root() -> None:
    root = ElementTree.fromstring("<list><e><foo>1</foo></e><e><foo>2</foo></e></list>")
    assert xml_lookup(root, "list.e[1].foo") == "2"
    assert xml_lookup(root, "list.e.foo") == "1"
    assert xml_lookup(root, "e[1].foo") is MISSING
    assert xml_lookup(root, "list.e[2].foo") is MISSING


def _fields() -> FieldRegistry:
    extra = (
        FieldDef(
            name="orderDate",
            display_name="Order Date",
            data_type=FieldType.DATE,
            column="order_date",
            is_custom=True,
        ),
    )
    return FieldRegistry((*STANDARD_FIELDS, *extra))


def test_mapping_converts_and_warns() -> None:
    """A value converts to the field type or is MAPPING_TYPE; read-only targets warn."""
    body = '{"d": "2026-01-02", "score": "high", "id": 5, "blank": "  "}'
    writes, problems = map_response(
        "JSON",
        body,
        [("d", "Order Date"), ("score", "Lead Score"), ("id", "id"), ("blank", "orderDate")],
        _fields(),
        UTC,
    )
    assert [(w.field.name, w.value) for w in writes] == [("orderDate", date(2026, 1, 2))]
    assert len(problems) == 2
    assert "Lead Score" in problems[1] and "not an updatable field" in problems[0]


def test_a_body_that_does_not_parse_maps_nothing() -> None:
    writes, problems = map_response("JSON", "<x/>", [("a", "orderDate")], _fields(), UTC)
    assert writes == [] and "not valid JSON" in problems[0]
    assert map_response("None", "{}", [("a", "orderDate")], _fields(), UTC) == ([], [])


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.1.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "0.0.0.0",
        "224.0.0.1",
        "::ffff:127.0.0.1",
        "fc00::1",
        "100.64.0.1",
    ],
)
def test_blocked_addresses(address: str) -> None:
    assert blocked(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::1"])
def test_public_addresses(address: str) -> None:
    assert not blocked(address)


def test_allow_list_matches_host_names_case_insensitively() -> None:
    assert allowed_host("LocalHost", ["localhost"])
    assert allowed_host("::1", ["[::1]"])
    assert not allowed_host("localhost", ["127.0.0.1"])


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("https://x.example/a?b=c", True),
        ("http://127.0.0.1:8080/", True),
        ("ftp://x.example/", False),
        ("not a url", False),
        ("https:///path", False),
        ("http://x.example:99999/", False),
        ("", False),
    ],
)
def test_rendered_urls(url: str, valid: bool) -> None:
    assert (url_problem(url) is None) is valid
