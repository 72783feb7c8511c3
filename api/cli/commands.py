"""The `kendali` command: thin subcommands, each a call into a package."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from sqlalchemy import Engine

from api.cli import cluster, ingest_commands
from api.http_protocol import ProblemHttpProtocol
from api.settings import ApiSettings
from basemaps.demo_rasters import write_demo_rasters
from ingest.settings import IngestSettings
from ingest.simulator import options_from_settings, simulate_command, simulator_key, start_simulator
from layers import migrate
from layers.access import auth
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
ingest_app = typer.Typer(help="Live status in: MQTT, pollers.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.command("import")(ingest_commands.import_file)
ingest_app.command("poll")(ingest_commands.poll)
ingest_app.command("mqtt")(ingest_commands.mqtt)
demo_app.command("simulate")(simulate_command)


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

    settings = DatabaseSettings()
    url = database_url(settings)
    engine = _engine(url)
    migrate.upgrade(url, engine)
    report = load_demo(
        engine,
        scale=scale,
        seed=seed,
        force=force,
        data_dir=settings.data_dir,
        raster_writer=write_demo_rasters,
        progress=_say,
    )
    _say(report.summary())


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (KENDALI_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (KENDALI_PORT).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="Processes (KENDALI_WORKERS).")] = None,
) -> None:
    """Serve the API and dashboard."""
    settings = ApiSettings()
    url = database_url(settings.db)
    os.environ["DATABASE_URL"] = url  # each worker process builds its app from the environment
    settings = ApiSettings()
    listen_host = host or settings.host
    listen_port = port or settings.port
    processes = workers or settings.workers
    _say(f"kendali is serving on http://{listen_host}:{listen_port}/ ({processes} worker processes)")
    uvicorn.run(
        "api.app:create_app",  # an import string: uvicorn can start N processes only from one
        factory=True,
        workers=processes,
        host=listen_host,
        port=listen_port,
        log_level="info",
        proxy_headers=False,
        http=ProblemHttpProtocol,
    )


@app.command("run")
def run(
    demo: Annotated[bool, typer.Option(help="Load the demo city when the database is empty.")] = True,
    simulate: Annotated[
        bool | None, typer.Option(help="Drive live demo status (default: KENDALI_SIMULATOR__ENABLED).")
    ] = None,
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
    ingest_settings = IngestSettings()
    if demo and (ingest_settings.simulator.enabled if simulate is None else simulate):
        with engine.begin() as conn:
            key = simulator_key(conn, settings.data_dir / "simulator.key")
        api = ApiSettings()
        host = "127.0.0.1" if api.host in ("0.0.0.0", "::") else api.host  # noqa: S104 - reaching, not binding
        start_simulator(options_from_settings(ingest_settings, f"http://{host}:{api.port}", key))
    engine.dispose()
    serve(None, None, None)


@app.command("export")
def export_cmd(
    layers: Annotated[list[str], typer.Argument(help="Layer ids; several only with --format gpkg.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="gpkg, shp, geojson, csv, kml or xlsx.")
    ] = "gpkg",
    bbox: Annotated[str | None, typer.Option(help="minx,miny,maxx,maxy in lon/lat.")] = None,
    datetime_: Annotated[
        str | None, typer.Option("--datetime", help="Instant or interval on observed_at.")
    ] = None,
    filter_: Annotated[str | None, typer.Option("--filter", help="CQL2 text filter.")] = None,
    properties: Annotated[str | None, typer.Option(help="Comma-separated properties.")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS URI of the written geometries.")] = None,
    role: Annotated[
        list[str] | None, typer.Option("--role", help="Export what these roles see (default admin).")
    ] = None,
    lang: Annotated[str, typer.Option(help="id or en.")] = "id",
) -> None:
    """Export layers to a file, filtered as on the items path."""
    from api.routes.export import export_to_path
    from layers.access.policy import principal_for

    given = {"bbox": bbox, "datetime": datetime_, "filter": filter_, "properties": properties, "crs": crs}
    params = {k: v for k, v in given.items() if v is not None}
    url = database_url(DatabaseSettings())
    principal = principal_for("cli", role or ["admin"], kind="user")
    written = export_to_path(_engine(url), principal, layers, fmt, params, output, lang)
    _say(f"{output}: {written} features" if written is not None else f"{output} written")


@db_app.command("grant")
def db_grant(
    agency: Annotated[str, typer.Argument(help="Agency code, e.g. bpprd.")],
    name: Annotated[str | None, typer.Option(help="Login name (default kendali_<agency>_<random>).")] = None,
) -> None:
    """Create a read-only database login for an agency's QGIS users; the password is printed once."""
    from layers.qgis.roles import grant_login
    from layers.qgis.views import sync_views

    url = database_url(DatabaseSettings())
    with _engine(url).begin() as conn:
        sync_views(conn)
        new = grant_login(conn, agency, name)
    _say(f"user={new.name} password={new.password}")
    typer.echo(
        f"login {new.name} ({agency}) created; store the password now, it cannot be shown again", err=True
    )


@db_app.command("revoke")
def db_revoke(name: str) -> None:
    """Drop a database login made by `kendali db grant`."""
    from layers.qgis.roles import drop_login

    url = database_url(DatabaseSettings())
    with _engine(url).begin() as conn:
        _say("dropped" if drop_login(conn, name) else "no such login")


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


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@key_app.command("create")
def key_create(
    name: str,
    role: Annotated[list[str], typer.Option("--role", help="Role such as dlhp-operator; repeat for more.")],
    layer: Annotated[list[str] | None, typer.Option("--layer", help="Limit the key to these layers.")] = None,
    asset: Annotated[
        list[str] | None,
        typer.Option(
            "--asset",
            help="Report only for this external id or [layer:]pattern (* any run, ? one character); repeat.",
        ),
    ] = None,
    topic: Annotated[
        list[str] | None,
        typer.Option(
            "--topic", help="Take MQTT messages only on this topic filter (+ and # allowed); repeat."
        ),
    ] = None,
) -> None:
    """Create an API key and print it once; only its hash is stored."""
    url = database_url(DatabaseSettings())
    with _engine(url).begin() as conn:
        new = auth.create_key(
            conn,
            name,
            role,
            layer or None,
            asset_scope=asset or None,
            topic_scope=topic or None,
            actor=_actor(),
        )
    _say(new.secret)
    typer.echo(f"key {new.prefix} created; store it now, it cannot be shown again", err=True)


def _listed(values: list[str] | None) -> str:
    return "*" if values is None else ",".join(values)


@key_app.command("list")
def key_list() -> None:
    """List API keys, newest first (prefix, name, roles, scopes, times); secrets are never shown."""
    url = database_url(DatabaseSettings())
    with _engine(url).connect() as conn:
        keys = auth.list_keys(conn)
    _say("prefix\tname\troles\tlayers\tassets\ttopics\tcreated\tlast_used\trevoked")
    for k in keys:
        times = [
            t.isoformat(timespec="seconds") if t else "-"
            for t in (k.created_at, k.last_used_at, k.revoked_at)
        ]
        scopes = [_listed(k.layers), _listed(k.assets), _listed(k.topics)]
        _say("\t".join([k.prefix, k.name, ",".join(k.roles), *scopes, *times]))


@key_app.command("revoke")
def key_revoke(prefix: str) -> None:
    """Revoke an API key by its prefix (the part after `kdl_`)."""
    url = database_url(DatabaseSettings())
    with _engine(url).begin() as conn:
        revoked = auth.revoke_key(conn, prefix, actor=_actor())
    _say("revoked" if revoked else "no such active key")


def main() -> None:
    """Entry point of the `kendali` console script."""
    try:
        app()
    except KendaliError as exc:
        typer.echo(f"kendali: {exc.message('en')}", err=True)
        sys.exit(2)
    except ValueError as exc:  # e.g. an unknown role name
        typer.echo(f"kendali: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
