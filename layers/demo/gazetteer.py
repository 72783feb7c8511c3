"""Hand-chosen places of the demo city: district and village names, settlement seeds, river courses.

The names are real places of Kota Ambon; coordinates are approximate and every boundary drawn from
them is synthetic. Codes follow the Kemendagri pattern (81.71 is Kota Ambon; villages 1xxx are
kelurahan, 2xxx desa/negeri). Populations are rounded, illustrative figures.
"""

from __future__ import annotations

from dataclasses import dataclass

LonLat = tuple[float, float]


@dataclass(frozen=True, slots=True)
class DistrictSeed:
    """A kecamatan: its code, name, population and a few street names for addresses."""

    code: str
    name: str
    population: int
    streets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VillageSeed:
    """A kelurahan, desa or negeri; its Voronoi cells grow from `seeds` (the first is the settlement)."""

    name: str
    kind: str
    district_code: str
    weight: float  # share of the district's population, relative to its neighbours
    seeds: tuple[LonLat, ...]


@dataclass(frozen=True, slots=True)
class RiverSeed:
    """A river: waypoints from its source to the coast near its mouth, and how many gauges it has."""

    code: str
    name: str
    waypoints: tuple[LonLat, ...]
    stations: int


DISTRICTS: tuple[DistrictSeed, ...] = (
    DistrictSeed(
        "81.71.01",
        "Nusaniwe",
        95_000,
        (
            "Jl. Dr. Kayadoe",
            "Jl. Kapitan Ulupaha",
            "Jl. Pattimura",
            "Jl. Dr. Tamaela",
            "Jl. Benteng Atas",
            "Jl. Mangga Dua",
            "Jl. Raya Amahusu",
            "Jl. Raya Latuhalat",
            "Jl. Sultan Hasanudin",
        ),
    ),
    DistrictSeed(
        "81.71.02",
        "Sirimau",
        140_000,
        (
            "Jl. A.Y. Patty",
            "Jl. Sultan Hairun",
            "Jl. Diponegoro",
            "Jl. Sam Ratulangi",
            "Jl. Said Perintah",
            "Jl. Anthoni Rhebok",
            "Jl. Rijali",
            "Jl. Dr. Sitanala",
            "Jl. Jenderal Sudirman",
            "Jl. Philip Latumahina",
            "Jl. Christina Martha Tiahahu",
            "Jl. Yos Sudarso",
            "Jl. Pantai Mardika",
            "Jl. Tulukabessy",
            "Jl. Dr. Malaihollo",
        ),
    ),
    DistrictSeed(
        "81.71.03",
        "Teluk Ambon Baguala",
        60_000,
        (
            "Jl. Laksdya Leo Wattimena",
            "Jl. Wolter Monginsidi",
            "Jl. Raya Passo",
            "Jl. Lateri Indah",
            "Jl. Halong Atas",
            "Jl. Raya Waiheru",
            "Jl. Raya Nania",
        ),
    ),
    DistrictSeed(
        "81.71.04",
        "Teluk Ambon",
        40_000,
        (
            "Jl. Ir. M. Putuhena",
            "Jl. Dr. J. Leimena",
            "Jl. Laksdya Leo Wattimena",
            "Jl. Raya Laha",
            "Jl. Raya Poka",
            "Jl. Raya Tawiri",
            "Jl. Raya Wayame",
        ),
    ),
    DistrictSeed(
        "81.71.05",
        "Leitimur Selatan",
        12_000,
        (
            "Jl. Raya Hutumuri",
            "Jl. Soya Naku",
            "Jl. Raya Hukurila",
            "Jl. Raya Ema",
            "Jl. Raya Rutong",
            "Jl. Raya Leahari",
        ),
    ),
)

_NSW, _SRM, _TAB, _TA, _LS = (d.code for d in DISTRICTS)
_K, _D, _N = "kelurahan", "desa", "negeri"

VILLAGES: tuple[VillageSeed, ...] = (
    # Nusaniwe: the western Leitimur shore and its hills down to Latuhalat at the south-west cape.
    VillageSeed("Benteng", _K, _NSW, 3.0, ((128.1575, -3.7085),)),
    VillageSeed("Silale", _K, _NSW, 1.5, ((128.1655, -3.7040),)),
    VillageSeed("Waihaong", _K, _NSW, 2.0, ((128.1725, -3.7045),)),
    VillageSeed("Wainitu", _K, _NSW, 2.0, ((128.1700, -3.7095),)),
    VillageSeed("Mangga Dua", _K, _NSW, 1.5, ((128.1765, -3.7085),)),
    VillageSeed("Kudamati", _K, _NSW, 2.5, ((128.1650, -3.7130),)),
    VillageSeed("Nusaniwe", _K, _NSW, 1.5, ((128.1505, -3.7160),)),
    VillageSeed("Urimessing", _K, _NSW, 1.5, ((128.1600, -3.7200),)),
    VillageSeed("Urimessing", _N, _NSW, 1.5, ((128.1720, -3.7290), (128.1830, -3.7440))),
    VillageSeed("Seilale", _N, _NSW, 0.8, ((128.1450, -3.7240),)),
    VillageSeed("Amahusu", _N, _NSW, 1.2, ((128.1370, -3.7370), (128.1560, -3.7380))),
    VillageSeed("Nusaniwe", _N, _NSW, 1.0, ((128.1260, -3.7620), (128.1500, -3.7560))),
    VillageSeed("Latuhalat", _N, _NSW, 1.3, ((128.1000, -3.7840), (128.1200, -3.7740))),
    # Sirimau: the old town on the bay, Batu Merah, and Soya in the hills behind.
    VillageSeed("Honipopu", _K, _SRM, 0.8, ((128.1810, -3.6925),)),
    VillageSeed("Uritetu", _K, _SRM, 1.0, ((128.1775, -3.6975),)),
    VillageSeed("Ahusen", _K, _SRM, 0.8, ((128.1815, -3.6985),)),
    VillageSeed("Rijali", _K, _SRM, 1.0, ((128.1855, -3.6900),)),
    VillageSeed("Amantelu", _K, _SRM, 1.0, ((128.1870, -3.6955),)),
    VillageSeed("Waihoka", _K, _SRM, 1.0, ((128.1925, -3.6905),)),
    VillageSeed("Batu Gajah", _K, _SRM, 1.2, ((128.1790, -3.7040),)),
    VillageSeed("Batu Meja", _K, _SRM, 1.0, ((128.1845, -3.7015),)),
    VillageSeed("Karang Panjang", _K, _SRM, 1.2, ((128.1910, -3.7020),)),
    VillageSeed("Pandan Kasturi", _K, _SRM, 1.0, ((128.1890, -3.6830),)),
    VillageSeed("Batu Merah", _N, _SRM, 6.0, ((128.1990, -3.6850), (128.2120, -3.6880), (128.2330, -3.6820))),
    VillageSeed("Hative Kecil", _N, _SRM, 1.0, ((128.1960, -3.6725), (128.2100, -3.6760))),
    VillageSeed("Galala", _N, _SRM, 0.8, ((128.2005, -3.6670),)),
    VillageSeed(
        "Soya",
        _N,
        _SRM,
        1.0,
        ((128.2030, -3.7100), (128.2200, -3.7010), (128.2440, -3.6980), (128.2600, -3.6900)),
    ),
    # Teluk Ambon Baguala: both shores of the inner bay's east end and the Passo isthmus.
    VillageSeed("Halong", _N, _TAB, 1.5, ((128.2110, -3.6625), (128.2240, -3.6720))),
    VillageSeed("Latta", _D, _TAB, 0.8, ((128.2200, -3.6610),)),
    VillageSeed("Lateri", _K, _TAB, 1.0, ((128.2330, -3.6560), (128.2450, -3.6680), (128.2530, -3.6800))),
    VillageSeed("Passo", _N, _TAB, 2.5, ((128.2500, -3.6400), (128.2650, -3.6500), (128.2820, -3.6620))),
    VillageSeed("Negeri Lama", _D, _TAB, 0.8, ((128.2470, -3.6260),)),
    VillageSeed("Nania", _D, _TAB, 0.8, ((128.2350, -3.6200),)),
    VillageSeed("Waiheru", _D, _TAB, 1.0, ((128.2210, -3.6250), (128.2250, -3.6080))),
    # Teluk Ambon: the Leihitu shore of the outer bay from Poka west to Laha and the airport.
    VillageSeed("Hunuth", _D, _TA, 0.7, ((128.2060, -3.6260), (128.2050, -3.6080))),
    VillageSeed("Poka", _D, _TA, 1.0, ((128.1890, -3.6480),)),
    VillageSeed("Rumah Tiga", _N, _TA, 1.3, ((128.1780, -3.6470), (128.1850, -3.6250))),
    VillageSeed("Wayame", _D, _TA, 0.9, ((128.1670, -3.6580), (128.1620, -3.6400))),
    VillageSeed("Hative Besar", _N, _TA, 1.0, ((128.1450, -3.6660), (128.1420, -3.6450))),
    VillageSeed("Tihu", _K, _TA, 0.6, ((128.1280, -3.6770),)),
    VillageSeed("Tawiri", _N, _TA, 0.9, ((128.1130, -3.6850), (128.1200, -3.6600))),
    VillageSeed("Laha", _N, _TA, 1.2, ((128.0930, -3.7050), (128.0950, -3.6850))),
    # Leitimur Selatan: the south and south-east coast and the mountain villages behind it.
    VillageSeed("Hutumuri", _N, _LS, 2.0, ((128.2830, -3.6900), (128.2700, -3.6800))),
    VillageSeed("Rutong", _N, _LS, 1.0, ((128.2600, -3.7180),)),
    VillageSeed("Leahari", _N, _LS, 0.8, ((128.2420, -3.7320),)),
    VillageSeed("Hukurila", _N, _LS, 0.9, ((128.2150, -3.7410),)),
    VillageSeed("Ema", _N, _LS, 0.9, ((128.2300, -3.7220),)),
    VillageSeed("Hatalai", _N, _LS, 0.7, ((128.2180, -3.7140),)),
    VillageSeed("Naku", _N, _LS, 0.7, ((128.2080, -3.7280),)),
    VillageSeed("Kilang", _N, _LS, 0.9, ((128.2010, -3.7370),)),
)

# The Passo isthmus: the line between the inner bay and Baguala Bay that parts Leitimur from Leihitu.
ISTHMUS: tuple[LonLat, LonLat] = ((128.2420, -3.6405), (128.2585, -3.6295))

# Kota Ambon on the Leihitu side: the outer bay's north shore up to the hills, closed through the water.
LEIHITU_LIMIT: tuple[LonLat, ...] = (
    (128.0700, -3.7600),
    (128.0740, -3.7150),
    (128.0820, -3.6850),
    (128.1050, -3.6550),
    (128.1400, -3.6300),
    (128.1700, -3.6150),
    (128.2000, -3.6000),
    (128.2300, -3.5950),
    (128.2550, -3.6000),
    (128.2640, -3.6120),
    (128.2700, -3.6260),
    (128.3200, -3.8200),
    (128.0700, -3.8200),
)

RIVERS: tuple[RiverSeed, ...] = (
    RiverSeed(
        "WBT",
        "Wai Batu Gantung",
        ((128.1800, -3.7330), (128.1740, -3.7220), (128.1680, -3.7100), (128.1660, -3.7015)),
        2,
    ),
    RiverSeed(
        "WBJ",
        "Wai Batu Gajah",
        (
            (128.1870, -3.7300),
            (128.1845, -3.7200),
            (128.1810, -3.7120),
            (128.1770, -3.7020),
            (128.1740, -3.6989),
        ),
        2,
    ),
    RiverSeed(
        "WTM",
        "Wai Tomu",
        ((128.2050, -3.7180), (128.1950, -3.7080), (128.1860, -3.6990), (128.1788, -3.6924)),
        2,
    ),
    RiverSeed(
        "WBM",
        "Wai Batu Merah",
        (
            (128.2340, -3.7040),
            (128.2200, -3.6990),
            (128.2070, -3.6940),
            (128.1950, -3.6880),
            (128.1852, -3.6837),
        ),
        3,
    ),
    RiverSeed(
        "WRH",
        "Wai Ruhu",
        (
            (128.2400, -3.6930),
            (128.2250, -3.6880),
            (128.2120, -3.6820),
            (128.2000, -3.6780),
            (128.1919, -3.6746),
        ),
        2,
    ),
    RiverSeed(
        "WLL",
        "Wai Lela",
        ((128.2480, -3.6850), (128.2420, -3.6700), (128.2350, -3.6580), (128.2319, -3.6490)),
        2,
    ),
    RiverSeed(
        "WYR",
        "Wai Yari",
        ((128.2380, -3.6030), (128.2330, -3.6150), (128.2300, -3.6250), (128.2280, -3.6320)),
        2,
    ),
)
