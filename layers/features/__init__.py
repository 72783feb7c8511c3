"""Features: pages and single features, queryables, CQL2, editing, imports' upserts, extents."""
