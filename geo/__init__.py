"""Pure spatial helpers: CRS, bbox, tile math, geometry checks. No database, no HTTP."""
