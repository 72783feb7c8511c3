"""QGIS straight on PostGIS: one typed view per layer, and read-only agency roles with row policies."""
