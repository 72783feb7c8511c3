"""A layer's declared style as QGIS QML and OGC SLD: coloured by status, labelled in the caller's language."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field

from geo.kinds import GeometryKind
from layers.catalog.spec import Style, Titles
from layers.export.rows import ExportSource

QGIS_VERSION = "3.34.0-Prizren"
QML_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
OTHER_LABEL = Titles("Lainnya / belum ada status", "Other / no status yet")
_SYMBOL_TYPE = {GeometryKind.POINT: "marker", GeometryKind.LINE: "line", GeometryKind.POLYGON: "fill"}
GEOMETRY_CODE = {GeometryKind.POINT: 0, GeometryKind.LINE: 1, GeometryKind.POLYGON: 2}
SLD = "http://www.opengis.net/sld"
OGC = "http://www.opengis.net/ogc"


@dataclass(frozen=True, slots=True)
class Legend:
    """What a style needs to know of a layer: its name, title, geometry, colours and the keyed attribute."""

    name: str
    title: Titles
    geometry: GeometryKind
    style: Style
    attribute: str | None = None
    labels: Mapping[str, Titles] = field(default_factory=dict)

    def classes(self, lang: str) -> list[tuple[str, str, str]]:
        """Return (value, label, colour) for each keyed value, in declaration order."""
        if self.attribute is None:
            return []
        return [
            (value, self.labels[value].pick(lang) if value in self.labels else value, colour)
            for value, colour in self.style.by_status.items()
        ]


def rgba(colour: str, alpha: float = 1.0) -> str:
    """Return QGIS's "r,g,b,a" for a "#rrggbb" colour."""
    value = colour.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"{red},{green},{blue},{round(alpha * 255)}"


def _props(parent: ET.Element, props: Mapping[str, str]) -> None:
    # Recent QGIS reads the Option map, older QGIS 3 the prop list; both are written.
    options = ET.SubElement(parent, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(options, "Option", name=key, type="QString", value=value)
    for key, value in props.items():
        ET.SubElement(parent, "prop", k=key, v=value)


def _symbol_props(geometry: GeometryKind, style: Style, colour: str) -> tuple[str, dict[str, str]]:
    if geometry is GeometryKind.POINT:
        return "SimpleMarker", {
            "name": "circle",
            "color": rgba(colour),
            "outline_color": "255,255,255,255",
            "outline_width": "1",
            "outline_width_unit": "Pixel",
            "size": f"{style.radius * 2:g}",
            "size_unit": "Pixel",
        }
    if geometry is GeometryKind.LINE:
        return "SimpleLine", {
            "line_color": rgba(colour),
            "line_width": f"{style.line_width:g}",
            "line_width_unit": "Pixel",
            "line_style": "solid",
        }
    return "SimpleFill", {
        "color": rgba(colour, style.fill_opacity),
        "style": "solid",
        "outline_color": rgba(colour),
        "outline_width": f"{style.line_width:g}",
        "outline_width_unit": "Pixel",
        "outline_style": "solid",
    }


def symbol_element(geometry: GeometryKind, style: Style, colour: str, name: str) -> ET.Element:
    """Return a QGIS <symbol> of one simple layer in `colour`."""
    symbol = ET.Element(
        "symbol", type=_SYMBOL_TYPE[geometry], name=name, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    cls, props = _symbol_props(geometry, style, colour)
    layer = ET.SubElement(symbol, "layer", {"class": cls, "enabled": "1", "pass": "0", "locked": "0"})
    _props(layer, props)
    return symbol


def renderer_element(legend: Legend, lang: str) -> ET.Element:
    """Return a vector layer's <renderer-v2>: categorized by the keyed attribute, or a single symbol."""
    base = {"symbollevels": "0", "enableorderby": "0", "forceraster": "0"}
    classes = legend.classes(lang)
    if not classes:
        renderer = ET.Element("renderer-v2", {"type": "singleSymbol", **base})
        symbols = ET.SubElement(renderer, "symbols")
        symbols.append(symbol_element(legend.geometry, legend.style, legend.style.color, "0"))
        return renderer
    renderer = ET.Element(
        "renderer-v2", {"type": "categorizedSymbol", "attr": legend.attribute or "", **base}
    )
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    # The empty value is QGIS's "all other values": assets without a status yet.
    every = [*classes, ("", OTHER_LABEL.pick(lang), legend.style.stale_color)]
    for index, (value, label, colour) in enumerate(every):
        ET.SubElement(categories, "category", value=value, label=label, symbol=str(index), render="true")
        symbols.append(symbol_element(legend.geometry, legend.style, colour, str(index)))
    source = ET.SubElement(renderer, "source-symbol")
    source.append(symbol_element(legend.geometry, legend.style, legend.style.color, "0"))
    return renderer


def qml_document(legend: Legend, lang: str = "id") -> str:
    """Return a QGIS style file (.qml) for the legend."""
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology")
    root.append(renderer_element(legend, lang))
    ET.SubElement(root, "layerGeometryType").text = str(GEOMETRY_CODE[legend.geometry])
    return QML_DOCTYPE + "\n" + ET.tostring(root, encoding="unicode")


def _css(parent: ET.Element, tag: str, params: Mapping[str, str]) -> None:
    element = ET.SubElement(parent, f"{{{SLD}}}{tag}")
    for name, value in params.items():
        ET.SubElement(element, f"{{{SLD}}}CssParameter", name=name).text = value


def _symbolizer(rule: ET.Element, legend: Legend, colour: str) -> None:
    style = legend.style
    stroke = {"stroke": colour, "stroke-width": f"{style.line_width:g}"}
    if legend.geometry is GeometryKind.POINT:
        graphic = ET.SubElement(ET.SubElement(rule, f"{{{SLD}}}PointSymbolizer"), f"{{{SLD}}}Graphic")
        mark = ET.SubElement(graphic, f"{{{SLD}}}Mark")
        ET.SubElement(mark, f"{{{SLD}}}WellKnownName").text = "circle"
        _css(mark, "Fill", {"fill": colour})
        _css(mark, "Stroke", {"stroke": "#ffffff", "stroke-width": "1"})
        ET.SubElement(graphic, f"{{{SLD}}}Size").text = f"{style.radius * 2:g}"
    elif legend.geometry is GeometryKind.LINE:
        _css(ET.SubElement(rule, f"{{{SLD}}}LineSymbolizer"), "Stroke", stroke)
    else:
        symbolizer = ET.SubElement(rule, f"{{{SLD}}}PolygonSymbolizer")
        _css(symbolizer, "Fill", {"fill": colour, "fill-opacity": f"{style.fill_opacity:g}"})
        _css(symbolizer, "Stroke", stroke)


def _rule(parent: ET.Element, legend: Legend, title: str, colour: str, value: str | None) -> None:
    rule = ET.SubElement(parent, f"{{{SLD}}}Rule")
    ET.SubElement(rule, f"{{{SLD}}}Name").text = value if value is not None else "other"
    ET.SubElement(rule, f"{{{SLD}}}Title").text = title
    if value is not None and legend.attribute is not None:
        equal = ET.SubElement(ET.SubElement(rule, f"{{{OGC}}}Filter"), f"{{{OGC}}}PropertyIsEqualTo")
        ET.SubElement(equal, f"{{{OGC}}}PropertyName").text = legend.attribute
        ET.SubElement(equal, f"{{{OGC}}}Literal").text = value
    elif legend.attribute is not None:
        ET.SubElement(rule, f"{{{SLD}}}ElseFilter")
    _symbolizer(rule, legend, colour)


def sld_document(legend: Legend, lang: str = "id") -> str:
    """Return an SLD 1.0 document with one rule per keyed value (and one for all others)."""
    ET.register_namespace("", SLD)
    ET.register_namespace("ogc", OGC)
    root = ET.Element(f"{{{SLD}}}StyledLayerDescriptor", version="1.0.0")
    named = ET.SubElement(root, f"{{{SLD}}}NamedLayer")
    ET.SubElement(named, f"{{{SLD}}}Name").text = legend.name
    user = ET.SubElement(named, f"{{{SLD}}}UserStyle")
    ET.SubElement(user, f"{{{SLD}}}Title").text = legend.title.pick(lang)
    feature_style = ET.SubElement(user, f"{{{SLD}}}FeatureTypeStyle")
    classes = legend.classes(lang)
    for value, label, colour in classes:
        _rule(feature_style, legend, label, colour, value)
    fallback = legend.style.stale_color if classes else legend.style.color
    label = OTHER_LABEL.pick(lang) if classes else legend.title.pick(lang)
    _rule(feature_style, legend, label, fallback, None)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def source_legend(source: ExportSource) -> Legend:
    """Return the legend of an export source."""
    return Legend(
        source.name, source.title, source.geometry, source.style, source.style_attribute, source.labels
    )
