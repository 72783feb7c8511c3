"""Direct PostGIS access: per-layer views, agency logins through psycopg, and row-level security."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy import Engine, make_url, text

from layers.catalog import LAYERS
from layers.qgis.roles import NewLogin, agency_reads, drop_login, grant_login
from layers.qgis.views import sync_views

Login = Callable[[str], NewLogin]


@pytest.fixture(scope="module")
def synced(engine: Engine) -> Engine:
    """The test database with the qgis views and policies (the lead calls sync_views from migrate)."""
    with engine.begin() as conn:
        sync_views(conn)
    return engine


@pytest.fixture
def login(synced: Engine) -> Iterator[Login]:
    """Create agency logins with db_roles (committed: roles are cluster-wide) and drop them afterwards."""
    made: list[str] = []

    def make(agency: str) -> NewLogin:
        with synced.begin() as conn:
            new = grant_login(conn, agency)
        made.append(new.name)
        return new

    yield make
    with synced.begin() as conn:
        for name in made:
            drop_login(conn, name)


def connect(database_url: str, new: NewLogin) -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(database_url).set(username=new.name, password=new.password)
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def scalar(db: psycopg.Connection[tuple[object, ...]], query: str) -> object:
    row = db.execute(query).fetchone()
    assert row is not None
    return row[0]


def test_agency_login_sees_no_taxpayer_rows_in_assets(database_url: str, login: Login) -> None:
    with connect(database_url, login("dlhp")) as db:
        assert scalar(db, "SELECT count(*) FROM assets WHERE layer_id = 'taxpayers'") == 0
        assert scalar(db, "SELECT count(*) FROM layers WHERE id = 'taxpayers'") == 0
        assert scalar(db, "SELECT count(*) FROM assets WHERE layer_id = 'dumping_points'") == 300


def test_agency_login_sees_no_taxpayer_status(database_url: str, login: Login, synced: Engine) -> None:
    with synced.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM asset_status")).scalar_one()
        hidden = conn.execute(
            text(
                "SELECT count(*) FROM asset_status s JOIN assets a ON a.id = s.asset_id "
                "WHERE a.layer_id = 'taxpayers'"
            )
        ).scalar_one()
    with connect(database_url, login("kominfo")) as db:
        assert scalar(db, "SELECT count(*) FROM asset_status") == total - hidden
    assert hidden > 0


def test_agency_login_may_not_select_the_taxpayers_view(database_url: str, login: Login) -> None:
    with connect(database_url, login("dlhp")) as db, pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute("SELECT count(*) FROM qgis.taxpayers")


def test_row_security_holds_through_the_view_even_if_granted(
    database_url: str, login: Login, synced: Engine
) -> None:
    new = login("dishub")
    with synced.begin() as conn:
        conn.execute(text(f'GRANT SELECT ON qgis.taxpayers TO "{new.name}"'))
    with connect(database_url, new) as db:
        assert scalar(db, "SELECT count(*) FROM qgis.taxpayers") == 0


def test_bpprd_login_reads_taxpayers(database_url: str, login: Login) -> None:
    with connect(database_url, login("bpprd")) as db:
        assert scalar(db, "SELECT count(*) FROM qgis.taxpayers") == 1500
        assert scalar(db, "SELECT count(*) FROM assets WHERE layer_id = 'taxpayers'") == 1500


def test_login_is_read_only(database_url: str, login: Login) -> None:
    with connect(database_url, login("bpprd")) as db, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        db.execute("UPDATE assets SET name = 'x' WHERE layer_id = 'taxpayers'")


def test_views_have_typed_columns(synced: Engine) -> None:
    with synced.connect() as conn:
        types: dict[str, str] = dict(
            conn.execute(
                text("SELECT column_name, data_type FROM information_schema.columns "
                     "WHERE table_schema = 'qgis' AND table_name = 'das_stations'")
            ).all()
        )  # fmt: skip
        geometry = conn.execute(
            text(
                "SELECT type, srid FROM geometry_columns "
                "WHERE f_table_schema = 'qgis' AND f_table_name = 'das_stations'"
            )
        ).one()
    assert types["waspada_cm"] == "double precision" and types["station_code"] == "text"
    assert types["stale"] == "boolean" and types["observed_at"] == "timestamp with time zone"
    assert tuple(geometry) == ("MULTIPOINT", 4326)


def test_views_match_the_stored_rows(synced: Engine) -> None:
    with synced.connect() as conn:
        view = conn.execute(text("SELECT count(*), count(status) FROM qgis.dumping_points")).one()
        stored = conn.execute(
            text("SELECT count(*), count(s.status) FROM assets a "
                 "LEFT JOIN asset_status s ON s.asset_id = a.id WHERE a.layer_id = 'dumping_points'")
        ).one()  # fmt: skip
    assert tuple(view) == tuple(stored)


@pytest.mark.parametrize(
    ("agency", "layer_id", "reads"),
    [("bpprd", "taxpayers", True), ("kominfo", "taxpayers", False), ("dlhp", "cctv", True),
     ("satpolpp", "city_apps", True), ("pupr", "response_areas", True)],
)  # fmt: skip
def test_agency_reads_follow_the_policy(agency: str, layer_id: str, reads: bool) -> None:
    assert agency_reads(agency, LAYERS[layer_id]) is reads


def test_drop_login_refuses_other_roles(synced: Engine) -> None:
    with synced.begin() as conn:
        assert drop_login(conn, "kendali") is False
        assert drop_login(conn, "kendali_ro_bpprd") is False
