"""Address book with search and double-click to dial, and the session's call history."""

from __future__ import annotations

from PyQt5.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from desktop.viewmodels.agent_state import label
from desktop.viewmodels.desktop import DesktopModel, consume
from desktop.viewmodels.timefmt import format_clock, format_duration
from desktop.widgets.common import fill_table, make_table


class AddressBookWidget(QWidget):
    def __init__(self, model: DesktopModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.book = model.address_book
        self.setObjectName("addressBook")
        layout = QVBoxLayout(self)
        self.search = QLineEdit()
        self.search.setObjectName("addressSearch")
        self.search.setPlaceholderText("Search name or number…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.book.search)
        layout.addWidget(self.search)
        self.table = make_table("addressTable", ["Name", "Number", "Kind"], stretch=0)
        self.table.setToolTip("Double-click to dial")
        self.table.cellDoubleClicked.connect(lambda row, _col: self.dial_row(row))
        layout.addWidget(self.table)
        self.book.changed.connect(self.refresh, owner=self)
        self.refresh()

    def dial_row(self, row: int) -> None:
        number = self.book.number_at(row)
        if number:
            consume(self.model.dial(number))

    def refresh(self) -> None:
        rows = self.book.filtered()
        fill_table(self.table, [[e.get("name", ""), e.get("number", ""),
                                 label({}, e.get("kind"))] for e in rows],
                   [e.get("number") for e in rows])


class CallHistoryWidget(QWidget):
    def __init__(self, model: DesktopModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("callHistory")
        layout = QVBoxLayout(self)
        self.table = make_table("historyTable",
                                ["Time", "", "Number", "Customer", "Duration", "Disposition"],
                                stretch=3)
        self.table.setToolTip("Double-click to call back")
        self.table.cellDoubleClicked.connect(self.call_back)
        layout.addWidget(self.table)
        model.history.changed.connect(self.refresh, owner=self)
        self.refresh()

    def call_back(self, row: int, _column: int = 0) -> None:
        entries = self.model.history.entries
        if 0 <= row < len(entries) and entries[row].get("number"):
            consume(self.model.dial(entries[row]["number"]))

    def refresh(self) -> None:
        rows = []
        for entry in self.model.history.entries:
            arrow = "↙ in" if entry["direction"] == "in" else "↗ out"
            if entry["direction"] == "in" and not entry.get("answered"):
                arrow = "✗ missed"
            rows.append([format_clock(entry["time"]), arrow, entry["number"],
                         entry.get("customer") or "",
                         format_duration(entry["duration"]) if entry.get("answered") else "",
                         label({}, entry.get("disposition"))])
        fill_table(self.table, rows)
