"""Basemap and raster sources (rasterio), served as tiles by api/."""
