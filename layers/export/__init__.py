"""Exports of what a caller may see: GeoPackage with QGIS styles, Shapefile, GeoJSON, CSV, XLSX, KML."""
