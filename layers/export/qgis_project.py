"""A QGIS project pointing at this server: OGC API – Features and vector-tile layers, styled, per agency.

No secret is ever written: layers that need signing in carry QGIS's `authcfg` reference to a
configuration the user creates once in QGIS (id `kendali`), holding their own key or password.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from urllib.parse import urlencode

from pyproj import CRS

from geo.crs import AMBON_UTM_SRID, metric_transformers
from geo.kinds import GeometryKind
from layers.access.policy import Guarded
from layers.catalog.agencies import AGENCIES
from layers.catalog.spec import Access, LayerSpec, Titles
from layers.export.qml import GEOMETRY_CODE, OTHER_LABEL, QGIS_VERSION, QML_DOCTYPE, Legend, renderer_element
from layers.export.qml import symbol_element as qml_symbol
from layers.export.rows import style_attribute
from layers.queries.spec import QuerySpec

AUTHCFG = "kendali"  # QGIS auth configuration ids are seven characters
TILE_PATH = "/tiles/{layer}/{z}/{x}/{y}.mvt"
BBox = tuple[float, float, float, float]
AMBON_BBOX: BBox = (128.10, -3.80, 128.35, -3.60)
PROJECT_TITLE = Titles("kendali — peta Command Center", "kendali — Command Center map")
AUTH_NOTE = Titles(
    "Lapisan internal dan terbatas memakai konfigurasi autentikasi QGIS dengan ID 'kendali': buat sekali di "
    "Pengaturan > Opsi > Autentikasi (Basic: nama pengguna dan kata sandi kendali Anda). "
    "Berkas ini tidak memuat rahasia apa pun.",
    "Internal and restricted layers use the QGIS authentication configuration with id 'kendali': create it "
    "once in Settings > Options > Authentication (Basic: your kendali user name and password). "
    "This file holds no secret.",
)
QUERY_GROUP = Titles("Kueri (parameter bawaan)", "Queries (default parameters)")
_WKB_NAMES = {GeometryKind.POINT: "Point", GeometryKind.LINE: "Line", GeometryKind.POLYGON: "Polygon"}


def legend_of(layer: LayerSpec) -> Legend:
    """Return the legend of a stored layer (style keyed by status or by a declared property)."""
    names = {"status", *layer.properties.model_fields}
    labels = dict(layer.status.labels) if layer.status is not None else {}
    return Legend(layer.id, layer.title, layer.geometry, layer.style, style_attribute(layer, names), labels)


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def oapif_source(base_url: str, layer: Guarded) -> str:
    """Return the OAPIF provider's data source for a layer (authcfg only for layers that need signing in)."""
    parts = {
        "pagingEnabled": "true",
        "preferCoordinatesForWfsT11": "false",
        "restrictToRequestBBOX": "1",
        "typename": layer.id,
        "url": base_url,
    }
    if layer.access is not Access.PUBLIC:
        parts["authcfg"] = AUTHCFG
    return " ".join(f"{key}={_quoted(value)}" for key, value in sorted(parts.items()))


def tiles_template(base_url: str, layer: LayerSpec) -> str:
    """Return the XYZ template of a layer's Mapbox vector tiles."""
    return base_url + TILE_PATH.replace("{layer}", layer.id)


def tiles_source(base_url: str, layer: LayerSpec) -> str:
    """Return the vector-tile layer's data source (an encoded URI, as QGIS writes it)."""
    parts = [
        ("type", "xyz"),
        ("url", tiles_template(base_url, layer)),
        ("zmin", str(layer.min_zoom)),
        ("zmax", str(layer.max_zoom)),
    ]
    if layer.access is not Access.PUBLIC:
        parts.append(("authcfg", AUTHCFG))
    return urlencode(parts)


def _srs(parent: ET.Element, srid: int) -> None:
    crs = CRS.from_epsg(srid)
    system = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    ET.SubElement(system, "wkt").text = crs.to_wkt()
    ET.SubElement(system, "srid").text = str(srid)
    ET.SubElement(system, "authid").text = f"EPSG:{srid}"
    ET.SubElement(system, "description").text = crs.name
    ET.SubElement(system, "geographicflag").text = "true" if crs.is_geographic else "false"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _expression(attribute: str, value: str) -> str:
    return f'"{attribute}" = {_literal(value)}'


def _others(attribute: str, values: Sequence[str]) -> str:
    if not values:
        return ""
    return f'"{attribute}" IS NULL OR "{attribute}" NOT IN ({", ".join(map(_literal, values))})'


def _tile_renderer(layer: LayerSpec, lang: str) -> ET.Element:
    legend = legend_of(layer)
    renderer = ET.Element("renderer", type="basic")
    styles = ET.SubElement(renderer, "styles")
    classes = legend.classes(lang)
    attribute = legend.attribute or ""
    others = _others(attribute, [value for value, _, _ in classes])
    rules = [(label, colour, _expression(attribute, value)) for value, label, colour in classes]
    fallback = legend.style.stale_color if classes else legend.style.color
    rules.append((OTHER_LABEL.pick(lang) if classes else layer.title.pick(lang), fallback, others))
    for label, colour, expression in rules:
        attributes = {
            "name": label,
            "layer": layer.id,
            "geometry": str(GEOMETRY_CODE[layer.geometry]),
            "enabled": "1",
            "expression": expression,
            "min-zoom": "-1",
            "max-zoom": "-1",
        }
        style = ET.SubElement(styles, "style", attributes)
        symbols = ET.SubElement(style, "symbols")
        symbols.append(qml_symbol(layer.geometry, layer.style, colour, "0"))
    return renderer


def _vector_layer(base_url: str, layer: LayerSpec, lang: str) -> ET.Element:
    kind = _WKB_NAMES[layer.geometry]
    element = ET.Element("maplayer", type="vector", geometry=kind, wkbType=layer.geometry.postgis_type())
    ET.SubElement(element, "id").text = f"kendali_{layer.id}_oapif"
    ET.SubElement(element, "datasource").text = oapif_source(base_url, layer)
    ET.SubElement(element, "layername").text = layer.title.pick(lang)
    ET.SubElement(element, "abstract").text = layer.description.pick(lang)
    _srs(ET.SubElement(element, "srs"), 4326)
    ET.SubElement(element, "provider", encoding="UTF-8").text = "OAPIF"
    element.append(renderer_element(legend_of(layer), lang))
    return element


def _query_layer(base_url: str, spec: QuerySpec, lang: str) -> ET.Element:
    """Return a query layer read through OAPIF with its default parameters."""
    element = ET.Element("maplayer", type="vector", geometry=_WKB_NAMES[spec.geometry])
    element.set("wkbType", "Point" if spec.geometry is GeometryKind.POINT else spec.geometry.postgis_type())
    ET.SubElement(element, "id").text = f"kendali_{spec.id}_query"
    ET.SubElement(element, "datasource").text = oapif_source(base_url, spec)
    ET.SubElement(element, "layername").text = spec.title.pick(lang)
    ET.SubElement(element, "abstract").text = spec.description.pick(lang)
    _srs(ET.SubElement(element, "srs"), 4326)
    ET.SubElement(element, "provider", encoding="UTF-8").text = "OAPIF"
    legend = Legend(spec.id, spec.title, spec.geometry, spec.style, spec.style_attribute, spec.labels)
    element.append(renderer_element(legend, lang))
    return element


def _query_tree(tree: ET.Element, base_url: str, queries: Sequence[QuerySpec], lang: str) -> None:
    if not queries:
        return
    group = ET.SubElement(
        tree, "layer-tree-group", name=QUERY_GROUP.pick(lang), checked="Qt::Unchecked", expanded="0"
    )
    ET.SubElement(group, "customproperties")
    for spec in queries:
        ET.SubElement(
            group,
            "layer-tree-layer",
            id=f"kendali_{spec.id}_query",
            name=spec.title.pick(lang),
            source=oapif_source(base_url, spec),
            providerKey="OAPIF",
            checked="Qt::Unchecked",
            expanded="0",
        )


def _tile_layer(base_url: str, layer: LayerSpec, lang: str) -> ET.Element:
    element = ET.Element("maplayer", type="vector-tile")
    ET.SubElement(element, "id").text = f"kendali_{layer.id}_tiles"
    ET.SubElement(element, "datasource").text = tiles_source(base_url, layer)
    ET.SubElement(element, "layername").text = f"{layer.title.pick(lang)} (tile)"
    _srs(ET.SubElement(element, "srs"), 3857)
    ET.SubElement(element, "provider").text = "xyzvectortiles"
    element.append(_tile_renderer(layer, lang))
    return element


def _tree(root: ET.Element, base_url: str, layers: Sequence[LayerSpec], lang: str) -> ET.Element:
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    for code, agency in AGENCIES.items():
        members = [layer for layer in layers if layer.owner == code]
        if not members:
            continue
        group = ET.SubElement(
            tree, "layer-tree-group", name=agency.name.pick(lang), checked="Qt::Checked", expanded="1"
        )
        ET.SubElement(group, "customproperties")
        for layer in members:
            for suffix, provider, source, checked in (
                ("oapif", "OAPIF", oapif_source(base_url, layer), "Qt::Checked"),
                ("tiles", "xyzvectortiles", tiles_source(base_url, layer), "Qt::Unchecked"),
            ):
                ET.SubElement(
                    group,
                    "layer-tree-layer",
                    id=f"kendali_{layer.id}_{suffix}",
                    name=layer.title.pick(lang) + (" (tile)" if suffix == "tiles" else ""),
                    source=source,
                    providerKey=provider,
                    checked=checked,
                    expanded="0",
                )
    return tree


def _canvas(root: ET.Element, bbox: BBox) -> None:
    to_metric, _ = metric_transformers(AMBON_UTM_SRID)
    xmin, ymin = to_metric.transform(bbox[0], bbox[1])
    xmax, ymax = to_metric.transform(bbox[2], bbox[3])
    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    ET.SubElement(canvas, "units").text = "meters"
    extent = ET.SubElement(canvas, "extent")
    for tag, value in (("xmin", xmin), ("ymin", ymin), ("xmax", xmax), ("ymax", ymax)):
        ET.SubElement(extent, tag).text = f"{value:.1f}"
    ET.SubElement(canvas, "rotation").text = "0"
    _srs(ET.SubElement(canvas, "destinationsrs"), AMBON_UTM_SRID)


def project_document(
    base_url: str,
    layers: Sequence[LayerSpec],
    lang: str = "id",
    bbox: BBox | None = None,
    queries: Sequence[QuerySpec] = (),
) -> str:
    """Return a QGIS project (.qgs XML): every layer as OAPIF and vector tiles, grouped by agency.

    Query layers that run without parameters come last, unchecked, in a group of their own.
    """
    base = base_url.rstrip("/")
    root = ET.Element("qgis", projectname=PROJECT_TITLE.pick(lang), version=QGIS_VERSION)
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = PROJECT_TITLE.pick(lang)
    _srs(ET.SubElement(root, "projectCrs"), AMBON_UTM_SRID)
    _query_tree(_tree(root, base, layers, lang), base, queries, lang)
    _canvas(root, bbox or AMBON_BBOX)
    project_layers = ET.SubElement(root, "projectlayers")
    for layer in layers:
        project_layers.append(_vector_layer(base, layer, lang))
        project_layers.append(_tile_layer(base, layer, lang))
    for spec in queries:
        project_layers.append(_query_layer(base, spec, lang))
    metadata = ET.SubElement(root, "projectMetadata")
    ET.SubElement(metadata, "title").text = PROJECT_TITLE.pick(lang)
    ET.SubElement(metadata, "abstract").text = AUTH_NOTE.pick(lang)
    return QML_DOCTYPE + "\n" + ET.tostring(root, encoding="unicode")


def project_archive(document: str, name: str = "kendali.qgs") -> bytes:
    """Return a .qgz: the project zipped, as QGIS saves it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, document)
    return buffer.getvalue()
