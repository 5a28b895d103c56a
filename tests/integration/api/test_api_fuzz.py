"""Fuzzing every operation of /openapi.json: never a system error, always the envelope (API-5).

Random path ids, query values and JSON bodies go to every documented operation. Each
answer must be the envelope (or, for identity and size limits, their documented shapes),
and never 611: a system error means an input reached code that did not expect it.
"""

from __future__ import annotations

import re
from typing import Any

from apisupport import Api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kampanj.api.formats import encode_token

REQUEST_ID = re.compile(r"^[0-9a-f]{4}#[0-9a-f]{11}$")
SCALARS = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.text(max_size=30),
    st.sampled_from(["", "true", "false", "1,2,3", "2026-03-02T09:00:00Z", '{"id":1}', "email"]),
)
JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
BODIES = st.one_of(
    JSON,
    st.fixed_dictionaries(  # schedule.json / trigger.json / program status shapes
        {
            "input": st.fixed_dictionaries(
                {},
                optional={
                    "runAt": SCALARS,
                    "cloneToProgramName": SCALARS,
                    "cloneToProgram": SCALARS,
                    "tokens": st.lists(
                        st.fixed_dictionaries({"name": SCALARS, "value": SCALARS}), max_size=2
                    ),
                    "leads": st.lists(st.fixed_dictionaries({"id": JSON}), max_size=2),
                },
            )
        },
        optional={"statusName": SCALARS, "status": SCALARS, "smartList": JSON, "person": JSON},
    ),
    st.fixed_dictionaries(
        {
            "input": st.lists(
                st.dictionaries(st.sampled_from(["id", "email", "leadScore", "city", "x"]), JSON),
                max_size=3,
            )
        },
        optional={
            "action": st.text(max_size=15),
            "lookupField": st.text(max_size=10),
            "name": st.text(max_size=10),
        },
    ),
)


def _operations(api: Api) -> list[tuple[str, str, list[str]]]:
    spec = api.client.get("/openapi.json").json()
    found = []
    for path, methods in spec["paths"].items():
        if path.startswith("/identity"):
            continue
        for method, operation in methods.items():
            params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            found.append((method.upper(), path, params))
    return sorted(found)


def _check_envelope(body: dict[str, Any]) -> None:
    assert REQUEST_ID.match(body["requestId"]), body
    assert isinstance(body["success"], bool)
    assert isinstance(body["errors"], list) and isinstance(body["warnings"], list)
    for error in body["errors"]:
        assert isinstance(error["code"], str) and isinstance(error["message"], str)
    for warning in body["warnings"]:
        assert isinstance(warning["code"], int)
    assert ("result" in body) == body["success"] or "nextPageToken" in body
    assert "611" not in [e["code"] for e in body["errors"]], body


def test_fuzz_every_operation(api: Api) -> None:
    operations = _operations(api)
    assert len(operations) > 40
    headers = {"Authorization": f"Bearer {api.token()}"}
    api.post("/rest/v1/leads.json", {"input": [{"email": "a@example.com", "leadScore": 1}]})

    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=True,
    )
    @given(
        operation=st.sampled_from(operations),
        ids=st.lists(st.integers(min_value=0, max_value=12), min_size=2, max_size=2),
        query=st.dictionaries(st.sampled_from(["x"]), SCALARS),
        values=st.lists(SCALARS, min_size=8, max_size=8),
        body=BODIES,
    )
    def probe(
        operation: tuple[str, str, list[str]],
        ids: list[int],
        query: dict[str, Any],
        values: list[Any],
        body: Any,
    ) -> None:
        method, template, names = operation
        path = template
        for number in ids:
            path = re.sub(r"\{[^}]+\}", str(number), path, count=1)
        params = {name: values[i % len(values)] for i, name in enumerate(names)}
        answer = api.client.request(
            method, path, params={**query, **params}, json=body, headers=headers
        )
        assert answer.status_code in (200, 413, 414), (method, path, answer.text)
        if answer.status_code == 200:
            _check_envelope(answer.json())

    probe()


def test_forged_page_tokens_are_invalid_requests(api: Api) -> None:
    """API-7: a token the server did not make, however well-formed, is 1003, never 611."""
    forged = [
        encode_token({"k": "leads", "p": "x"}),
        encode_token({"k": "leads", "p": -5}),
        encode_token({"k": "campaigns"}),
        "not base64 at all!",
    ]
    for token in forged:
        body = api.get("/rest/v1/campaigns.json", nextPageToken=token)
        assert body["errors"][0]["code"] == "1003", body
    for state in ({"k": "activities", "a": "x"}, {"k": "activities", "a": 1, "s": "soon"}):
        body = api.get(
            "/rest/v1/activities.json", nextPageToken=encode_token(state), activityTypeIds="12"
        )
        assert body["errors"][0]["code"] == "1003", body
