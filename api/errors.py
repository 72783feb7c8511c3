"""Problem bodies (RFC 9457): one table from domain errors to HTTP status, and the handlers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from layers import errors as e
from layers.db import translate

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

STATUS: dict[type[e.KendaliError], int] = {
    e.LayerNotFound: 404,
    e.FeatureNotFound: 404,
    e.InvalidInput: 400,
    e.OutsideCrsArea: 400,
    e.Unauthorized: 401,
    e.Forbidden: 403,
    e.Conflict: 409,
    e.PreconditionFailed: 412,
    e.QueryTimeout: 503,
    e.DatabaseUnavailable: 503,
}

TITLES = {
    400: ("Permintaan tidak sah", "Bad request"),
    401: ("Perlu masuk", "Authentication required"),
    403: ("Tidak diizinkan", "Forbidden"),
    404: ("Tidak ditemukan", "Not found"),
    405: ("Metode tidak diizinkan", "Method not allowed"),
    409: ("Konflik", "Conflict"),
    412: ("Versi sudah berubah", "Precondition failed"),
    413: ("Isi permintaan terlalu besar", "Content too large"),
    414: ("Alamat terlalu panjang", "URI too long"),
    415: ("Jenis isi tidak didukung", "Unsupported media type"),
    431: ("Kepala permintaan terlalu besar", "Request header fields too large"),
    422: ("Permintaan tidak sah", "Unprocessable content"),
    500: ("Kesalahan server", "Internal server error"),
    503: ("Layanan tidak tersedia", "Service unavailable"),
}


def request_lang(request: Request) -> str:
    """Return "en" or "id" from ?lang= or Accept-Language (Indonesian by default)."""
    lang = request.query_params.get("lang")
    if lang in ("id", "en"):
        return lang
    return lang_of(request.headers.get("accept-language", ""))


def lang_of(accept_language: str) -> str:
    """Return "en" when an Accept-Language value asks for English first, else "id"."""
    return "en" if accept_language.strip().lower().startswith("en") else "id"


def problem_body(status: int, detail: str, lang: str, code: str, **extra: Any) -> dict[str, Any]:
    """Return a problem document (RFC 9457) with its title in `lang`."""
    title_id, title_en = TITLES.get(status, ("Kesalahan", "Error"))
    return {
        "type": f"urn:kendali:problem:{code}",
        "title": title_en if lang == "en" else title_id,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def problem(status: int, detail: str, lang: str, code: str, **extra: Any) -> JSONResponse:
    """Return a problem+json response with a bilingual-aware title."""
    body = problem_body(status, detail, lang, code, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _status_for(exc: e.KendaliError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, e.KendaliError)  # noqa: S101 - registered for this class only
    status = _status_for(exc)
    lang = request_lang(request)
    headers = {"WWW-Authenticate": 'Bearer realm="kendali"'} if status == 401 else None
    response = problem(status, exc.message(lang), lang, exc.code, **_safe(exc.details))
    if headers:
        response.headers.update(headers)
    return response


def _safe(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if isinstance(v, str | int | float | bool | list | dict)}


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    lang = request_lang(request)
    errors = [
        {
            "field": ".".join(str(p) for p in err.get("loc", ())[1:]) or str(err.get("loc", "")),
            "message": err.get("msg", ""),
        }
        for err in exc.errors()
    ]
    listed = "; ".join(f"{x['field']}: {x['message']}" for x in errors)
    detail = f"invalid request: {listed}" if lang == "en" else f"permintaan tidak sah: {listed}"
    extra: dict[str, Any] = {"errors": errors}
    first: tuple[Any, ...] = tuple(exc.errors()[0].get("loc", ())) if exc.errors() else ()
    if len(first) == 2 and first[0] in ("query", "path", "header"):
        extra["parameter"] = str(first[1])
    return problem(400, detail, lang, "invalid_request", **extra)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    lang = request_lang(request)
    title_id, title_en = TITLES.get(exc.status_code, ("Kesalahan", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) else (title_en if lang == "en" else title_id)
    return problem(exc.status_code, detail, lang, f"http_{exc.status_code}")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    lang = request_lang(request)
    detail = "an unexpected error occurred" if lang == "en" else "terjadi kesalahan tak terduga"
    return problem(500, detail, lang, "internal")


async def _database(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)  # noqa: S101
    domain = translate(exc)
    if isinstance(domain, e.KendaliError):
        return await _domain(request, domain)
    return await _unexpected(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem-body handlers on `app`."""
    app.add_exception_handler(e.KendaliError, _domain)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
