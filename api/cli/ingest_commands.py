"""`kendali import FILE --layer L` and `kendali ingest poll`: thin commands over ingest/."""

from __future__ import annotations

import getpass
import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ingest.importer import Control, ImportOptions, ImportSettings, import_path
from ingest.poller_config import PollerConfigError, PollerSettings
from ingest.pollers import run_pollers
from layers.access.policy import principal_for
from layers.db import create_db_engine
from layers.settings import DatabaseSettings


def mqtt() -> None:
    """Subscribe to the MQTT broker (KENDALI_MQTT__*) and store live status, acking after commit."""
    from ingest.mqtt import main as mqtt_main

    os.environ["DATABASE_URL"] = _database_url()
    mqtt_main()


def _database_url() -> str:
    from api.cli.commands import database_url  # late: api.cli.commands registers these commands

    return database_url(DatabaseSettings())


def import_file(
    file: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, zipped Shapefile or CSV.")],
    layer: Annotated[str, typer.Option("--layer", "-l", help="Layer to import into.")],
    dry_run: Annotated[bool, typer.Option(help="Check every row and write nothing.")] = False,
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the valid rows even if some are refused.")
    ] = False,
    crs: Annotated[
        str | None, typer.Option(help="EPSG:n of a CSV (default EPSG:4326) or of a file without one.")
    ] = None,
    id_column: Annotated[str | None, typer.Option(help="Column holding the external id.")] = None,
    name_column: Annotated[str | None, typer.Option(help="Column holding the name.")] = None,
    source_layer: Annotated[str | None, typer.Option(help="Layer of a multi-layer GeoPackage.")] = None,
    lang: Annotated[str, typer.Option(help="Language of the report: id or en.")] = "id",
) -> None:
    """Import a file into a layer, upserting by external id; any refused row keeps the whole file out."""
    engine = create_db_engine(DatabaseSettings(url=_database_url()))
    options = ImportOptions(dry_run, skip_invalid, crs, id_column, name_column, source_layer)
    actor = principal_for(f"cli:{getpass.getuser()}", ["admin"], kind="user")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar, engine.begin() as conn:
            task = bar.add_task(f"{layer}: {_reading(lang)}", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, description=f"{layer}: {_rows(lang)}", completed=done, total=total)

            control = Control(progress=advance)
            report = import_path(conn, actor, layer, file, options, ImportSettings(), control)
    finally:
        engine.dispose()
    for rejection in report.rejections:
        typer.echo(
            f"row {rejection.row} ({rejection.external_id or '-'}): {rejection.reason(lang)}", err=True
        )
    typer.echo(report.summary(lang))
    if report.rejections and not report.committed:
        raise typer.Exit(1)


def _reading(lang: str) -> str:
    return "reading the file" if lang == "en" else "membaca berkas"


def _rows(lang: str) -> str:
    return "rows" if lang == "en" else "baris"


def poll(
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.", min=1)] = None,
) -> None:
    """Run the pollers of KENDALI_POLLERS_FILE until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ["DATABASE_URL"] = _database_url()
    try:
        run_pollers(PollerSettings(), duration_s=duration)
    except PollerConfigError as exc:
        typer.echo(f"kendali: {exc}", err=True)
        raise typer.Exit(2) from None
