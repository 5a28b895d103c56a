"""`create_app`: the FastAPI application over one kampanj database (API-1, API-5)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from kampanj import __version__
from kampanj.api import identity
from kampanj.api.context import ApiContext
from kampanj.api.edge import EdgeMiddleware
from kampanj.api.envelope import (
    INVALID_REQUEST,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    UNAVAILABLE,
    ApiError,
    failure_body,
)
from kampanj.api.limits import CallLimiter
from kampanj.api.program_clone import CloneBudget
from kampanj.api.routes import (
    activities,
    assets,
    campaigns,
    describe,
    events,
    leads,
    lists,
    native,
    native_graph,
    programs,
    smart_campaigns,
    static_lists,
    tokens,
)
from kampanj.api.settings import ApiSettings
from kampanj.clock import Clock
from kampanj.errors import ConfigurationError, DefinitionError, KampanjError, StorageError
from kampanj.queue.notify import Wake
from kampanj.store.database import Database

log = logging.getLogger("kampanj.api")


def create_app(
    database: Database,
    clock: Clock,
    settings: ApiSettings | None = None,
    *,
    notifier: Wake | None = None,
) -> FastAPI:
    """The REST API over ``database``; every time-dependent answer reads ``clock``. With
    ``notifier`` (held, and closed, by the caller) writes that record activities or requests
    wake the workers: `kampanj worker` processes on its queue, or a worker thread of this
    process (queue/notify.py)."""
    settings = settings or ApiSettings()
    app = FastAPI(
        title="kampanj REST API",
        version=__version__,
        description="Marketo-compatible Lead Database and Asset APIs over a kampanj account.",
    )
    app.state.kampanj = ApiContext(
        database=database,
        clock=clock,
        settings=settings,
        limiter=CallLimiter(settings, clock),
        clones=CloneBudget(settings, clock),
        notifier=notifier,
    )
    app.add_middleware(EdgeMiddleware, settings=settings)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(KampanjError, _core_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(identity.router)
    for module in (
        leads,
        describe,
        lists,
        activities,
        events,
        programs,
        campaigns,
        assets,
        smart_campaigns,
        static_lists,
        tokens,
        native,
        native_graph,
    ):
        app.include_router(module.router)
    return app


async def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return JSONResponse(failure_body(error.code, error.message))


async def _core_error(_request: Request, error: Exception) -> JSONResponse:
    """A core error a caller can fix, with its Marketo code (errors.py); never a traceback."""
    assert isinstance(error, KampanjError)
    if isinstance(error, StorageError):
        raise error  # the database refused something: a system error (611)
    if isinstance(error, ConfigurationError):
        log.error("database unavailable: %s", error)
        return JSONResponse(failure_body(UNAVAILABLE, "Temporarily unavailable"))
    message = str(error)
    if isinstance(error, DefinitionError):
        shown = [f"{f.code}: {f.message}" for f in error.findings if f.is_error][:3]
        message = "; ".join([message, *shown])
    return JSONResponse(failure_body(error.marketo_code, message))


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if error.status_code == 405:
        return JSONResponse(
            failure_body(METHOD_NOT_ALLOWED, f"Method {request.method} is not allowed here")
        )
    if error.status_code == 404:
        return JSONResponse(failure_body(NOT_FOUND, f"Resource not found: {request.url.path}"))
    return JSONResponse(failure_body(INVALID_REQUEST, str(error.detail)))


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()) if p not in ('query', 'path'))}: "
        f"{e.get('msg', 'invalid')}"
        for e in error.errors()
    )
    return JSONResponse(failure_body(INVALID_REQUEST, f"Invalid request: {problems}"))
