"""Plain HTML views of API documents, for people who open a URL in a browser."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from fastapi.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title} · kendali</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}}
pre{{background:#f5f5f5;padding:1rem;overflow:auto}}</style></head>
<body><h1>{title}</h1><nav>{links}</nav>{body}</body></html>"""


def _links(doc: dict[str, Any]) -> str:
    items = [
        f'<a href="{escape(str(lk["href"]))}">{escape(str(lk.get("title") or lk["rel"]))}</a>'
        for lk in doc.get("links", [])
        if isinstance(lk, dict) and "href" in lk
    ]
    return " · ".join(items)


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>—</p>"
    columns = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(row.get(c)))}</td>" for c in columns) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def html_document(
    title: str, doc: dict[str, Any], lang: str, rows: list[dict[str, Any]] | None = None
) -> HTMLResponse:
    """Render a JSON document as a page: its links, a table of rows if given, and the JSON itself."""
    table = _table(rows) if rows is not None else ""
    pretty = escape(
        json.dumps({k: v for k, v in doc.items() if k != "features"}, indent=2, ensure_ascii=False)
    )
    body = f"{table}<details><summary>JSON</summary><pre>{pretty}</pre></details>"
    page = _PAGE.format(lang=escape(lang), title=escape(title), links=_links(doc), body=body)
    return HTMLResponse(page)
