"""Deterministic synthetic demo city of Kota Ambon: geography, assets and status history."""
