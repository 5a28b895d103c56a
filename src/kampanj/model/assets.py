"""Emails and webhooks (MAIL-1, HOOK-1)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kampanj.model.tree import FolderPath


@dataclass(frozen=True, kw_only=True, slots=True)
class Email:
    """An email asset; subject, sender and bodies may hold tokens (MAIL-1)."""

    workspace: str
    """Owning workspace."""
    folder: FolderPath
    """Containing folder or program."""
    name: str
    """Name, unique in the workspace (case-insensitive)."""
    subject: str
    """Subject line."""
    from_name: str = ""
    """Sender display name."""
    from_email: str = ""
    """Sender address."""
    reply_to: str = ""
    """Reply-to address."""
    html: str = ""
    """HTML body."""
    text: str = ""
    """Plain-text body."""
    operational: bool = False
    """Operational emails ignore unsubscribes and limits (MAIL-3)."""
    approved: bool = True
    """Only approved emails can be sent (MAIL-1)."""
    key: str | None = None
    """Stable identity chosen by the author."""
    id: int | None = None
    """Storage id once written."""


class HttpMethod(StrEnum):
    """Request types of a webhook (HOOK-1)."""

    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"


class TokenEncoding(StrEnum):
    """How token values are encoded into a webhook request (HOOK-3)."""

    NONE = "None"
    FORM_URL = "Form/Url"
    JSON = "JSON"


class ResponseType(StrEnum):
    """Declared response format of a webhook (HOOK-6)."""

    NONE = "None"
    JSON = "JSON"
    XML = "XML"


@dataclass(frozen=True, kw_only=True, slots=True)
class ResponseMapping:
    """Copies one value of a webhook response into a person field (HOOK-6)."""

    response_attribute: str
    """Path into the response, e.g. ``orders[0].orderDate``."""
    field: str
    """Person field written."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Webhook:
    """An account-level webhook (HOOK-1)."""

    name: str
    """Name, unique in the account."""
    url: str
    """URL template; tokens allowed."""
    request_type: HttpMethod = HttpMethod.POST
    """HTTP method."""
    payload_template: str = ""
    """Body template; tokens allowed."""
    request_token_encoding: TokenEncoding = TokenEncoding.NONE
    """Encoding of token values in the request."""
    response_type: ResponseType = ResponseType.NONE
    """Format of the response body."""
    custom_headers: tuple[tuple[str, str], ...] = ()
    """Extra headers as (name, value) pairs; values may hold tokens."""
    response_mappings: tuple[ResponseMapping, ...] = ()
    """Response values copied into fields."""
    key: str | None = None
    """Stable identity chosen by the author."""
    id: int | None = None
    """Storage id once written."""
