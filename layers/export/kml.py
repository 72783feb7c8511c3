"""KML export streamed from PostGIS (ST_AsKML): typed SchemaData and one coloured style per status."""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import Connection

from geo.kinds import GeometryKind
from layers.export.qml import source_legend
from layers.export.rows import ExportSource, GeomEncoding, stream_rows
from layers.export.values import json_value

_KML_TYPES = {
    "string": "string",
    "number": "double",
    "integer": "int",
    "boolean": "bool",
    "datetime": "string",
}
OTHER_STYLE = "other"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def kml_colour(colour: str, alpha: float = 1.0) -> str:
    """Return KML's aabbggrr for a "#rrggbb" colour."""
    value = colour.lstrip("#")
    return f"{round(alpha * 255):02x}{value[4:6]}{value[2:4]}{value[0:2]}"


def _style(style_id: str, source: ExportSource, colour: str) -> str:
    style = source.style
    if source.geometry is GeometryKind.POINT:
        body = (
            f"<IconStyle><color>{kml_colour(colour)}</color><scale>{style.radius / 5:g}</scale></IconStyle>"
        )
    else:
        fill = kml_colour(colour, style.fill_opacity)
        body = (
            f"<LineStyle><color>{kml_colour(colour)}</color><width>{style.line_width:g}</width></LineStyle>"
        )
        body += f"<PolyStyle><color>{fill}</color></PolyStyle>"
    return f"<Style id={quoteattr(style_id)}>{body}</Style>\n"


def _head(source: ExportSource, lang: str) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>\n']
    out.append(f"<name>{escape(source.title.pick(lang))}</name>\n")
    out.append(f"<description>{escape(source.description.pick(lang))}</description>\n")
    out.append(f"<Schema name={quoteattr(source.name)} id={quoteattr(source.name)}>\n")
    for column in source.columns:
        out.append(f'<SimpleField name={quoteattr(column.name)} type="{_KML_TYPES[column.kind]}"/>\n')
    out.append("</Schema>\n")
    for value, _, colour in source_legend(source).classes(lang):
        out.append(_style(value, source, colour))
    out.append(
        _style(
            OTHER_STYLE, source, source.style.stale_color if source.style_attribute else source.style.color
        )
    )
    out.append(f"<Folder><name>{escape(source.title.pick(lang))}</name>\n")
    return "".join(out)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return escape(_NOT_XML.sub("", str(json_value(value))))


def _placemark(source: ExportSource, row: tuple[object, ...], names: list[str], keyed: set[str]) -> str:
    values = dict(zip(names, row[1 : len(names) + 1], strict=True))
    key = values.get(source.style_attribute or "")
    style = key if isinstance(key, str) and key in keyed else OTHER_STYLE
    data = "".join(
        f"<SimpleData name={quoteattr(n)}>{_text(v)}</SimpleData>" for n, v in values.items() if v is not None
    )
    name = _text(values.get("name") or row[0])
    return (
        f'<Placemark id="f{row[0]}"><name>{name}</name><styleUrl>#{style}</styleUrl>'
        f'<ExtendedData><SchemaData schemaUrl="#{source.name}">{data}</SchemaData></ExtendedData>'
        f"{row[len(names) + 1]}</Placemark>\n"
    )


def kml_chunks(conn: Connection, source: ExportSource, lang: str = "id") -> Iterator[bytes]:
    """Yield a KML document (WGS 84) as UTF-8 bytes, one chunk of placemarks at a time.

    The head waits for the first rows; a stream cut short lacks the closing tags and does not parse.
    """
    lead = _head(source, lang)
    names = [c.name for c in source.columns]
    keyed = set(source.style.by_status) if source.style_attribute else set()
    for rows in stream_rows(conn, source.statement(GeomEncoding.KML)):
        yield (lead + "".join(_placemark(source, tuple(row), names, keyed) for row in rows)).encode("utf-8")
        lead = ""
    yield (lead + "</Folder></Document></kml>\n").encode("utf-8")
