"""Import files that must be refused whole: wrong or disguised formats, unsafe or oversized archives."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Connection

from ingest.import_formats import FileTooLarge, ImportFileError
from ingest.importer import ImportOptions, ImportSettings, import_path
from layers.access.policy import principal_for
from layers.errors import Forbidden, LayerNotFound
from tests.ingest._import_files import points, write_file

DLHP = principal_for("user:dlhp-editor", ["dlhp-editor"], kind="user")


def run(conn: Connection, path: Path, settings: ImportSettings | None = None) -> None:
    import_path(conn, DLHP, "dumping_points", path, ImportOptions(), settings or ImportSettings())


def shapefile_parts(tmp_path: Path) -> dict[str, bytes]:
    archive = write_file(tmp_path, "shapefile", points(2))
    with zipfile.ZipFile(archive) as zf:
        return {Path(n).name: zf.read(n) for n in zf.namelist()}


def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_corrupt_zip_is_refused(conn: Connection, tmp_path: Path) -> None:
    good = write_file(tmp_path, "shapefile", points(2)).read_bytes()
    broken = tmp_path / "broken.zip"
    broken.write_bytes(good[: len(good) // 2])
    with pytest.raises(ImportFileError, match="not a readable zip archive"):
        run(conn, broken)


def test_zip_member_climbing_out_is_refused(conn: Connection, tmp_path: Path) -> None:
    parts = {f"../{name}": data for name, data in shapefile_parts(tmp_path).items()}
    with pytest.raises(ImportFileError, match="unsafe member path"):
        run(conn, zip_of(tmp_path / "evil.zip", parts))


def test_zip_expanding_past_the_limit_is_refused(conn: Connection, tmp_path: Path) -> None:
    parts = shapefile_parts(tmp_path) | {"tps.cpg": b"0" * 5_000_000}
    settings = ImportSettings(max_unzipped_bytes=1_000_000)
    with pytest.raises(FileTooLarge, match="unpacks to more than"):
        run(conn, zip_of(tmp_path / "bomb.zip", parts), settings)


def test_zip_with_too_many_entries_is_refused(conn: Connection, tmp_path: Path) -> None:
    parts = shapefile_parts(tmp_path) | {f"junk/{i}.txt": b"x" for i in range(40)}
    with pytest.raises(ImportFileError, match="more than 32 entries"):
        run(conn, zip_of(tmp_path / "many.zip", parts))


def test_zip_without_a_shapefile_is_refused(conn: Connection, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="exactly one shapefile"):
        run(conn, zip_of(tmp_path / "empty.zip", {"readme.txt": b"hello"}))


def test_file_larger_than_the_limit_is_refused(conn: Connection, tmp_path: Path) -> None:
    path = write_file(tmp_path, "geojson", points(200))
    with pytest.raises(FileTooLarge):
        run(conn, path, ImportSettings(max_upload_bytes=2048))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("layer.vrt", b"<OGRVRTDataSource/>", "cannot be imported"),
        ("layer.kml", b"<kml/>", "cannot be imported"),
        (
            "layer.geojson",
            b'<OGRVRTDataSource><OGRVRTLayer name="x"/></OGRVRTDataSource>',
            "not a valid geojson",
        ),
        ("layer.csv", b"SQLite format 3\x00rest", "not a valid csv"),
        ("layer.gpkg", b"SQLite format 3\x00 but not a database at all", "could not be read as gpkg"),
        ("layer.geojson", b'{"type": "FeatureCollection", "features": [', "could not be read as geojson"),
    ],
)
def test_disguised_or_unknown_files_are_refused(
    conn: Connection, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        run(conn, path)


@pytest.mark.parametrize("source", ["/vsicurl/http://127.0.0.1:9/x.geojson", "/vsizip//tmp/x.zip/a.shp"])
def test_gdal_virtual_paths_are_refused(conn: Connection, source: str) -> None:
    with pytest.raises(ImportFileError, match="not a local file"):
        run(conn, Path(source))


def test_csv_without_coordinates_is_refused(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("name,external_id\nA,a-1\n")
    with pytest.raises(ImportFileError, match="needs a WKT column"):
        run(conn, path)


def test_another_agency_may_not_import(conn: Connection, tmp_path: Path) -> None:
    dishub = principal_for("user:dishub", ["dishub-editor"], kind="user")
    with pytest.raises(Forbidden):
        import_path(conn, dishub, "dumping_points", tmp_path, ImportOptions(), ImportSettings())


def test_taxpayers_do_not_exist_for_other_agencies(conn: Connection, tmp_path: Path) -> None:
    with pytest.raises(LayerNotFound):
        import_path(conn, DLHP, "taxpayers", tmp_path, ImportOptions(), ImportSettings())
