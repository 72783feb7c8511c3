"""The city agencies (OPD) that own layers and hold roles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from layers.catalog.spec import Titles


@dataclass(frozen=True, slots=True)
class Agency:
    """One OPD of the city."""

    code: str
    name: Titles


def _index(*agencies: Agency) -> Mapping[str, Agency]:
    return {a.code: a for a in agencies}


AGENCIES: Mapping[str, Agency] = _index(
    Agency(
        "kominfo", Titles("Dinas Komunikasi, Informatika dan Persandian", "Communication and Informatics")
    ),
    Agency("dlhp", Titles("Dinas Lingkungan Hidup dan Persampahan", "Environment and Waste Management")),
    Agency("pupr", Titles("Dinas Pekerjaan Umum dan Penataan Ruang", "Public Works and Spatial Planning")),
    Agency("bpbd", Titles("Badan Penanggulangan Bencana Daerah", "Regional Disaster Management Agency")),
    Agency("bpprd", Titles("Badan Pengelola Pajak dan Retribusi Daerah", "Regional Tax and Levy Agency")),
    Agency("dishub", Titles("Dinas Perhubungan", "Transport")),
    Agency("satpolpp", Titles("Satuan Polisi Pamong Praja", "Public Order Agency")),
    Agency("disperindag", Titles("Dinas Perindustrian dan Perdagangan", "Industry and Trade")),
)
