"""Small helpers the widgets share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QColor
from PyQt5.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem


def make_table(name: str, headers: Sequence[str], stretch: int | None = None) -> QTableWidget:
    """A read-only, row-selecting table with the product's look."""
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    table.setSelectionMode(QAbstractItemView.SingleSelection)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.setShowGrid(False)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setSectionResizeMode(QHeaderView.ResizeToContents)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.Stretch)
    else:
        header.setStretchLastSection(True)
    return table


def fill_table(table: QTableWidget, rows: Sequence[Sequence[Any]], keys: Sequence[Any] = (),
               colours: dict[tuple[int, int], str] | None = None) -> None:
    """Replace the rows, keeping the selected row selected by its key (Qt.UserRole)."""
    selected = selected_key(table)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = table.item(r, c)
            if item is None:
                item = QTableWidgetItem()
                table.setItem(r, c, item)
            item.setText("" if value is None else str(value))
            if keys:
                item.setData(Qt.UserRole, keys[r])
            colour = (colours or {}).get((r, c))
            item.setForeground(QColor(colour) if colour else QColor("#1d2733"))
    if selected is not None and keys:
        for r, key in enumerate(keys):
            if key == selected:
                if table.currentRow() != r:
                    table.selectRow(r)
                break


def selected_key(table: QTableWidget) -> Any:
    items = table.selectedItems()
    return items[0].data(Qt.UserRole) if items else None
