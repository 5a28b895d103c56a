"""Who is calling: access tokens (API-4), roles (API-8), workspace scope (WS-5), limits (API-9)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from kampanj.api.context import ApiContext, api_context
from kampanj.api.envelope import ACCESS_DENIED, TOKEN_EXPIRED, TOKEN_INVALID, ApiError
from kampanj.api.users import ApiUser, Role, find_token
from kampanj.errors import UserError

_BEARER = "bearer "


@dataclass(frozen=True, kw_only=True, slots=True)
class Caller:
    """The authenticated API user of one call."""

    user: ApiUser
    """Who is calling."""
    context: ApiContext
    """The app's shared context."""

    def check_workspace(self, workspace_name: str, what: str) -> None:
        """Refuse (603) an asset outside the caller's workspaces (WS-5)."""
        if not self.user.reaches(workspace_name):
            raise ApiError(
                ACCESS_DENIED,
                f"Access denied: {what} is in workspace {workspace_name!r}, which API user "
                f"{self.user.name!r} may not reach",
            )


def bearer_token(request: Request) -> str | None:
    """The token from ``Authorization: Bearer`` or else ``access_token`` (API-4)."""
    header = request.headers.get("authorization", "")
    if header[: len(_BEARER)].lower() == _BEARER:
        return header[len(_BEARER) :].strip() or None
    return request.query_params.get("access_token") or None


def _authenticate(request: Request, context: ApiContext) -> ApiUser:
    token = bearer_token(request)
    if token is None:
        raise ApiError(TOKEN_INVALID, "Access token invalid")
    with context.database.read() as connection:
        found = find_token(connection, token)
    if found is None:
        raise ApiError(TOKEN_INVALID, "Access token invalid")
    access, user = found
    if access.expires_at <= context.clock.now():
        raise ApiError(TOKEN_EXPIRED, "Access token expired")
    return user


def require(role: Role) -> Callable[[Request], Iterator[Caller]]:
    """A dependency admitting callers with at least ``role``, counted against API-9."""

    def dependency(request: Request) -> Iterator[Caller]:
        context = api_context(request)
        user = _authenticate(request, context)  # 601 / 602 are never counted
        admission = context.limiter.admit()
        counted = True
        try:
            if not user.role.allows(role):
                raise ApiError(
                    ACCESS_DENIED,
                    f"Access denied: API user {user.name!r} has role {user.role.value}; "
                    f"this call needs {role.value}",
                )
            yield Caller(user=user, context=context)
        except (ApiError, UserError):
            raise  # answered with a code; the call counts
        except Exception:
            counted = False  # 611: a system error is not the caller's call (API-9)
            raise
        finally:
            context.limiter.finish(admission, counted=counted)

    return dependency


Reader = Annotated[Caller, Depends(require(Role.READ_ONLY))]
Writer = Annotated[Caller, Depends(require(Role.READ_WRITE))]
Executor = Annotated[Caller, Depends(require(Role.EXECUTE_CAMPAIGN))]
