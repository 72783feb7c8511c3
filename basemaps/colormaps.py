"""Colour maps of the raster sources (a DEM ramp, flood-hazard classes) and the legends that explain them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

RGBA = tuple[int, int, int, int]
LUT_SIZE = 256


@dataclass(frozen=True, slots=True)
class Label:
    """A legend text in Indonesian (default) and English."""

    id: str
    en: str

    def pick(self, lang: str) -> str:
        """Return the text in `lang`, falling back to Indonesian."""
        return self.en if lang == "en" else self.id


@dataclass(frozen=True, slots=True)
class Swatch:
    """One legend entry: a value, its colour and opacity, and what it means."""

    value: float
    color: str  # "#rrggbb"
    label: Label
    opacity: float = 1.0

    def rgba(self) -> RGBA:
        """Return the colour as 8-bit RGBA."""
        red, green, blue = (int(self.color[i : i + 2], 16) for i in (1, 3, 5))
        return red, green, blue, round(self.opacity * 255)

    def as_json(self, lang: str) -> dict[str, Any]:
        """Return the entry for a legend document."""
        return {
            "value": self.value,
            "color": self.color,
            "opacity": self.opacity,
            "label": self.label.pick(lang),
        }


@dataclass(frozen=True, slots=True)
class Legend:
    """How to read a rendered raster: a continuous ramp between stops, or discrete classes."""

    type: Literal["ramp", "classes"]
    unit: str
    title: Label
    entries: tuple[Swatch, ...]

    def as_json(self, lang: str) -> dict[str, Any]:
        """Return the legend in `lang`."""
        return {
            "type": self.type,
            "title": self.title.pick(lang),
            "unit": self.unit,
            "entries": [entry.as_json(lang) for entry in self.entries],
        }

    @property
    def value_range(self) -> tuple[float, float]:
        """Return the lowest and highest value the legend spans."""
        return self.entries[0].value, self.entries[-1].value

    def ramp_lut(self) -> dict[int, RGBA]:
        """Return a 256-entry colour table over `value_range`, interpolated linearly between the stops."""
        low, high = self.value_range
        values = np.linspace(low, high, LUT_SIZE)
        stops = np.array([entry.value for entry in self.entries])
        channels = np.array([entry.rgba() for entry in self.entries], dtype=np.float64)
        table = np.column_stack([np.interp(values, stops, channels[:, c]) for c in range(4)])
        return {i: (int(r), int(g), int(b), int(a)) for i, (r, g, b, a) in enumerate(np.rint(table))}

    def class_colors(self) -> dict[int, RGBA]:
        """Return the colour of each class value."""
        return {int(entry.value): entry.rgba() for entry in self.entries}

    def label_of(self, value: float | None, lang: str) -> str | None:
        """Return the label of a class value, or None for a ramp or an unknown class."""
        if self.type != "classes" or value is None:
            return None
        return next((e.label.pick(lang) for e in self.entries if e.value == value), None)


def _metres(value: float, color: str) -> Swatch:
    return Swatch(value, color, Label(f"{value:g} m", f"{value:g} m"))


DEM_LEGEND = Legend(
    type="ramp",
    unit="m",
    title=Label("Ketinggian", "Elevation"),
    entries=(
        _metres(0, "#4c9a5a"),
        _metres(50, "#8cc06b"),
        _metres(150, "#cfe0a0"),
        _metres(300, "#f3e4a8"),
        _metres(500, "#e0bb7d"),
        _metres(750, "#b98b5e"),
        _metres(1050, "#f4efe9"),
    ),
)

FLOOD_HAZARD_LEGEND = Legend(
    type="classes",
    unit="class",
    title=Label("Bahaya banjir", "Flood hazard"),
    entries=(
        Swatch(0, "#ffffff", Label("Tidak ada", "None"), opacity=0.0),
        Swatch(1, "#fed976", Label("Rendah", "Low"), opacity=0.65),
        Swatch(2, "#fd8d3c", Label("Sedang", "Medium"), opacity=0.75),
        Swatch(3, "#d7301f", Label("Tinggi", "High"), opacity=0.85),
    ),
)


def grey_legend(low: float, high: float, unit: str) -> Legend:
    """Return a black-to-white ramp for a raster kind without a colour map of its own."""
    if not high > low:
        high = low + 1.0
    return Legend(
        type="ramp",
        unit=unit,
        title=Label("Nilai", "Value"),
        entries=(
            Swatch(low, "#000000", Label(f"{low:g} {unit}", f"{low:g} {unit}")),
            Swatch(high, "#ffffff", Label(f"{high:g} {unit}", f"{high:g} {unit}")),
        ),
    )


LEGENDS: Mapping[str, Legend] = {"dem": DEM_LEGEND, "flood_hazard": FLOOD_HAZARD_LEGEND}
