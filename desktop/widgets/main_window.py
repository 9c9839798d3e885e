"""The agent's main window: state bar, incoming-call alert, calls, screen pop, directory."""

from __future__ import annotations

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (
    QLabel,
    QMainWindow,
    QShortcut,
    QSplitter,
    QStatusBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.desktop import DesktopModel
from desktop.widgets.calls_panel import CallsPanel
from desktop.widgets.directory import AddressBookWidget, CallHistoryWidget
from desktop.widgets.notification import IncomingCallAlert
from desktop.widgets.screen_pop import ScreenPop
from desktop.widgets.state_bar import AgentStateBar


class MainWindow(QMainWindow):
    """objectName "agentWindow"; children carry objectNames for test automation
    (answerButton, callsTable, customerName, saveCustomerButton, noteEdit, ...)."""

    def __init__(self, model: DesktopModel, use_tray: bool | None = None,
                 tick_ms: int = 1000) -> None:
        super().__init__()
        self.model = model
        self.setObjectName("agentWindow")
        self.setWindowTitle("CTI Desktop – Agent")
        self.resize(1360, 800)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.state_bar = AgentStateBar(model)
        layout.addWidget(self.state_bar)

        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(10, 10, 10, 10)
        self.alert = IncomingCallAlert(model, use_tray=use_tray)
        body_layout.addWidget(self.alert)
        splitter = QSplitter(Qt.Horizontal)
        splitter.setChildrenCollapsible(False)
        self.calls_panel = CallsPanel(model)
        splitter.addWidget(self.calls_panel)
        self.screen_pop = ScreenPop(model)
        self.pop_tabs = self.screen_pop.tabs
        self.customer_card = self.screen_pop.card
        splitter.addWidget(self.screen_pop)
        self.side_tabs = QTabWidget()
        self.side_tabs.setObjectName("sideTabs")
        self.address_book = AddressBookWidget(model)
        self.side_tabs.addTab(self.address_book, "Address book")
        self.history = CallHistoryWidget(model)
        self.side_tabs.addTab(self.history, "Call history")
        splitter.addWidget(self.side_tabs)
        splitter.setSizes([390, 560, 380])
        body_layout.addWidget(splitter, 1)
        layout.addWidget(body, 1)
        self.setCentralWidget(central)

        status = QStatusBar()
        status.setObjectName("statusBar")
        self.message = QLabel()
        self.message.setObjectName("statusMessage")
        status.addWidget(self.message, 1)
        self.setStatusBar(status)
        model.error.connect(self.show_error, owner=self)
        model.status_changed.connect(self._connection_changed, owner=self)

        for key, action in (("F5", "answer"), ("F6", "hangup"), ("F7", "hold"),
                            ("F8", "retrieve")):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(lambda a=action: self._shortcut(a))
        self.ticker = QTimer(self)
        self.ticker.setInterval(tick_ms)
        self.ticker.timeout.connect(self.tick)
        self.ticker.start()

    def _shortcut(self, action: str) -> None:
        """F5 answer, F6 hang up, F7 hold, F8 retrieve: only when the button would be enabled."""
        if self.calls_panel.buttons[action].isEnabled():
            self.calls_panel.act(action)

    def show_error(self, message: str) -> None:
        self.message.setText(f"⚠ {message}")
        self.message.setStyleSheet("color: #b13a31;")

    def _connection_changed(self, status: str, detail: str) -> None:
        if status == "reconnecting":
            self.message.setText(f"Connection to the server lost ({detail}); reconnecting…")
            self.message.setStyleSheet("color: #8a6100;")
        elif status == "connected":
            self.message.setText("Connected")
            self.message.setStyleSheet("color: #4a5a6c;")

    def tick(self) -> None:
        """Once a second: timers in the state bar and the calls table."""
        self.state_bar.tick()
        self.calls_panel.tick()

    closing = None
    """Called when the user closes the window (the app logs out and quits)."""

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.ticker.stop()
        super().closeEvent(event)
        if self.closing is not None:
            self.closing()
