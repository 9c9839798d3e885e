"""Column types that mean the same thing on SQLite and MySQL/MariaDB.

Times are stored as naive UTC (field-notes.md) with microseconds: MySQL's plain DATETIME drops
them, so the MySQL dialect gets DATETIME(fsp=6). Callers may pass aware datetimes in any zone or
naive ones meaning UTC; they always get aware UTC back, so nobody has to guess a row's zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, stored as naive UTC with microseconds, read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """The current time as aware UTC (the db layer is the one place allowed to read the clock
    for bookkeeping columns such as created_at)."""
    return datetime.now(UTC)
