"""The agent state bar: status pill, time in state / wrap-up timer, state buttons."""

from __future__ import annotations

from PyQt5.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QWidget,
)

from desktop.viewmodels.desktop import DesktopModel, consume
from desktop.widgets.style import STATUS_COLOURS


class AgentStateBar(QFrame):
    def __init__(self, model: DesktopModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("stateBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        layout.setSpacing(10)

        brand = QLabel("CTI Desktop")
        brand.setObjectName("brandLabel")
        layout.addWidget(brand)
        layout.addSpacing(16)
        self.status = QLabel()
        self.status.setObjectName("stateStatus")
        layout.addWidget(self.status)
        self.detail = QLabel()
        self.detail.setObjectName("stateDetail")
        layout.addWidget(self.detail)
        self.timer = QLabel()
        self.timer.setObjectName("stateTimer")
        layout.addWidget(self.timer)
        layout.addStretch(1)

        self.ready = QPushButton("Ready")
        self.ready.setObjectName("readyButton")
        self.ready.clicked.connect(lambda: consume(model.set_ready()))
        layout.addWidget(self.ready)
        self.not_ready = QToolButton()
        self.not_ready.setObjectName("notReadyButton")
        self.not_ready.setText("Not ready ▾")
        self.not_ready.setPopupMode(QToolButton.InstantPopup)
        self.reason_menu = QMenu(self.not_ready)
        self.reason_menu.setObjectName("reasonMenu")
        self.not_ready.setMenu(self.reason_menu)
        layout.addWidget(self.not_ready)
        self.wrap_up_done = QPushButton("Wrap-up done")
        self.wrap_up_done.setObjectName("wrapUpDoneButton")
        self.wrap_up_done.clicked.connect(lambda: consume(model.wrap_up_done()))
        layout.addWidget(self.wrap_up_done)
        layout.addSpacing(16)
        self.user = QLabel()
        self.user.setObjectName("userLabel")
        layout.addWidget(self.user)
        self.connection = QLabel()
        self.connection.setObjectName("connectionLabel")
        layout.addWidget(self.connection)

        model.agent_state.changed.connect(self.refresh, owner=self)
        model.session_changed.connect(self.refresh, owner=self)
        model.status_changed.connect(lambda status, detail: self.refresh(), owner=self)
        self.refresh()

    def _fill_reasons(self) -> None:
        self.reason_menu.clear()
        reasons = self.model.agent_state.reasons or [{"code": "", "label": "No reason"}]
        for reason in reasons:
            action = self.reason_menu.addAction(reason.get("label") or reason["code"])
            action.setObjectName(f"reason_{reason['code']}")
            code = reason["code"] or None
            action.triggered.connect(lambda _=False, c=code: consume(self.model.set_not_ready(c)))

    def refresh(self) -> None:
        bar = self.model.agent_state
        self.status.setText(bar.status_label())
        colour = STATUS_COLOURS.get(bar.status, "#9aa3ad")
        self.status.setStyleSheet(f"background: {colour};")
        self.detail.setText(bar.state_label())
        self.ready.setEnabled(bar.can("ready"))
        self.not_ready.setEnabled(bar.can("not_ready"))
        self.wrap_up_done.setVisible(bar.can("wrap_up_done"))
        if len(self.reason_menu.actions()) != max(1, len(bar.reasons)):
            self._fill_reasons()
        session = self.model.session or {}
        who = session.get("user") or ""
        if session.get("extension"):
            who += f" @ {session['extension']}"
        self.user.setText(who)
        state = self.model.connection
        text = {"connected": "● Online", "reconnecting": "● Reconnecting…",
                "connecting": "● Connecting…"}.get(state, "● Offline")
        colour = {"connected": "#5fd38d", "reconnecting": "#f0c05a"}.get(state, "#9aa3ad")
        self.connection.setText(text)
        self.connection.setStyleSheet(f"color: {colour};")
        self.connection.setToolTip(self.model.connection_detail)
        self.tick()

    def tick(self) -> None:
        bar = self.model.agent_state
        wrap = bar.wrap_up_elapsed()
        prefix = "Wrap-up " if wrap is not None else ""
        self.timer.setText(prefix + bar.elapsed_text())
