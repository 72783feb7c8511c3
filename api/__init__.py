"""FastAPI app: OGC API Features/Tiles, queries, editing, ingest push, export, auth."""
