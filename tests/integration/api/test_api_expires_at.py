"""CMP-22, LIM-18 through the native API: lint and apply judge an ``expiresAt`` being set
by the server's clock; less than 15 minutes ahead → 709 and nothing written."""

from __future__ import annotations

from datetime import timedelta

from apisupport import Api, error_code

NATIVE = "/kampanj/v1"


def _world(expires_at: str) -> dict[str, object]:
    text = f"""\
workspace: Default
folders:
  - name: Marketing
    campaigns:
      - name: Expiring Visitors
        smartList: {{triggers: [Visits Web Page]}}
        flow:
          - Interesting Moment: {{type: Web, description: visit}}
        schedule: {{expiresAt: "{expires_at}"}}
"""
    return {"files": {"expiring.yaml": text}}


def test_native_apply_refuses_an_expires_at_too_soon(api: Api) -> None:
    """LIM-18: 10 minutes ahead → lint reports SCHEDULE_INVALID at schedule.expiresAt,
    apply answers 709 naming it and writes nothing; 20 minutes ahead is written."""
    now = api.clock.now()
    soon = _world((now + timedelta(minutes=10)).isoformat())
    (report,) = api.post(f"{NATIVE}/lint", soon)["result"]
    (finding,) = report["findings"]
    assert (finding["code"], finding["campaign"], finding["location"]) == (
        "SCHEDULE_INVALID",
        "Expiring Visitors",
        "schedule.expiresAt",
    )
    refused = api.post(f"{NATIVE}/apply", soon)
    assert error_code(refused) == "709"
    assert "expiresAt" in refused["errors"][0]["message"]
    assert "Expiring Visitors" not in api.ids("campaign")
    later = _world((now + timedelta(minutes=20)).isoformat())
    (applied,) = api.post(f"{NATIVE}/apply", later)["result"]
    assert applied["errors"] == 0 and "Expiring Visitors" in api.ids("campaign")
    api.clock.set(now + timedelta(minutes=30))  # it has come: re-applying it is no error
    (again,) = api.post(f"{NATIVE}/apply", later)["result"]
    assert again["errors"] == 0
