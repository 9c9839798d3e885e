"""The address book (GET /directory): search as you type, dial what was picked."""

from __future__ import annotations

from typing import Any

from desktop.viewmodels.observable import Signal

KIND_ORDER = {"agent": 0, "extension": 1, "speed_dial": 2}


class AddressBookModel:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.query = ""
        self.changed = Signal()

    def set_entries(self, entries: list[dict[str, Any]]) -> None:
        valid = [e for e in entries if e.get("number")]
        self.entries = sorted(
            valid, key=lambda e: (KIND_ORDER.get(e.get("kind", ""), 9), str(e.get("name", "")).lower())
        )
        self.changed.emit()

    def search(self, text: str) -> None:
        self.query = text.strip()
        self.changed.emit()

    def filtered(self) -> list[dict[str, Any]]:
        """Entries whose name or number contains every word of the query (any case)."""
        words = self.query.lower().split()
        if not words:
            return list(self.entries)
        hits = []
        for entry in self.entries:
            haystack = f"{entry.get('name', '')} {entry.get('number', '')}".lower()
            digits = "".join(ch for ch in haystack if ch.isdigit())
            if all(w in haystack or (w.isdigit() and w in digits) for w in words):
                hits.append(entry)
        return hits

    def number_at(self, row: int) -> str | None:
        rows = self.filtered()
        return str(rows[row]["number"]) if 0 <= row < len(rows) else None
