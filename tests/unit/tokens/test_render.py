"""Rendering: families, defaults, single pass, encoders, bulk rows (TOK-2..9, TOK-14)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from kampanj.model.fields import FieldDef, FieldType
from kampanj.model.tokens import MyTokenType
from kampanj.tokens.context import SystemFacts, TokenContext, TriggerFacts
from kampanj.tokens.formats import form_encoding, html_email_encoding, json_encoding
from kampanj.tokens.provenance import TokenSource
from kampanj.tokens.render import compile_template, families_used, render_text
from kampanj.tokens.syntax import TokenFamily
from kampanj.tokens.tree import TokenTree
from unit.tokens.tokenworld import FIELDS, NOW, campaign, context, program, token

STOCKHOLM = ZoneInfo("Europe/Stockholm")
CAMPAIGN = campaign("Welcome", 7, ("Events",))
FIELDS_X = FIELDS.with_fields(
    [
        FieldDef(
            name="notes",
            display_name="Notes",
            data_type=FieldType.TEXT,
            column="c_notes",
            is_custom=True,
            is_html_encoding_in_email=False,
        ),
        FieldDef(
            name="revenue",
            display_name="Annual Revenue",
            data_type=FieldType.CURRENCY,
            column="c_revenue",
            is_custom=True,
            is_company=True,
        ),
        FieldDef(
            name="eventDate",
            display_name="Event Date",
            data_type=FieldType.DATE,
            column="c_event_date",
            is_custom=True,
        ),
        FieldDef(
            name="lastSeen",
            display_name="Last Seen",
            data_type=FieldType.DATETIME,
            column="c_last_seen",
            is_custom=True,
        ),
    ]
)


def _tree() -> TokenTree:
    return TokenTree(
        tokens=[
            token("Greeting", "Hello {{lead.First Name}}", ("Events",), MyTokenType.TEXT),
            token("Blank", "", ("Events",), MyTokenType.TEXT),
            token("Points", "+5", ("Events",)),
        ],
        folders=[program("Events", 500, description="Spring events")],
    )


def _ctx(**kw: object) -> TokenContext:
    return context(_tree(), (CAMPAIGN, False), **kw)  # type: ignore[arg-type]


def _render(text: str, row: dict[str, object] | None = None, **kw: object) -> str:
    return render_text(text, _ctx(), FIELDS_X, row, **kw).text  # type: ignore[arg-type]


ADA = {"id": 1, "first_name": "Ada", "last_name": "Lovelace", "company": "Acme"}


def test_lead_tokens_by_display_name_then_rest_name() -> None:
    """TOK-5: lead names match the display name first, then the REST name; case-insensitive."""
    assert _render("{{lead.First Name}} {{LEAD.lastname}}", ADA) == "Ada Lovelace"


def test_company_family_reads_only_company_fields() -> None:
    """TOK-2: company tokens are fields marked as company fields."""
    row = {**ADA, "c_revenue": 1250.5}
    assert _render("{{company.Company Name}}|{{company.Annual Revenue}}", row) == "Acme|1250.5"
    assert _render("[{{company.First Name}}]", row) == "[]"


def test_unknown_family_and_malformed_braces_stay_literal() -> None:
    """TOK-3: {{foo.x}}, unclosed braces, no dot, empty name are left as written."""
    text = "a {{foo. x :default=1}} b {{nodot}} c {{my. }} d {{lead.First Name"
    rendered = render_text(text, _ctx(), FIELDS_X, ADA)
    assert rendered.text == text
    assert [p.source for p in rendered.provenance] == [TokenSource.LITERAL]


def test_known_family_unknown_name_resolves_to_default_or_empty() -> None:
    """TOK-3: a known family with an unknown name → default if given, else ''."""
    assert _render("[{{lead.No Such:default=x}}][{{campaign.nope}}][{{system.foo}}]", ADA) == (
        "[x][][]"
    )


def test_null_or_empty_values_resolve_to_the_default() -> None:
    """TOK-4: a null or '' value → the default if given, else ''."""
    row = {"id": 1, "first_name": None, "last_name": ""}
    assert _render("{{lead.First Name:default=friend}}/{{lead.Last Name}}", row) == "friend/"
    assert _render("{{my.Blank:default=b}}|{{my.Blank}}|") == "b||"


def test_default_runs_to_the_first_closing_braces() -> None:
    """TOK-1: the default is everything after ':default=' up to the first '}}'."""
    assert _render("{{lead.First Name:default=a: {b}}}", {"id": 1}) == "a: {b}"


def test_single_pass() -> None:
    """TOK-14: a value containing {{…}} is not resolved again."""
    row = {"id": 1, "first_name": "{{my.Points}}"}
    assert _render("{{my.Greeting}} / {{lead.First Name}}", row) == (
        "Hello {{lead.First Name}} / {{my.Points}}"
    )


def test_value_formats() -> None:
    """TOK-5: dates yyyy-MM-dd, datetimes in the account time zone, booleans, numbers."""
    ctx = _ctx(system=SystemFacts(now=NOW, zone=STOCKHOLM))
    row = {
        "id": 3,
        "c_event_date": date(2026, 5, 1),
        "c_last_seen": datetime(2026, 3, 2, 23, 30, tzinfo=UTC),
        "unsubscribed": True,
        "lead_score": 40,
        "c_revenue": 10.0,
    }
    text = (
        "{{lead.Event Date}}|{{lead.Last Seen}}|{{lead.Unsubscribed}}|{{lead.Lead Score}}"
        "|{{lead.Annual Revenue}}"
    )
    assert render_text(text, ctx, FIELDS_X, row).text == (
        "2026-05-01|2026-03-03 00:30:00|true|40|10"
    )


def test_campaign_and_program_tokens_come_from_the_context_campaign() -> None:
    """TOK-6, TOK-20: campaign and program tokens read the context campaign."""
    assert _render("{{campaign.name}}#{{campaign.id}}:{{program.Name}}#{{program.id}}") == (
        "Welcome#7:Events#500"
    )
    assert _render("{{program.description}}") == "Spring events"
    outside = context(TokenTree(tokens=[]), (campaign("Loose", 8, ("Folder",)), False))
    assert render_text("[{{program.name}}]", outside, FIELDS_X).text == "[]"


def test_system_tokens_use_the_clock_in_the_account_time_zone() -> None:
    """TOK-7, GEN-1: system.date, system.time and system.dateTime from the injected clock."""
    la = ZoneInfo("America/Los_Angeles")
    instant = datetime(2013, 8, 8, 23, 34, 5, tzinfo=UTC)
    ctx = _ctx(system=SystemFacts(now=instant, zone=la))
    text = "{{system.date}}|{{system.time}}|{{system.dateTime}}"
    assert render_text(text, ctx, FIELDS_X).text == (
        "Aug 08, 2013|04:34 PM (GMT -0700)|2013-08-08 16:34:05"
    )


def test_system_links_carry_the_message_id() -> None:
    """TOK-7: link tokens are URLs under publicBaseUrl with an opaque per-message id."""
    system = SystemFacts(
        now=NOW, public_base_url="https://k.example/", message_ids=lambda pid: f"m{pid}"
    )
    template = compile_template("{{system.unsubscribeLink}}", _ctx(system=system), FIELDS_X)
    assert template.render_many([{"id": 4}, {"id": 5}]) == [
        "https://k.example/unsubscribe/m4",
        "https://k.example/unsubscribe/m5",
    ]
    assert template.person_columns == frozenset({"id"})


def test_trigger_tokens_only_with_a_trigger_started_level_0() -> None:
    """TOK-8: trigger name, primary value, attributes; absent otherwise (TOK-4)."""
    facts = TriggerFacts(
        trigger_name="Fills Out Form", primary_value="Signup", attributes={"Webpage ID": 12}
    )
    text = (
        "{{trigger.Trigger Name}}|{{trigger.name}}|{{trigger.webpage id}}|{{trigger.x:default=d}}"
    )
    ctx = TokenContext(
        tree=_tree(),
        call_stack=_ctx().call_stack,
        system=SystemFacts(now=NOW),
        triggers={1: facts},
    )
    assert render_text(text, ctx, FIELDS_X, {"id": 1}).text == "Fills Out Form|Signup|12|d"
    # A child called without parent context does not see the trigger.
    child = ctx.call(campaign("Child", 9, ("Events",)), use_parent_context=False)
    assert render_text(text, child, FIELDS_X, {"id": 1}).text == "|||d"
    # A batch run has no trigger.
    assert _render(text, {"id": 1}) == "|||d"


def test_member_tokens_read_the_context_programs_membership() -> None:
    """TOK-9: member tokens; non-members get TOK-4; program status is not a member token."""
    ctx = _ctx().with_members({1: {"Webinar URL": "https://w.example/1", "Status": "Attended"}})
    text = "{{member.webinar url:default=none}}|{{member.status}}"
    template = compile_template(text, ctx, FIELDS_X)
    assert template.render_many([{"id": 1}, {"id": 2}]) == ["https://w.example/1|", "none|"]
    (url, _status) = template.provenance
    assert url.location is not None and url.location.id == 500


def test_bulk_rendering_equals_one_by_one_and_reads_only_named_columns() -> None:
    """DESIGN §2: person tokens rendered in bulk from rows."""
    template = compile_template(
        "Hi {{lead.First Name:default=you}} ({{my.Points}})", _ctx(), FIELDS_X
    )
    rows = [{"id": i, "first_name": name} for i, name in enumerate(["Ada", None, "", "Bo"])]
    assert template.render_many(rows) == [template.render_one(r).text for r in rows]
    assert template.render_many(rows)[1] == "Hi you (+5)"
    assert template.person_columns == frozenset({"first_name"})
    assert template.render_many([]) == []


def test_context_tokens_resolve_once_per_compile() -> None:
    """DESIGN §2: context tokens are constants of the compiled template."""
    template = compile_template("{{my.Points}} {{campaign.name}}", _ctx(), FIELDS_X)
    assert template.is_constant and template.constant() == "+5 Welcome"
    assert template.render_many([{"id": 1}] * 3) == ["+5 Welcome"] * 3


def test_per_person_provenance() -> None:
    """PROV-1 for person tokens: field, default or empty per person."""
    template = compile_template("{{lead.First Name:default=you}}", _ctx(), FIELDS_X)
    assert template.provenance[0].value is None
    assert template.render_one({"first_name": "Ada"}).provenance[0].source is TokenSource.FIELD
    fallback = template.render_one({"first_name": None}).provenance[0]
    assert fallback.source is TokenSource.DEFAULT and fallback.value == "you"


def test_html_email_escapes_only_html_encoded_fields() -> None:
    """MAIL-8: HTML parts escape fields with isHtmlEncodingInEmail; others inserted as is."""
    row = {"id": 1, "first_name": "<b>Ada</b>", "c_notes": "<i>raw</i>"}
    text = "{{lead.First Name}} {{lead.Notes}} {{my.Greeting}} {{lead.x:default=<u>}}"
    assert _render(text, row, encoder=html_email_encoding) == (
        "&lt;b&gt;Ada&lt;/b&gt; <i>raw</i> Hello {{lead.First Name}} <u>"
    )
    assert _render(text, row).startswith("<b>Ada</b>")  # text parts are never escaped


def test_json_encoding_quotes_strings_and_leaves_numbers_bare() -> None:
    """HOOK-3: JSON-escaped strings in double quotes, numbers and booleans bare."""
    row = {"id": 1, "first_name": 'A "q"\n', "lead_score": 12, "unsubscribed": False}
    payload = (
        '{"name": {{lead.First Name}}, "score": {{lead.Lead Score}}, '
        '"unsub": {{lead.Unsubscribed}}, "points": {{my.Points}}, "missing": {{lead.City}}}'
    )
    document = json.loads(_render(payload, row, encoder=json_encoding))
    assert document == {
        "name": 'A "q"\n',
        "score": 12,
        "unsub": False,
        "points": "+5",
        "missing": "",
    }


def test_form_encoding_percent_encodes_values_not_literals() -> None:
    """HOOK-3: Form/Url percent-encodes values; literal URL characters are sent as written."""
    row = {"id": 1, "first_name": "Ada & Bo/é"}
    url = "https://x.example/a?b=1&name={{lead.First Name}}"
    assert _render(url, row, encoder=form_encoding) == (
        "https://x.example/a?b=1&name=Ada%20%26%20Bo%2F%C3%A9"
    )


def test_alert_info_token() -> None:
    """TOK-2, MAIL-11: {{sp_send_alert_info}} renders id, name, email, company and score."""
    row = {**ADA, "email": "ada@example.com", "lead_score": 40}
    text = render_text("{{sp_send_alert_info}}", _ctx(), FIELDS_X, row, alert_info=True).text
    assert "Person ID: 1" in text and "Lead Score: 40" in text and "Company: Acme" in text
    assert _render("{{sp_send_alert_info}}", row) == "{{sp_send_alert_info}}"


def test_families_used() -> None:
    """Lets the engine load trigger and member sources only when referenced."""
    assert families_used("{{member.x}} {{lead.y}} {{foo.z}}") == {
        TokenFamily.MEMBER,
        TokenFamily.LEAD,
    }


def test_render_without_row_for_person_tokens_is_refused() -> None:
    template = compile_template("{{lead.First Name}}", _ctx(), FIELDS_X)
    with pytest.raises(ValueError, match="person tokens"):
        template.render_one()
    with pytest.raises(ValueError, match="person tokens"):
        template.constant()
