"""Incoming-call notification: a tray balloon where the desktop has a system tray, else a
banner inside the window (offscreen and some kiosk sessions have no tray)."""

from __future__ import annotations

from typing import Any

from PyQt5.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QSystemTrayIcon,
    QWidget,
)

from desktop.viewmodels.desktop import DesktopModel, consume


class IncomingCallAlert(QFrame):
    """The in-window banner; also drives the tray icon when one is available."""

    def __init__(self, model: DesktopModel, parent: QWidget | None = None,
                 use_tray: bool | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("incomingBanner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        self.text = QLabel()
        self.text.setObjectName("incomingText")
        layout.addWidget(self.text, 1)
        self.answer = QPushButton("Answer")
        self.answer.setObjectName("bannerAnswerButton")
        self.answer.clicked.connect(self._answer)
        layout.addWidget(self.answer)
        self.tray: QSystemTrayIcon | None = None
        if use_tray is None:
            use_tray = QSystemTrayIcon.isSystemTrayAvailable()
        if use_tray:
            icon = self.style().standardIcon(QStyle.SP_MessageBoxInformation)
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.setToolTip("CTI Desktop")
            self.tray.messageClicked.connect(self._answer)
            self.tray.show()
        self.setVisible(False)
        model.notifier.changed.connect(self.show_notification, owner=self)
        self.show_notification(model.notifier.current)

    def _answer(self) -> None:
        current = self.model.notifier.current
        if current:
            consume(self.model.answer(current["call_id"]))

    def show_notification(self, notification: dict[str, Any] | None) -> None:
        notifier = self.model.notifier
        if notification is None:
            self.setVisible(False)
            return
        self.text.setText(f"☎  {notifier.title()}: {notifier.text()}")
        if self.tray is not None and self.tray.isVisible():
            self.tray.showMessage(notifier.title(), notifier.text(),
                                  QSystemTrayIcon.Information, 15000)
            self.setVisible(False)
        else:
            self.setVisible(True)
