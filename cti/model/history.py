"""The bounded history of finished calls, newest last.

Bounded because the server runs for months; the database keeps the long-term record (a listener
on "ended" calls writes it), this keeps the recent past at hand for the API and the desktop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from cti.model.calls import CallRecord


class CallHistory:
    def __init__(self, maxlen: int = 10_000) -> None:
        if maxlen < 1:
            raise ValueError(f"history size must be at least 1, not {maxlen}")
        self._records: deque[CallRecord] = deque(maxlen=maxlen)
        self.total = 0
        """Calls ever recorded, including those the bound has since pushed out."""

    @property
    def maxlen(self) -> int:
        return self._records.maxlen or 0

    def append(self, record: CallRecord) -> None:
        self._records.append(record)
        self.total += 1

    def find(self, call_id: str) -> CallRecord | None:
        """The newest finished call that had this ID, as its final ID or as an old one."""
        for record in reversed(self._records):
            if record.call_id == call_id or call_id in record.aliases:
                return record
        return None

    def recent(self, count: int) -> list[CallRecord]:
        """The last `count` finished calls, newest first."""
        out: list[CallRecord] = []
        for record in reversed(self._records):
            if len(out) >= count:
                break
            out.append(record)
        return out

    def __iter__(self) -> Iterator[CallRecord]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)
