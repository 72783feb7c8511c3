"""The `kendali` command: thin subcommands, each a call into a package."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Annotated

import typer
import uvicorn
from sqlalchemy import Engine

from api.app import create_app
from api.settings import ApiSettings
from basemaps.demo_rasters import write_demo_rasters
from layers import auth, cluster, migrate
from layers.db import create_db_engine
from layers.errors import KendaliError
from layers.settings import DatabaseSettings

app = typer.Typer(
    help="kendali: GIS server for city Command Centers.", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="The embedded local PostGIS cluster.", no_args_is_help=True)
demo_app = typer.Typer(help="The Ambon demo city.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
key_app = typer.Typer(help="API keys for devices and scripts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(user_app, name="user")
app.add_typer(key_app, name="key")


def _say(text: str) -> None:
    typer.echo(text)


def _local(settings: DatabaseSettings) -> cluster.LocalCluster:
    return cluster.LocalCluster(settings.data_dir, settings.pg_bindir)


def database_url(settings: DatabaseSettings) -> str:
    """Return DATABASE_URL, or start the embedded cluster and return its URL."""
    if settings.url is not None:
        return str(settings.url)
    try:
        return _local(settings).up(settings.database)
    except cluster.ClusterError as exc:
        typer.echo(f"kendali: {exc}", err=True)
        raise typer.Exit(2) from exc


def _engine(url: str) -> Engine:
    return create_db_engine(DatabaseSettings(url=url))


@db_app.command("up")
def db_up() -> None:
    """Start (or reuse) the local cluster and print its URL."""
    settings = DatabaseSettings()
    _say(database_url(settings.model_copy(update={"url": None})))


@db_app.command("down")
def db_down() -> None:
    """Stop the local cluster."""
    stopped = _local(DatabaseSettings()).down()
    _say("stopped" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Say whether the local cluster runs, and where."""
    local = _local(DatabaseSettings())
    state = local.state()
    if state is None:
        _say("not initialised")
        raise typer.Exit(3)
    running = local.running()
    _say(f"{'running' if running else 'stopped'} on 127.0.0.1:{state.port} (data: {state.pgdata})")
    if not running:
        raise typer.Exit(3)


@app.command("migrate")
def migrate_cmd() -> None:
    """Apply migrations and sync the layer catalog."""
    url = database_url(DatabaseSettings())
    migrate.upgrade(url, _engine(url))
    _say(f"migrated to {migrate.head_revision()}")


@demo_app.command("load")
def demo_load(
    scale: Annotated[int, typer.Option(min=1, max=1000, help="Multiply asset counts.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same city.")] = 42,
    force: Annotated[bool, typer.Option(help="Replace demo data that is already loaded.")] = False,
) -> None:
    """Load the Ambon demo city (synthetic demo data on the real coastline)."""
    from layers.demo.loader import load_demo

    url = database_url(DatabaseSettings())
    engine = _engine(url)
    migrate.upgrade(url, engine)
    report = load_demo(
        engine,
        scale=scale,
        seed=seed,
        force=force,
        data_dir=DatabaseSettings().data_dir,
        raster_writer=write_demo_rasters,
        progress=_say,
    )
    _say(report.summary())


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (KENDALI_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (KENDALI_PORT).")] = None,
) -> None:
    """Serve the API and dashboard."""
    settings = ApiSettings()
    url = database_url(settings.db)
    os.environ["DATABASE_URL"] = url
    settings = ApiSettings()
    listen_host = host or settings.host
    listen_port = port or settings.port
    _say(f"kendali is serving on http://{listen_host}:{listen_port}/")
    uvicorn.run(
        create_app(settings), host=listen_host, port=listen_port, log_level="info", proxy_headers=False
    )


@app.command("run")
def run(
    demo: Annotated[bool, typer.Option(help="Load the demo city when the database is empty.")] = True,
) -> None:
    """Start the database, migrate, load the demo city if empty, and serve."""
    from layers.demo.loader import demo_loaded, load_demo

    settings = DatabaseSettings()
    url = database_url(settings)
    engine = _engine(url)
    migrate.upgrade(url, engine)
    if demo and not demo_loaded(engine):
        report = load_demo(
            engine,
            scale=1,
            seed=42,
            force=False,
            data_dir=settings.data_dir,
            raster_writer=write_demo_rasters,
            progress=_say,
        )
        _say(report.summary())
    engine.dispose()
    serve(None, None)


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[list[str], typer.Option("--role", help="Role such as bpprd-analyst; repeat for more.")],
    display_name: Annotated[str, typer.Option(help="Full name.")] = "",
    password_env: Annotated[
        str | None, typer.Option(help="Read the password from this environment variable.")
    ] = None,
) -> None:
    """Create a user (the password is asked for, or read from --password-env)."""
    password = os.environ.get(password_env, "") if password_env else getpass.getpass("Password: ")
    url = database_url(DatabaseSettings())
    with _engine(url).begin() as conn:
        user_id = auth.create_user(conn, username, password, role, display_name)
    _say(f"user {username} created (id {user_id})")


@key_app.command("create")
def key_create(
    name: str,
    role: Annotated[list[str], typer.Option("--role", help="Role such as dlhp-operator; repeat for more.")],
    layer: Annotated[list[str] | None, typer.Option("--layer", help="Limit the key to these layers.")] = None,
) -> None:
    """Create an API key and print it once; only its hash is stored."""
    url = database_url(DatabaseSettings())
    with _engine(url).begin() as conn:
        new = auth.create_key(conn, name, role, layer or None)
    _say(new.secret)
    typer.echo(f"key {new.prefix} created; store it now, it cannot be shown again", err=True)


@key_app.command("revoke")
def key_revoke(prefix: str) -> None:
    """Revoke an API key by its prefix (the part after `kdl_`)."""
    url = database_url(DatabaseSettings())
    with _engine(url).begin() as conn:
        revoked = auth.revoke_key(conn, prefix)
    _say("revoked" if revoked else "no such active key")


def main() -> None:
    """Entry point of the `kendali` console script."""
    try:
        app()
    except KendaliError as exc:
        typer.echo(f"kendali: {exc.message('en')}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
