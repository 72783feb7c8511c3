"""File import (`kendali import`, POST /collections/{layer}/import): read, check, upsert, all or nothing.

The whole import is one savepoint in the caller's transaction. By default a single refused row means
nothing is written and the report says why for every row; `skip_invalid` keeps the good rows instead;
`dry_run` runs every check and every write, then rolls them all back.

One import per layer runs at a time: each takes a transaction-level advisory lock on its layer before it
reads the file (a second one waits for it, cancellably, up to `lock_wait_s`). Nothing else takes that lock,
so reads, other writes and imports into other layers are never held up by an import.
"""

from __future__ import annotations

import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Connection, func, select

from ingest import import_rows
from ingest.import_formats import Format, ImportFileError, Limits, RawTable, read_table, stage
from layers.access.policy import Principal
from layers.catalog.spec import LayerSpec
from layers.editing.edits import editable_layer
from layers.editing.upsert import (
    Cancelled,
    Candidate,
    ImportCancelled,
    Progress,
    Rejection,
    upsert_features,
)
from layers.errors import Conflict

MiB = 1024 * 1024
LOCK_CLASS = 0x4B44  # the first key of every layer's import lock ("KD"); the second is the layer id's crc32
LOCK_POLL_S = 0.2

__all__ = [
    "Control",
    "ImportCancelled",
    "ImportOptions",
    "ImportReport",
    "ImportSettings",
    "LayerBusy",
    "import_path",
    "import_stream",
    "report_json",
]


class ImportSettings(BaseSettings):
    """Bounds on imports (KENDALI_IMPORT_*)."""

    model_config = SettingsConfigDict(
        env_prefix="KENDALI_IMPORT_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    max_upload_bytes: int = Field(10 * MiB, ge=1024)
    max_unzipped_bytes: int = Field(100 * MiB, ge=1024)
    max_zip_entries: int = Field(32, ge=1, le=10_000)
    max_rows: int = Field(100_000, ge=1, le=1_000_000)
    lock_wait_s: float = Field(30.0, ge=0, le=3_600)  # how long an import waits for another into its layer
    background_bytes: int = Field(1 * MiB, ge=0)  # uploads larger than this run as jobs unless told otherwise
    max_jobs: int = Field(2, ge=1, le=32)  # import jobs running at once in one API process
    job_heartbeat_s: float = Field(5.0, ge=0.1, le=600)
    job_stale_s: float = Field(60.0, ge=1, le=86_400)  # a job silent for longer is failed (its process died)

    def limits(self) -> Limits:
        """Return the limits the readers enforce."""
        return Limits(self.max_upload_bytes, self.max_unzipped_bytes, self.max_zip_entries)


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How to read and write one import."""

    dry_run: bool = False
    skip_invalid: bool = False
    crs: str | None = None  # EPSG:n; CSV is EPSG:4326 unless given; other files only when they declare none
    id_column: str | None = None
    name_column: str | None = None
    source_layer: str | None = None  # which layer of a multi-layer file (GeoPackage)


@dataclass(frozen=True, slots=True)
class Control:
    """How a caller follows and stops an import: progress, a cancel flag, and when it got its layer."""

    progress: Progress | None = None
    cancelled: Cancelled | None = None
    started: Callable[[], None] | None = None  # called once the layer's import lock is held
    lock_wait_s: float | None = None  # None: ImportSettings.lock_wait_s


class LayerBusy(Conflict):
    """Another import into the same layer is running."""

    code = "import_running"

    def __init__(self, layer_id: str) -> None:
        super().__init__(
            f"another import into {layer_id!r} is running; try again when it has finished",
            f"impor lain ke {layer_id!r} sedang berjalan; coba lagi setelah selesai",
            layer=layer_id,
        )


@dataclass(slots=True)
class ImportReport:
    """What an import did, or (dry run, or refused rows) would have done."""

    layer: str
    format: str
    crs: str
    crs_assumed: bool
    rows: int
    dry_run: bool
    committed: bool = False
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def as_json(self, lang: str) -> dict[str, Any]:
        """Return the report as JSON, reasons in `lang`."""
        return {
            "layer": self.layer,
            "format": self.format,
            "crs": self.crs,
            "crs_assumed": self.crs_assumed,
            "dry_run": self.dry_run,
            "committed": self.committed,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejections),
            "rejections": [
                {"row": r.row, "external_id": r.external_id, "reason": r.reason(lang)}
                for r in self.rejections
            ],
            "ignored_columns": self.ignored_columns,
        }

    def as_record(self) -> dict[str, Any]:
        """Return the report as a job keeps it: as_json, with each reason in both languages."""
        record = self.as_json("en")
        record["rejections"] = [
            {"row": r.row, "external_id": r.external_id, "reason_en": r.reason_en, "reason_id": r.reason_id}
            for r in self.rejections
        ]
        return record

    def summary(self, lang: str) -> str:
        """Return a short human summary (the CLI prints it)."""
        counts = (self.inserted, self.updated, self.unchanged, len(self.rejections))
        if lang == "en":
            state = (
                "dry run, nothing written" if self.dry_run else "written" if self.committed else "NOT written"
            )
            text = "{}: {} rows ({}): {} new, {} updated, {} unchanged, {} rejected; {}"
            return text.format(self.layer, self.rows, self.crs, *counts, state)
        state = (
            "uji coba, tidak ada yang ditulis"
            if self.dry_run
            else "tersimpan"
            if self.committed
            else "TIDAK disimpan"
        )
        text = "{}: {} baris ({}): {} baru, {} diperbarui, {} tetap, {} ditolak; {}"
        return text.format(self.layer, self.rows, self.crs, *counts, state)


def report_json(record: dict[str, Any], lang: str) -> dict[str, Any]:
    """Return a report kept by a job (ImportReport.as_record) as ImportReport.as_json gives it in `lang`."""
    key = "reason_en" if lang == "en" else "reason_id"
    rejections = [
        {"row": r["row"], "external_id": r["external_id"], "reason": r[key]} for r in record["rejections"]
    ]
    return record | {"rejections": rejections}


def _prepare(
    layer: LayerSpec, fmt: Format, table: RawTable, options: ImportOptions
) -> tuple[list[Candidate], list[Rejection], ImportReport]:
    """Map columns, build and reproject geometry, check each row; return candidates and refusals."""
    cols = import_rows.map_columns(layer, fmt, table.columns, options.id_column, options.name_column)
    given = import_rows.parse_crs(options.crs) if options.crs else None
    declared = None if fmt.name == "csv" else table.crs
    source = declared or given or import_rows.WGS84
    if table.geometries is None:
        cells: list[import_rows.Cell] = [import_rows.csv_geometry(r, cols) for r in table.records]
    else:
        cells = list(table.geometries)
    cells = import_rows.to_wgs84(cells, source)
    good, bad = import_rows.candidates(layer, table, cols, cells)
    report = ImportReport(
        layer=layer.id,
        format=fmt.name,
        crs=import_rows.crs_label(source),
        crs_assumed=declared is None and given is None,
        rows=len(table.records),
        dry_run=options.dry_run,
        ignored_columns=cols.ignored,
    )
    return good, bad, report


def _lock_layer(conn: Connection, layer_id: str, control: Control, wait_s: float) -> None:
    """Take the layer's import lock for this transaction, waiting (cancellably) up to `wait_s`."""
    key = zlib.crc32(layer_id.encode()) - 2**31  # an int4, as pg_try_advisory_xact_lock(int, int) takes
    deadline = time.monotonic() + wait_s
    stmt = select(func.pg_try_advisory_xact_lock(LOCK_CLASS, key))
    while not conn.execute(stmt).scalar_one():
        _stop_if_asked(control)
        if time.monotonic() >= deadline:
            raise LayerBusy(layer_id)
        time.sleep(LOCK_POLL_S)
    if control.started is not None:
        control.started()


def _stop_if_asked(control: Control) -> None:
    if control.cancelled is not None and control.cancelled():
        raise ImportCancelled


def _file_progress(progress: Progress | None, refused: int, rows: int) -> Progress | None:
    """Return a callback that reports the upsert's rows as rows of the file (refused ones count as done)."""
    if progress is None:
        return None
    reported = progress

    def report(done: int, total: int) -> None:
        reported(refused + done if done < total else rows, rows)

    return report


def _apply(
    conn: Connection,
    layer: LayerSpec,
    principal: Principal,
    prepared: tuple[list[Candidate], list[Rejection], ImportReport],
    options: ImportOptions,
    control: Control,
) -> ImportReport:
    good, bad, report = prepared
    _stop_if_asked(control)
    progress = _file_progress(control.progress, len(bad), report.rows)
    with conn.begin_nested() as savepoint:
        outcome = upsert_features(conn, layer, principal, good, progress, control.cancelled)
        report.rejections = sorted(bad + outcome.rejected, key=lambda r: r.row)
        report.inserted, report.updated, report.unchanged = (
            outcome.inserted,
            outcome.updated,
            outcome.unchanged,
        )
        report.committed = not options.dry_run and (options.skip_invalid or not report.rejections)
        if not report.committed:
            savepoint.rollback()
    return report


def import_stream(
    conn: Connection,
    principal: Principal,
    layer_id: str,
    source: BinaryIO,
    filename: str | None,
    options: ImportOptions,
    settings: ImportSettings,
    control: Control | None = None,
) -> ImportReport:
    """Import a file from a stream into a layer the caller may edit; the caller commits.

    Raises ImportCancelled when `control.cancelled` says so between steps (the caller rolls back), and
    LayerBusy when another import into the layer holds it for longer than the wait allowed.
    """
    control = control or Control()
    layer = editable_layer(principal, layer_id)
    if options.crs:
        import_rows.parse_crs(options.crs)
    wait_s = settings.lock_wait_s if control.lock_wait_s is None else control.lock_wait_s
    _lock_layer(conn, layer.id, control, wait_s)
    with tempfile.TemporaryDirectory(prefix="kendali-import-") as workdir:
        fmt, path = stage(source, filename, Path(workdir), settings.limits())
        _stop_if_asked(control)
        table = read_table(path, fmt, options.source_layer, settings.max_rows)
    _stop_if_asked(control)
    if control.progress is not None:
        control.progress(0, len(table.records))
    return _apply(conn, layer, principal, _prepare(layer, fmt, table, options), options, control)


def import_path(
    conn: Connection,
    principal: Principal,
    layer_id: str,
    path: Path,
    options: ImportOptions,
    settings: ImportSettings,
    control: Control | None = None,
) -> ImportReport:
    """Import a local file (`kendali import`); GDAL virtual paths and URLs are refused."""
    editable_layer(principal, layer_id)
    text = str(path)
    if text.startswith("/vsi") or "://" in text or not path.is_file():
        raise ImportFileError(f"{text[:120]!r} is not a local file", f"{text[:120]!r} bukan berkas lokal")
    with path.open("rb") as source:
        return import_stream(conn, principal, layer_id, source, path.name, options, settings, control)
