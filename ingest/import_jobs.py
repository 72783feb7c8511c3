"""Background imports: each large upload becomes a job, run on a thread of the API process.

The upload is spooled (bounded) into the app's data folder under the job's id, and a worker thread imports
it through the same `import_stream` as a synchronous import, in a transaction of its own connection.
Progress, the start and the end are recorded in import_jobs, each in its own short transaction, so a
client polling the job is never held up by the import. A committed import records its end in the import's
own transaction, so a job is `done` exactly when its rows are there. A heartbeat thread keeps the jobs of
this process alive in the table and brings cancellations asked of any process to the thread running the job.
"""

from __future__ import annotations

import logging
import math
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO, Final

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from ingest.import_formats import choose_format, copy_bounded
from ingest.importer import (
    Control,
    ImportCancelled,
    ImportOptions,
    ImportReport,
    ImportSettings,
    import_stream,
)
from layers.access.policy import Principal
from layers.editing import import_jobs as jobs
from layers.errors import KendaliError

log = logging.getLogger(__name__)

_INTERNAL: Final = {
    "code": "import_failed",
    "message_en": "the import failed on the server; nothing was written",
    "message_id": "impor gagal di server; tidak ada yang ditulis",
}
_STOPPED: Final = {
    "code": "server_stopped",
    "message_en": "the server stopped before the import finished; nothing was written, start it again",
    "message_id": "server berhenti sebelum impor selesai; tidak ada yang ditulis, mulai lagi",
}


@dataclass(slots=True)
class _Job:
    id: uuid.UUID
    principal: Principal
    layer_id: str
    path: Path
    options: ImportOptions
    cancel: threading.Event = field(default_factory=threading.Event)


def _error(exc: KendaliError) -> dict[str, Any]:
    return {"code": exc.code, "message_en": exc.message("en"), "message_id": exc.message("id")}


class ImportJobs:
    """The import jobs of one API process: submit, cancel, and run them on a few threads."""

    def __init__(self, engine: Engine, settings: ImportSettings, spool: Path) -> None:
        self._engine = engine
        self._settings = settings
        self._spool = spool
        self._jobs: dict[uuid.UUID, _Job] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._beat: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Fail the jobs of processes that died, clear their spooled files, start the heartbeat."""
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(self._settings.max_jobs, thread_name_prefix="kendali-import")
        self._beat = threading.Thread(target=self._beat_hearts, name="kendali-import-beat", daemon=True)
        self._beat.start()
        self._spool.mkdir(parents=True, exist_ok=True)
        try:
            with self._engine.begin() as conn:
                failed = jobs.fail_orphans(conn, timedelta(seconds=self._settings.job_stale_s))
            self._clear_spool()
        except DBAPIError:  # no database yet: the sweep runs again whenever a job is read
            log.warning("import jobs: the database is not reachable; stale jobs not swept")
            return
        if failed:
            log.warning("import jobs: %d left by a stopped process marked failed", failed)

    def stop(self) -> None:
        """Stop every job of this process (nothing they did is kept) and wait for the threads."""
        self._stopping.set()
        with self._lock:
            running = list(self._jobs.values())
        for job in running:
            job.cancel.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            left = list(self._jobs.values())
        for job in left:  # never started: the pool dropped them
            self._end(job, "failed", error=_STOPPED)
            shutil.rmtree(job.path.parent, ignore_errors=True)
        if self._beat is not None:
            self._beat.join(timeout=self._settings.job_heartbeat_s + 5)

    def _clear_spool(self) -> None:
        for folder in self._spool.iterdir():
            try:
                job_id = uuid.UUID(folder.name)
            except ValueError:
                continue
            with self._engine.connect() as conn:
                job = jobs.get_job(conn, job_id)
            # With no row yet, another worker process may be spooling it right now: only old ones go.
            try:
                fresh = time.time() - folder.stat().st_mtime < self._settings.job_stale_s
            except FileNotFoundError:  # finished and removed by its own process meanwhile
                continue
            if (job is None and not fresh) or (job is not None and job.state in jobs.FINISHED):
                shutil.rmtree(folder, ignore_errors=True)

    # --- what the API calls ---------------------------------------------------------------------------

    def submit(
        self,
        principal: Principal,
        layer_id: str,
        source: BinaryIO,
        filename: str | None,
        options: ImportOptions,
    ) -> uuid.UUID:
        """Spool an upload and queue its import; return the job id (a file of no allowed format raises)."""
        if self._pool is None or self._stopping.is_set():
            raise RuntimeError("the import job runner is not running")
        head = source.read(64)
        fmt = choose_format(filename, head)
        job_id = uuid.uuid4()
        folder = self._spool / str(job_id)
        folder.mkdir(parents=True)
        path = folder / fmt.staged_as
        try:
            copy_bounded(source, path, self._settings.max_upload_bytes, head)
            recorded = asdict(options) | {"format": fmt.name}
            with self._engine.begin() as conn:
                jobs.create_job(conn, job_id, layer_id, principal.name, options.dry_run, recorded)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        job = _Job(job_id, principal, layer_id, path, options)
        with self._lock:
            self._jobs[job_id] = job
        self._pool.submit(self._run, job)
        return job_id

    def cancel(self, job_id: uuid.UUID) -> None:
        """Stop a job of this process at once (other processes learn it from the table)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            job.cancel.set()

    # --- running a job --------------------------------------------------------------------------------

    def _progress(self, job: _Job, done: int, total: int) -> None:
        with self._engine.begin() as conn:
            if jobs.record_progress(conn, job.id, done, total):
                job.cancel.set()

    def _started(self, job: _Job) -> None:
        with self._engine.begin() as conn:
            jobs.mark_running(conn, job.id)

    def _run(self, job: _Job) -> None:
        control = Control(
            progress=lambda done, total: self._progress(job, done, total),
            cancelled=job.cancel.is_set,
            started=lambda: self._started(job),
            lock_wait_s=math.inf,
        )
        try:
            self._import(job, control)
        except ImportCancelled:
            stopped = self._stopping.is_set()
            self._end(job, "failed" if stopped else "cancelled", error=_STOPPED if stopped else None)
        except KendaliError as exc:
            self._end(job, "failed", error=_error(exc))
        except Exception:
            log.exception("import job %s failed", job.id)
            self._end(job, "failed", error=_INTERNAL)
        finally:
            shutil.rmtree(job.path.parent, ignore_errors=True)

    def _import(self, job: _Job, control: Control) -> None:
        with self._engine.connect() as conn, job.path.open("rb") as source:
            with conn.begin() as transaction:
                report = import_stream(
                    conn,
                    job.principal,
                    job.layer_id,
                    source,
                    job.path.name,
                    job.options,
                    self._settings,
                    control,
                )
                if control.cancelled is not None and control.cancelled():
                    raise ImportCancelled
                if report.committed:  # the job ends in the same transaction as the rows it wrote
                    jobs.finish(conn, job.id, "done", report=report.as_record())
                    with self._lock:
                        self._jobs.pop(job.id, None)
                    return
                transaction.rollback()
        state = "done" if job.options.dry_run else "refused"
        self._end(job, state, report=report)

    def _end(
        self,
        job: _Job,
        state: str,
        *,
        report: ImportReport | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)
        record = None if report is None else report.as_record()
        try:
            with self._engine.begin() as conn:
                jobs.finish(conn, job.id, state, report=record, error=error)
        except Exception:  # the database is gone: the stale sweep will fail the job later
            log.exception("import job %s: could not record its end (%s)", job.id, state)

    def _beat_hearts(self) -> None:
        while not self._stopping.wait(self._settings.job_heartbeat_s):
            with self._lock:
                ids = list(self._jobs)
            if not ids:
                continue
            try:
                with self._engine.begin() as conn:
                    asked = jobs.heartbeat(conn, ids)
            except Exception:
                log.exception("import jobs: heartbeat failed")
                continue
            for job_id in asked:
                self.cancel(job_id)
