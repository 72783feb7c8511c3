"""Word lists for the demo assets' Indonesian names, and the city's applications and offices."""

from __future__ import annotations

from dataclasses import dataclass

from layers.demo.gazetteer import LonLat

BUSINESS_WORDS: tuple[str, ...] = (
    "Sari Laut",
    "Ambon Manise",
    "Nusa Ina",
    "Siwalima",
    "Bahari",
    "Pelangi",
    "Salawaku",
    "Baileo",
    "Teluk Indah",
    "Pala",
    "Cengkeh",
    "Mutiara",
    "Lease",
    "Sederhana",
    "Sinar Pagi",
    "Kasturi",
    "Tanjung",
    "Nusantara",
    "Sumber Rejeki",
    "Harapan",
    "Bersama",
    "Sentosa",
    "Karang",
    "Bintang Timur",
    "Pantai Indah",
    "Mandiri",
    "Cahaya",
    "Jaya",
    "Damai",
    "Kenari",
    "Gandaria",
    "Kalesang",
    "Hatukau",
    "Manggurebe",
)

BUSINESS_KINDS: dict[str, tuple[str, ...]] = {
    "restoran": (
        "RM",
        "Rumah Makan",
        "Warung Makan",
        "Kedai Kopi",
        "Rumah Kopi",
        "Resto",
        "Depot",
        "Ikan Bakar",
        "Bakso",
        "Papeda",
    ),
    "hotel": ("Hotel", "Penginapan", "Wisma", "Guest House", "Homestay", "Losmen"),
    "hiburan": ("Karaoke", "Rumah Bernyanyi", "Spa", "Billiard", "Kafe Musik", "Pusat Kebugaran"),
    "parkir": ("Parkir", "Area Parkir", "Parkir Pertokoan", "Parkir Pasar"),
}

# Karaoke and spa pay the higher entertainment rate (PBJT hiburan tertentu); everything else 10%.
HIGH_RATE_KINDS: frozenset[str] = frozenset({"Karaoke", "Rumah Bernyanyi", "Spa"})

TPS_LABELS: dict[str, str] = {"tps": "TPS", "tps3r": "TPS3R", "kontainer": "Kontainer", "depo": "Depo Sampah"}

DISTRICT_ABBREVIATIONS: dict[str, str] = {
    "81.71.01": "NSW",
    "81.71.02": "SRM",
    "81.71.03": "TAB",
    "81.71.04": "TAM",
    "81.71.05": "LTS",
}


@dataclass(frozen=True, slots=True)
class CityApp:
    """A city application and the agency that runs it."""

    code: str
    name: str
    agency: str


CITY_APPS: tuple[CityApp, ...] = (
    CityApp("simak", "SIMAK Kota Ambon", "kominfo"),
    CityApp("simdatik", "SIMDATIK (Sistem Informasi Data Statistik)", "kominfo"),
    CityApp("sipd", "SIPD (Sistem Informasi Pemerintahan Daerah)", "kominfo"),
    CityApp("e-kinerja", "e-Kinerja ASN", "kominfo"),
    CityApp("simpeg", "SIMPEG (Sistem Informasi Manajemen Kepegawaian)", "kominfo"),
    CityApp("ambon-smart-city", "Portal Ambon Smart City", "kominfo"),
    CityApp("e-retribusi", "e-Retribusi Daerah", "bpprd"),
    CityApp("lapor", "LAPOR! (Layanan Aspirasi dan Pengaduan Online Rakyat)", "kominfo"),
    CityApp("jdih", "JDIH Kota Ambon (Jaringan Dokumentasi dan Informasi Hukum)", "kominfo"),
    CityApp("ppid", "PPID Kota Ambon (Pejabat Pengelola Informasi dan Dokumentasi)", "kominfo"),
)

# Agency offices in the old town; approximate, on land.
OFFICES: dict[str, LonLat] = {
    "kominfo": (128.1823, -3.6958),
    "bpprd": (128.1868, -3.6927),
    "dlhp": (128.1795, -3.7010),
    "pupr": (128.1890, -3.6975),
    "bpbd": (128.1850, -3.7000),
    "dishub": (128.1805, -3.6940),
    "satpolpp": (128.1838, -3.6935),
    "disperindag": (128.1780, -3.6985),
}

STATION_REACHES: dict[int, tuple[str, ...]] = {
    1: ("Hilir",),
    2: ("Hulu", "Hilir"),
    3: ("Hulu", "Tengah", "Hilir"),
}
