"""The import_jobs table: a background import's state, progress and report, each write a short transaction.

States: queued (waiting for a worker thread or for the layer's import lock) -> running -> done (written,
or a dry run), refused (rows were refused, nothing written), failed (the file or the server failed) or
cancelled (nothing written). The process running a job beats `heartbeat_at`; a queued or running job whose
beat is older than the stale limit belonged to a process that died, and is marked failed when any process
starts or when the job is read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection, Interval, Uuid, any_, bindparam, func, insert, null, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from layers.tables import import_jobs

ACTIVE: Final = ("queued", "running")
FINISHED: Final = ("done", "refused", "failed", "cancelled")
_ORPHANED: Final = {
    "code": "server_stopped",
    "message_en": "the server stopped while the import ran; nothing was written, start it again",
    "message_id": "server berhenti saat impor berjalan; tidak ada yang ditulis, mulai lagi",
}


@dataclass(frozen=True, slots=True)
class ImportJob:
    """One row of import_jobs, as read."""

    id: uuid.UUID
    layer_id: str
    actor: str
    state: str
    dry_run: bool
    options: dict[str, Any]
    rows_total: int | None
    rows_done: int
    report: dict[str, Any] | None
    error: dict[str, Any] | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime

    @property
    def percent(self) -> float | None:
        """Return how far the job is, 0 to 100 (None before the file was read)."""
        if self.state == "done":
            return 100.0
        if not self.rows_total:
            return None
        return round(100.0 * min(self.rows_done, self.rows_total) / self.rows_total, 1)


def create_job(
    conn: Connection, job_id: uuid.UUID, layer_id: str, actor: str, dry_run: bool, options: dict[str, Any]
) -> None:
    """Record a new queued job."""
    values = {"id": job_id, "layer_id": layer_id, "actor": actor, "dry_run": dry_run, "options": options}
    conn.execute(insert(import_jobs).values(values))


def get_job(conn: Connection, job_id: uuid.UUID) -> ImportJob | None:
    """Return a job, or None."""
    row = conn.execute(select(import_jobs).where(import_jobs.c.id == job_id)).mappings().one_or_none()
    return None if row is None else ImportJob(**row)


def mark_running(conn: Connection, job_id: uuid.UUID) -> None:
    """Record that the job holds its layer and has started."""
    stmt = (
        update(import_jobs)
        .where(import_jobs.c.id == job_id, import_jobs.c.state == "queued")
        .values(state="running", started_at=func.now(), heartbeat_at=func.now())
    )
    conn.execute(stmt)


def record_progress(conn: Connection, job_id: uuid.UUID, done: int, total: int) -> bool:
    """Record how many rows are done; return whether someone asked to cancel the job."""
    stmt = (
        update(import_jobs)
        .where(import_jobs.c.id == job_id)
        .values(rows_done=done, rows_total=total, heartbeat_at=func.now())
        .returning(import_jobs.c.cancel_requested)
    )
    return bool(conn.execute(stmt).scalar_one_or_none())


def heartbeat(conn: Connection, job_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Beat the heart of these jobs (all run by this process); return the ones asked to cancel."""
    wanted = bindparam("ids", job_ids, type_=ARRAY(Uuid()))
    stmt = (
        update(import_jobs)
        .where(import_jobs.c.id == any_(wanted), import_jobs.c.state.in_(ACTIVE))
        .values(heartbeat_at=func.now())
        .returning(import_jobs.c.id, import_jobs.c.cancel_requested)
    )
    return {row.id for row in conn.execute(stmt) if row.cancel_requested}


def finish(
    conn: Connection,
    job_id: uuid.UUID,
    state: str,
    *,
    report: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> None:
    """Record how a job ended (done, refused, failed or cancelled), with its report or error."""
    if state not in FINISHED:
        raise ValueError(state)
    values: dict[str, Any] = {
        "state": state,
        "finished_at": func.now(),
        "report": null() if report is None else report,
        "error": null() if error is None else error,
    }
    if report is not None:
        values["rows_done"] = report.get("rows", 0)
        values["rows_total"] = report.get("rows", 0)
    stmt = update(import_jobs).where(import_jobs.c.id == job_id, import_jobs.c.state.in_(ACTIVE))
    conn.execute(stmt.values(values))


def request_cancel(conn: Connection, job_id: uuid.UUID) -> bool:
    """Ask a queued or running job to stop; return False when it has already finished."""
    stmt = (
        update(import_jobs)
        .where(import_jobs.c.id == job_id, import_jobs.c.state.in_(ACTIVE))
        .values(cancel_requested=True)
        .returning(import_jobs.c.id)
    )
    return conn.execute(stmt).first() is not None


def fail_orphans(conn: Connection, stale_after: timedelta, job_id: uuid.UUID | None = None) -> int:
    """Mark failed the queued or running jobs (or just one) whose process stopped beating; return how many."""
    limit = func.now() - bindparam("stale", stale_after, type_=Interval())
    where = [import_jobs.c.state.in_(ACTIVE), import_jobs.c.heartbeat_at < limit]
    if job_id is not None:
        where.append(import_jobs.c.id == job_id)
    stmt = update(import_jobs).where(*where).values(state="failed", finished_at=func.now(), error=_ORPHANED)
    return int(conn.execute(stmt).rowcount)
