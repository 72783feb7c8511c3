"""schemathesis against a running kendali, anonymous and as a BPPRD analyst: no server error, and no answer
that contradicts the OpenAPI document the caller was given.

This is what `schemathesis run URL/api` does for a new user (its engine: examples, coverage and fuzzing
phases), driven from Python so that every failure is listed with the request that reproduces it. The
document the caller reads names their collections as the enum of `{collection_id}`, so the generated
requests use realistic ids. Only GET operations run: writes would change the database other tests read.
/events is left out because it streams until the client goes away. The run is bounded: few examples per
operation, always the same ones, no shrinking, a request timeout, and a time budget it must finish within.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis import Case, GenerationMode, HookContext, Response
from schemathesis.core.failures import Failure
from schemathesis.engine import StopReason, events, from_schema
from sqlalchemy import Engine

from tests.api._api_callers import CALLERS, caller_headers

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
COVERED = (
    "/collections/{collection_id}/items",
    "/collections/{collection_id}/items/{feature_id}",
    "/collections/{collection_id}/queryables",
    "/collections/{collection_id}/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}",
    "/export",
)
# Per caller; a run takes 20-90 s on 2 shared cores (signed in, each query layer has its own path).
# schemathesis' own `max-time` keeps fuzzing until the time is up, so the budget is kept here instead:
# past it the run is stopped and the test fails.
BUDGET_S = 240
# uvicorn refuses a request line longer than 64 KiB itself, with a plain-text 400, before kendali sees it.
MAX_REQUEST_URL = 65_535


def _config(headers: dict[str, str]) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "generation": {"max-examples": 10, "deterministic": True, "database": "none", "no-shrink": True},
            "phases": {"stateful": {"enabled": False}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "headers": headers,
            "request-timeout": 30,
            "workers": 1,
        }
    )


def _not_refused_by_uvicorn(
    context: HookContext, failure: Failure, case: Case[Any], response: Response
) -> bool:
    """Keep every failure except uvicorn's own refusal of an over-long request that was invalid anyway."""
    invalid = case.meta is not None and case.meta.generation.mode is GenerationMode.NEGATIVE
    too_long = len(response.request.url or "") > MAX_REQUEST_URL
    return not (invalid and too_long and response.content == b"Invalid HTTP request received.")


@dataclass
class Outcome:
    """What one schemathesis run found."""

    tested: set[str] = field(default_factory=set)
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stop: StopReason | None = None

    def record(self, event: events.EngineEvent) -> None:
        """Keep the operations run, the first failure of each kind with its request, errors, the end."""
        if isinstance(event, events.ScenarioFinished) and event.recorder.cases:
            self.tested.add(event.recorder.label)
            for check in (c for checks in event.recorder.checks.values() for c in checks):
                if (info := check.failure_info) is not None:
                    key = (event.recorder.label, check.name, info.failure.title)
                    self.failures.setdefault(
                        key, f"{info.failure.message[:600]}\n    {info.code_sample[:600]}"
                    )
        elif isinstance(event, events.NonFatalError):
            self.errors.append(f"{event.label}: {event.info.title}: {event.info.message}"[:1000])
        elif isinstance(event, events.EngineFinished):
            self.stop = event.stop_reason

    def listed_failures(self) -> list[str]:
        """Return the failures, one paragraph each: operation, check, what is wrong, how to reproduce."""
        return [
            f"{op} — {check}: {title}\n    {text}"
            for (op, check, title), text in sorted(self.failures.items())
        ]


@pytest.fixture(scope="module", params=sorted(CALLERS))
def caller(request: pytest.FixtureRequest, engine: Engine) -> Iterator[tuple[str, dict[str, str]]]:
    """A caller's name and request headers, the key committed for the module."""
    with caller_headers(engine, request.param) as headers:
        yield request.param, headers


def _run(server_url: str, headers: dict[str, str]) -> Outcome:
    """Run schemathesis on the GET operations of the caller's document, within the time budget."""
    document = schemathesis.openapi.from_url(f"{server_url}/api", config=_config(headers), headers=headers)
    schema = document.include(method="GET").exclude(path="/events")
    schema.hook("filter_failure")(_not_refused_by_uvicorn)
    outcome, deadline = Outcome(), time.monotonic() + BUDGET_S
    stream = from_schema(schema).execute()
    for event in stream:
        if time.monotonic() > deadline:
            stream.stop()
        outcome.record(event)
    return outcome


def test_api_answers_as_its_document_says(server_url: str, caller: tuple[str, dict[str, str]]) -> None:
    outcome = _run(server_url, caller[1])
    failures = outcome.listed_failures()
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)
    assert not outcome.errors, "\n".join(outcome.errors)
    assert outcome.stop == StopReason.COMPLETED, outcome.stop
    missing = [path for path in COVERED if f"GET {path}" not in outcome.tested]
    assert not missing, sorted(outcome.tested)
