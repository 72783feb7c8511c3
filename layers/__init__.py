"""The layer catalog and all database access: models, queries, tiles, analyses."""
