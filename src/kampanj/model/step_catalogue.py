"""What each flow step takes and where it may run (FLOW-13..24, WAIT-2..6, TOK-13).

One ``StepSpec`` per ``StepType``: its parameters (canonical name, accepted aliases,
kind of value, whether tokens resolve in it) and the campaign kinds that may use it.
Loading uses it to canonicalise parameter names; validation uses it to check values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from kampanj.model.campaigns import StepType


class CampaignKind(StrEnum):
    """Campaign kinds of the FLOW-24 table."""

    BATCH = "batch"
    TRIGGER = "trigger"
    EXECUTABLE = "executable"


class ParamKind(StrEnum):
    """What a step parameter holds."""

    TEXT = "text"
    BOOLEAN = "boolean"
    INTEGER_TEXT = "integer or token"
    FIELD = "field"
    SCORE_FIELD = "score field"
    SCORE_CHANGE = "score change"  # FLOW-16 grammar
    STATIC_LIST = "static list"
    EMAIL = "email"
    PROGRAM = "program"
    PROGRAM_STATUS = "program status"
    CAMPAIGN = "campaign"
    CAMPAIGNS = "campaigns"
    WEBHOOK = "webhook"
    DURATION = "duration"  # WAIT-2
    DATE = "date"  # WAIT-5
    WEEKDAYS = "weekdays"  # WAIT-4
    TIME_OF_DAY = "time of day"  # WAIT-4
    CHOICE = "one of"

    @property
    def is_reference(self) -> bool:
        return self in _REFERENCES


_REFERENCES = frozenset(
    {
        ParamKind.FIELD,
        ParamKind.SCORE_FIELD,
        ParamKind.STATIC_LIST,
        ParamKind.EMAIL,
        ParamKind.PROGRAM,
        ParamKind.PROGRAM_STATUS,
        ParamKind.CAMPAIGN,
        ParamKind.CAMPAIGNS,
        ParamKind.WEBHOOK,
    }
)

THIS_PROGRAM = "this program"  # relative reference that follows clones (CMP-26)
THIS_CAMPAIGN = "this"  # Remove from Flow's "this campaign" (FLOW-18)


@dataclass(frozen=True, kw_only=True, slots=True)
class ParamSpec:
    """One parameter of a step."""

    name: str
    """Canonical name, e.g. ``newValue``."""
    kind: ParamKind
    """Kind of value."""
    aliases: tuple[str, ...] = ()
    """Other accepted spellings, e.g. the Marketo label ``New Value``."""
    required: bool = False
    """Every branch that acts (Default or choice) must have a value."""
    tokens: bool = False
    """Tokens resolve in this parameter (TOK-13); elsewhere ``{{…}}`` is literal."""
    choices: tuple[str, ...] = ()
    """Allowed values of a ``CHOICE`` parameter, canonical casing."""
    default: str | bool | None = None
    """Value when omitted."""

    def accepts(self, key: str) -> bool:
        """Whether ``key`` names this parameter (case- and space-insensitive)."""
        wanted = normalise_key(key)
        return wanted == normalise_key(self.name) or any(
            wanted == normalise_key(alias) for alias in self.aliases
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class StepSpec:
    """One flow step of FLOW-24."""

    type: StepType
    """The step."""
    params: tuple[ParamSpec, ...]
    """Its parameters."""
    allowed_in: frozenset[CampaignKind]
    """Campaign kinds that may use it."""
    choices_allowed: bool = True
    """Wait takes no choices (WAIT-1)."""
    shorthand: str | None = None
    """Parameter set by the scalar form ``- Add to List: MQLs``."""
    aliases: tuple[str, ...] = ()
    """Other accepted step names."""

    def param(self, key: str) -> ParamSpec | None:
        """The parameter ``key`` names, by canonical name or alias."""
        for spec in self.params:
            if spec.accepts(key):
                return spec
        return None


def normalise_key(key: str) -> str:
    """Case-, space- and underscore-insensitive spelling used to match names (GEN-7)."""
    return "".join(key.split()).replace("_", "").replace("-", "").casefold()


_ALL = frozenset(CampaignKind)
_P = ParamSpec
_K = ParamKind

STEP_CATALOGUE: Mapping[StepType, StepSpec] = {
    spec.type: spec
    for spec in (
        StepSpec(
            type=StepType.CHANGE_DATA_VALUE,
            params=(
                _P(name="attribute", kind=_K.FIELD, aliases=("Attribute", "field"), required=True),
                _P(
                    name="newValue",
                    kind=_K.TEXT,
                    aliases=("New Value", "value"),
                    required=True,
                    tokens=True,
                ),
            ),
            allowed_in=_ALL,
        ),
        StepSpec(
            type=StepType.CHANGE_SCORE,
            params=(
                _P(
                    name="scoreName",
                    kind=_K.SCORE_FIELD,
                    aliases=("Score Name", "score"),
                    required=True,
                ),
                _P(
                    name="change",
                    kind=_K.SCORE_CHANGE,
                    aliases=("Change",),
                    required=True,
                    tokens=True,
                ),
            ),
            allowed_in=_ALL,
        ),
        StepSpec(
            type=StepType.CHANGE_PROGRAM_STATUS,
            params=(
                _P(name="program", kind=_K.PROGRAM, aliases=("Program",), required=True),
                _P(
                    name="newStatus",
                    kind=_K.PROGRAM_STATUS,
                    aliases=("New Status", "status"),
                    required=True,
                ),
            ),
            allowed_in=_ALL,
            aliases=("Change Status in Progression",),
        ),
        StepSpec(
            type=StepType.CHANGE_PROGRAM_SUCCESS,
            params=(
                _P(name="program", kind=_K.PROGRAM, aliases=("Program",), default=THIS_PROGRAM),
                _P(
                    name="attribute",
                    kind=_K.CHOICE,
                    aliases=("Attribute",),
                    required=True,
                    choices=("Success", "Success Date"),
                ),
                _P(name="newValue", kind=_K.TEXT, aliases=("New Value", "value"), required=True),
            ),
            allowed_in=_ALL,
        ),
        StepSpec(
            type=StepType.ADD_TO_LIST,
            params=(_P(name="list", kind=_K.STATIC_LIST, aliases=("List",), required=True),),
            allowed_in=_ALL,
            shorthand="list",
        ),
        StepSpec(
            type=StepType.REMOVE_FROM_LIST,
            params=(_P(name="list", kind=_K.STATIC_LIST, aliases=("List",), required=True),),
            allowed_in=_ALL,
            shorthand="list",
        ),
        StepSpec(
            type=StepType.SEND_EMAIL,
            params=(_P(name="email", kind=_K.EMAIL, aliases=("Email",), required=True),),
            allowed_in=_ALL,
            shorthand="email",
        ),
        StepSpec(
            type=StepType.SEND_ALERT,
            params=(
                _P(name="email", kind=_K.EMAIL, aliases=("Email",), required=True),
                _P(
                    name="sendTo",
                    kind=_K.CHOICE,
                    aliases=("Send To",),
                    choices=("None", "Lead Owner"),
                    default="None",
                ),
                _P(name="toOtherEmails", kind=_K.TEXT, aliases=("To Other Emails",), tokens=True),
            ),
            allowed_in=_ALL,
        ),
        StepSpec(
            type=StepType.INTERESTING_MOMENT,
            params=(
                _P(
                    name="type",
                    kind=_K.CHOICE,
                    aliases=("Type",),
                    required=True,
                    choices=("Web", "Email", "Milestone"),
                ),
                _P(
                    name="description",
                    kind=_K.TEXT,
                    aliases=("Description",),
                    required=True,
                    tokens=True,
                ),
            ),
            allowed_in=_ALL,
        ),
        StepSpec(
            type=StepType.WAIT,
            params=(
                _P(name="duration", kind=_K.DURATION, aliases=("Wait Duration", "for")),
                _P(name="endOnWeekdays", kind=_K.WEEKDAYS, aliases=("End On Weekdays",)),
                _P(name="endOnAt", kind=_K.TIME_OF_DAY, aliases=("End On At",)),
                _P(name="date", kind=_K.DATE, aliases=("Date", "until")),
                _P(name="token", kind=_K.TEXT, aliases=("Date Token",), tokens=True),
                _P(name="anniversary", kind=_K.BOOLEAN, aliases=("Anniversary",), default=False),
                _P(
                    name="offsetDays",
                    kind=_K.INTEGER_TEXT,
                    aliases=("Offset Days", "offset"),
                    tokens=True,
                ),
            ),
            allowed_in=frozenset({CampaignKind.BATCH, CampaignKind.TRIGGER}),
            choices_allowed=False,
            shorthand="duration",
        ),
        StepSpec(
            type=StepType.CALL_WEBHOOK,
            params=(_P(name="webhook", kind=_K.WEBHOOK, aliases=("Webhook",), required=True),),
            allowed_in=frozenset({CampaignKind.TRIGGER}),
            shorthand="webhook",
        ),
        StepSpec(
            type=StepType.REQUEST_CAMPAIGN,
            params=(
                _P(
                    name="campaign",
                    kind=_K.CAMPAIGN,
                    aliases=("Campaign", "Campaigns"),
                    required=True,
                ),
            ),
            allowed_in=_ALL,
            shorthand="campaign",
        ),
        StepSpec(
            type=StepType.EXECUTE_CAMPAIGN,
            params=(
                _P(name="campaign", kind=_K.CAMPAIGN, aliases=("Campaign",), required=True),
                _P(
                    name="useParentContext",
                    kind=_K.BOOLEAN,
                    aliases=("Use Parent Campaign Token Context", "Use Parent Token Context"),
                    default=False,
                ),
            ),
            allowed_in=_ALL,
            shorthand="campaign",
        ),
        StepSpec(
            type=StepType.REMOVE_FROM_FLOW,
            params=(
                _P(
                    name="campaigns",
                    kind=_K.CAMPAIGNS,
                    aliases=("Campaigns", "Campaign", "Remove from Campaigns"),
                    required=True,
                ),
            ),
            allowed_in=_ALL,
            shorthand="campaigns",
        ),
        StepSpec(
            type=StepType.DELETE_PERSON,
            params=(),
            allowed_in=_ALL,
            aliases=("Delete Lead",),
        ),
    )
}

_BY_NAME: dict[str, StepSpec] = {}
for _spec in STEP_CATALOGUE.values():
    for _name in (_spec.type.value, *_spec.aliases):
        _BY_NAME[normalise_key(_name)] = _spec


def step_spec(name: str) -> StepSpec | None:
    """The step called ``name`` (case-insensitive, GEN-7), or None."""
    return _BY_NAME.get(normalise_key(name))


def step_names() -> tuple[str, ...]:
    """Canonical names of every supported step, in FLOW-24 order."""
    return tuple(spec.type.value for spec in STEP_CATALOGUE.values())
