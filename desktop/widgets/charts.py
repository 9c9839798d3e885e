"""Bar and pie charts drawn with QPainter (PyQt5.QtChart is not always installed)."""

from __future__ import annotations

from PyQt5.QtCore import QRectF, Qt
from PyQt5.QtGui import QColor, QFont, QPainter, QPen
from PyQt5.QtWidgets import QSizePolicy, QWidget

SERIES_COLOURS = {"waiting": "#e0a526", "answered": "#2f6fc0", "abandoned": "#d0493f"}


class _Chart(QWidget):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.setMinimumSize(260, 200)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def _frame(self, painter: QPainter) -> QRectF:
        painter.setRenderHint(QPainter.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        painter.setPen(QPen(QColor("#d5dbe3")))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(QColor("#4a5a6c"))
        painter.drawText(QRectF(12, 8, self.width() - 24, 20), Qt.AlignLeft, self.title)
        painter.setFont(self.font())
        return QRectF(12, 34, self.width() - 24, self.height() - 46)

    def _empty(self, painter: QPainter, area: QRectF) -> None:
        painter.setPen(QColor("#9aa3ad"))
        painter.drawText(area, Qt.AlignCenter, "No data yet")


class BarChart(_Chart):
    """Grouped bars: one group per category, one bar per series, legend on top."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.groups: list[tuple[str, dict[str, float]]] = []
        self.series: list[str] = list(SERIES_COLOURS)

    def set_data(self, groups: list[tuple[str, dict[str, float]]]) -> None:
        self.groups = groups
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        area = self._frame(painter)
        if not self.groups:
            self._empty(painter, area)
            return
        x = area.right()
        for name in reversed(self.series):
            width = painter.fontMetrics().horizontalAdvance(name) + 26
            x -= width
            painter.fillRect(QRectF(x, 12, 10, 10), QColor(SERIES_COLOURS[name]))
            painter.setPen(QColor("#4a5a6c"))
            painter.drawText(QRectF(x + 14, 8, width, 18), Qt.AlignLeft | Qt.AlignVCenter,
                             name.capitalize())
        plot = area.adjusted(30, 6, 0, -22)
        top = max([v for _, values in self.groups for v in values.values()] + [1])
        painter.setPen(QPen(QColor("#eceff3")))
        for step in range(5):
            y = plot.bottom() - plot.height() * step / 4
            painter.drawLine(int(plot.left()), int(y), int(plot.right()), int(y))
            painter.setPen(QColor("#8593a3"))
            painter.drawText(QRectF(area.left(), y - 8, 26, 16), Qt.AlignRight | Qt.AlignVCenter,
                             f"{top * step / 4:.0f}")
            painter.setPen(QPen(QColor("#eceff3")))
        group_width = plot.width() / len(self.groups)
        bar_width = min(28.0, group_width * 0.8 / len(self.series))
        for index, (label, values) in enumerate(self.groups):
            left = plot.left() + index * group_width + (
                group_width - bar_width * len(self.series)) / 2
            for offset, name in enumerate(self.series):
                value = float(values.get(name, 0))
                height = plot.height() * value / top
                bar = QRectF(left + offset * bar_width + 1, plot.bottom() - height,
                             bar_width - 2, height)
                painter.fillRect(bar, QColor(SERIES_COLOURS[name]))
            painter.setPen(QColor("#1d2733"))
            painter.drawText(QRectF(plot.left() + index * group_width, plot.bottom() + 4,
                                    group_width, 18), Qt.AlignCenter, label)


class PieChart(_Chart):
    """Slices with a legend of label, count and share."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.slices: list[tuple[str, float, str]] = []

    def set_data(self, slices: list[tuple[str, float, str]]) -> None:
        self.slices = [s for s in slices if s[1] > 0]
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        area = self._frame(painter)
        total = sum(value for _, value, _ in self.slices)
        if not total:
            self._empty(painter, area)
            return
        size = min(area.height(), area.width() * 0.55)
        pie = QRectF(area.left() + 4, area.top() + (area.height() - size) / 2, size, size)
        angle = 90 * 16
        painter.setPen(QPen(QColor("white"), 2))
        for _, value, colour in self.slices:
            span = -int(round(360 * 16 * value / total))
            painter.setBrush(QColor(colour))
            painter.drawPie(pie, angle, span)
            angle += span
        hole = pie.adjusted(size * 0.28, size * 0.28, -size * 0.28, -size * 0.28)
        painter.setBrush(QColor("white"))
        painter.drawEllipse(hole)
        big = QFont(self.font())
        big.setPointSize(14)
        big.setBold(True)
        painter.setFont(big)
        painter.setPen(QColor("#1d2733"))
        painter.drawText(hole, Qt.AlignCenter, f"{total:.0f}")
        painter.setFont(self.font())
        x = pie.right() + 16
        y = area.top() + max(0.0, (area.height() - 22 * len(self.slices)) / 2)
        for label, value, colour in self.slices:
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor(colour))
            painter.drawRoundedRect(QRectF(x, y + 4, 12, 12), 2, 2)
            painter.setPen(QColor("#1d2733"))
            painter.drawText(QRectF(x + 18, y, area.right() - x - 18, 20),
                             Qt.AlignLeft | Qt.AlignVCenter,
                             f"{label}  {value:.0f}  ({100 * value / total:.0f}%)")
            y += 22
