"""`kendali import` as a command: commits a file, lists refused rows, fails when nothing was kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from api.cli.ingest_commands import import_file
from tests.ingest._import_files import points, write_file


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """A Typer app with the import command, as api/cli.py registers it, on the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    app = typer.Typer()
    app.command("import")(import_file)
    app.command("noop")(lambda: None)  # keeps "import" a subcommand, as in the real CLI
    return app


@pytest.fixture
def prefix(engine: Engine) -> Iterator[str]:
    """An external-id prefix whose committed assets, audit rows and events are removed afterwards."""
    name = "cli-imp"
    yield name
    with engine.begin() as conn:
        ids = conn.execute(
            text("DELETE FROM assets WHERE external_id LIKE :p RETURNING id"), {"p": f"{name}-%"}
        ).scalars()
        keys = [str(i) for i in ids]
        conn.execute(
            text("DELETE FROM audit_log WHERE target_id = ANY(:k) AND actor LIKE 'cli:%'"), {"k": keys}
        )
        conn.execute(text("DELETE FROM events WHERE type = 'feature' AND payload->>'action' = 'import'"))


def count(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        stmt = text("SELECT count(*) FROM assets WHERE external_id LIKE :p")
        return int(conn.execute(stmt, {"p": f"{name}-%"}).scalar_one())


def test_import_command_commits_the_file(
    cli: typer.Typer, engine: Engine, prefix: str, tmp_path: Path
) -> None:
    path = write_file(tmp_path, "geojson", points(3, prefix=prefix))
    result = CliRunner().invoke(cli, ["import", str(path), "--layer", "dumping_points", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "3 new, 0 updated, 0 unchanged, 0 rejected; written" in result.stdout
    assert count(engine, prefix) == 3


def test_dry_run_command_writes_nothing(
    cli: typer.Typer, engine: Engine, prefix: str, tmp_path: Path
) -> None:
    path = write_file(tmp_path, "csv", points(2, prefix=prefix))
    result = CliRunner().invoke(cli, ["import", str(path), "-l", "dumping_points", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "uji coba" in result.stdout
    assert count(engine, prefix) == 0


def test_refused_rows_are_listed_and_the_command_fails(
    cli: typer.Typer, engine: Engine, prefix: str, tmp_path: Path
) -> None:
    rows = points(2, prefix=prefix)
    rows[1]["capacity_m3"] = 999.0
    path = write_file(tmp_path, "gpkg", rows)
    result = CliRunner().invoke(cli, ["import", str(path), "-l", "dumping_points", "--lang", "en"])
    assert result.exit_code == 1
    assert f"row 2 ({prefix}-1): invalid properties" in result.stderr
    assert count(engine, prefix) == 0
