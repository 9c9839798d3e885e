"""The call panel: current calls, call-control buttons, number entry and dial pad."""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.agent_state import label
from desktop.viewmodels.desktop import DesktopModel, consume
from desktop.viewmodels.timefmt import format_duration
from desktop.widgets.common import fill_table, make_table, selected_key
from desktop.widgets.style import CALL_STATE_COLOURS

BUTTONS = (
    ("answer", "Answer"), ("hangup", "Hang up"), ("hold", "Hold"), ("retrieve", "Retrieve"),
    ("consult", "Consult"), ("transfer", "Transfer"), ("conference", "Conference"),
    ("alternate", "Alternate"),
)
KEYS = "123456789*0#"


class CallsPanel(QGroupBox):
    def __init__(self, model: DesktopModel, parent: QWidget | None = None) -> None:
        super().__init__("Calls", parent)
        self.model = model
        self.setObjectName("callsPanel")
        layout = QVBoxLayout(self)

        self.table = make_table("callsTable", ["Number", "Customer", "State", "Time"], stretch=1)
        self.table.setMinimumHeight(110)
        self.table.itemSelectionChanged.connect(self._selected)
        layout.addWidget(self.table)

        grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        for index, (action, text) in enumerate(BUTTONS):
            button = QPushButton(text)
            button.setObjectName(f"{action}Button")
            button.clicked.connect(lambda _=False, a=action: self.act(a))
            grid.addWidget(button, index // 4, index % 4)
            self.buttons[action] = button
        layout.addLayout(grid)

        entry = QHBoxLayout()
        self.number = QLineEdit()
        self.number.setObjectName("dialNumber")
        self.number.setPlaceholderText("Number to dial, consult or transfer to")
        self.number.returnPressed.connect(self.dial)
        entry.addWidget(self.number, 1)
        self.dial_button = QPushButton("Dial")
        self.dial_button.setObjectName("dialButton")
        self.dial_button.clicked.connect(self.dial)
        entry.addWidget(self.dial_button)
        layout.addLayout(entry)

        pad = QGridLayout()
        pad.setSpacing(4)
        for index, key in enumerate(KEYS):
            button = QPushButton(key)
            button.setObjectName(f"dialPad_{'star' if key == '*' else 'hash' if key == '#' else key}")
            button.setProperty("dialpad", True)
            button.clicked.connect(lambda _=False, k=key: self.key(k))
            pad.addWidget(button, index // 3, index % 3)
        layout.addLayout(pad)

        model.calls.changed.connect(self.refresh, owner=self)
        model.pop.changed.connect(self.refresh, owner=self)
        self.refresh()

    # -- user actions --------------------------------------------------------------------------

    def act(self, action: str) -> None:
        model = self.model
        target = self.number.text().strip()
        if action == "consult":
            if not target:
                model._report("enter the number to consult in the number field")
                return
            consume(model.consult(target))
            self.number.clear()
        else:
            consume(getattr(model, action)())

    def dial(self) -> None:
        consume(self.model.dial(self.number.text()))
        self.number.clear()

    def key(self, key: str) -> None:
        """Digits go to the connected call as DTMF, otherwise into the number field."""
        if "dtmf" in self.model.calls.enabled_actions():
            consume(self.model.dtmf(key))
        else:
            self.number.insert(key)

    def _selected(self) -> None:
        key = selected_key(self.table)
        if key != self.model.calls.selected:
            self.model.calls.select(key)

    # -- display -------------------------------------------------------------------------------

    def refresh(self) -> None:
        calls = self.model.calls
        mine = calls.my_calls()
        rows, keys, colours = [], [], {}
        for r, call in enumerate(mine):
            state = calls.my_state(call) or ""
            customer = ""
            if self.model.pop.matches(str(call["call_id"])):
                customer = self.model.pop.display_name()
            rows.append([calls.other_party(call), customer, label({}, state),
                         format_duration(calls.duration(call))])
            keys.append(str(call["call_id"]))
            colours[(r, 2)] = CALL_STATE_COLOURS.get(state, "#1d2733")
        self.table.blockSignals(True)
        fill_table(self.table, rows, keys, colours)
        self.table.blockSignals(False)
        enabled = calls.enabled_actions()
        if any(calls.my_state(call) == "alerting" for call in mine):
            enabled.add("answer")
        for action, button in self.buttons.items():
            button.setEnabled(action in enabled)

    def tick(self) -> None:
        calls = self.model.calls
        for r, call in enumerate(calls.my_calls()):
            item = self.table.item(r, 3)
            if item is not None:
                item.setText(format_duration(calls.duration(call)))

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.text() and event.text() in KEYS and not self.number.hasFocus():
            self.key(event.text())
            return
        if event.key() == Qt.Key_Escape:
            self.number.clear()
            return
        super().keyPressEvent(event)
