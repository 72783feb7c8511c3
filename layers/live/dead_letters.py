"""Dead letters of ingest: what could not be read or stored, kept with the reason so nothing loops."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Identity,
    Index,
    Table,
    Text,
    func,
    insert,
)

from layers.tables import metadata

MAX_PAYLOAD_CHARS = 4096
MAX_TOPIC_CHARS = 1024
MAX_REASON_CHARS = 1000

ingest_dead_letters = Table(
    "ingest_dead_letters",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("source", Text, nullable=False),
    Column("topic", Text),
    Column("payload", Text, nullable=False),
    Column("reason", Text, nullable=False),
    CheckConstraint(
        "char_length(source) <= 32 AND char_length(topic) <= 1024 "
        "AND char_length(payload) <= 65536 AND char_length(reason) <= 1000",
        name="bounded",
    ),
    Index("ix_ingest_dead_letters_received_at", "received_at"),
)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that could not be read or stored, and why."""

    source: str
    topic: str | None
    payload: bytes | str
    reason: str


def _text(raw: bytes | str, limit: int) -> str:
    """Return printable text for storage: decoded leniently, NUL-free (PostgreSQL refuses it), bounded."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return text[:limit].replace("\x00", "\ufffd")


def record_dead_letters(conn: Connection, letters: Sequence[DeadLetter]) -> None:
    """Store dead letters in the caller's transaction (payloads, topics and reasons are truncated)."""
    if not letters:
        return
    rows = [
        {
            "source": letter.source[:32],
            "topic": None if letter.topic is None else _text(letter.topic, MAX_TOPIC_CHARS),
            "payload": _text(letter.payload, MAX_PAYLOAD_CHARS),
            "reason": _text(letter.reason, MAX_REASON_CHARS),
        }
        for letter in letters
    ]
    conn.execute(insert(ingest_dead_letters), rows)
