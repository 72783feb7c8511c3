"""Vector tiles: MVT built by PostGIS, the tile cache, which tiles a change touches, map styles."""
