"""The supervisor's window: KPI tiles, agents and queues tables, bar and pie charts,
listen / whisper / barge on the selected agent's call."""

from __future__ import annotations

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.desktop import DesktopModel, consume
from desktop.viewmodels.supervisor import STATE_COLOURS
from desktop.viewmodels.timefmt import format_duration
from desktop.widgets.charts import BarChart, PieChart
from desktop.widgets.common import fill_table, make_table, selected_key

MONITOR_MODES = (("listen", "Listen"), ("whisper", "Whisper"), ("barge", "Barge in"))


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * float(value):.0f}%"


class _Tile(QFrame):
    def __init__(self, name: str, caption: str) -> None:
        super().__init__()
        self.setProperty("tile", True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        self.value = QLabel("–")
        self.value.setObjectName(name)
        self.value.setProperty("tileValue", True)
        layout.addWidget(self.value)
        text = QLabel(caption)
        text.setProperty("tileCaption", True)
        layout.addWidget(text)


class SupervisorWindow(QMainWindow):
    """objectName "supervisorWindow"; agentsTable, queuesTable, queueBarChart, agentPieChart,
    listenButton / whisperButton / bargeButton."""

    def __init__(self, model: DesktopModel, tick_ms: int = 1000) -> None:
        super().__init__()
        self.model = model
        self.board = model.supervisor
        self.setObjectName("supervisorWindow")
        self.setWindowTitle("CTI Desktop – Supervisor")
        self.resize(1360, 820)

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        header = QFrame()
        header.setObjectName("stateBar")
        header_layout = QHBoxLayout(header)
        header_layout.setContentsMargins(14, 10, 14, 10)
        brand = QLabel("CTI Desktop – Supervisor")
        brand.setObjectName("brandLabel")
        header_layout.addWidget(brand)
        header_layout.addStretch(1)
        self.user = QLabel()
        self.user.setObjectName("userLabel")
        header_layout.addWidget(self.user)
        self.connection = QLabel()
        self.connection.setObjectName("connectionLabel")
        header_layout.addWidget(self.connection)
        outer.addWidget(header)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(10, 10, 10, 10)
        outer.addWidget(body, 1)

        tiles = QHBoxLayout()
        self.tiles = {}
        for name, caption in (("tileLoggedOn", "Agents logged on"), ("tileReady", "Ready"),
                              ("tileInCall", "In call"), ("tileWaiting", "Callers waiting"),
                              ("tileLongest", "Longest wait"),
                              ("tileServiceLevel", "Service level")):
            tile = _Tile(name, caption)
            self.tiles[name] = tile.value
            tiles.addWidget(tile)
        layout.addLayout(tiles)

        splitter = QSplitter(Qt.Vertical)
        tables = QWidget()
        tables_layout = QHBoxLayout(tables)
        tables_layout.setContentsMargins(0, 0, 0, 0)
        agents_box = QGroupBox("Agents")
        agents_layout = QVBoxLayout(agents_box)
        self.agents = make_table("agentsTable", ["ID", "Name", "Ext.", "Status", "State",
                                                 "In state", "Calls"], stretch=1)
        self.agents.itemSelectionChanged.connect(self._agent_selected)
        agents_layout.addWidget(self.agents)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Selected agent:"))
        self.monitor_buttons = {}
        for mode, text in MONITOR_MODES:
            button = QPushButton(text)
            button.setObjectName(f"{mode}Button")
            button.clicked.connect(lambda _=False, m=mode: self.monitor(m))
            buttons.addWidget(button)
            self.monitor_buttons[mode] = button
        buttons.addStretch(1)
        self.state_buttons = {}
        for state, text in (("ready", "Make ready"), ("not_ready", "Not ready"),
                            ("logged_out", "Log out")):
            button = QPushButton(text)
            button.setObjectName(f"agent_{state}Button")
            button.clicked.connect(lambda _=False, s=state: self.set_agent_state(s))
            buttons.addWidget(button)
            self.state_buttons[state] = button
        agents_layout.addLayout(buttons)
        tables_layout.addWidget(agents_box, 3)

        queues_box = QGroupBox("Queues")
        queues_layout = QVBoxLayout(queues_box)
        self.queues = make_table("queuesTable", ["Queue", "Waiting", "Longest", "Ready", "Busy",
                                                 "SL", "Offered", "Ans.", "Aband."],
                                 stretch=0)
        queues_layout.addWidget(self.queues)
        self.callers = make_table("waitingCallersTable", ["Queue", "Caller", "Waiting", "Pos."],
                                  stretch=1)
        queues_layout.addWidget(QLabel("Waiting callers"))
        queues_layout.addWidget(self.callers)
        tables_layout.addWidget(queues_box, 3)
        splitter.addWidget(tables)

        charts = QWidget()
        charts_layout = QGridLayout(charts)
        charts_layout.setContentsMargins(0, 0, 0, 0)
        self.bar_chart = BarChart("Calls per queue")
        self.bar_chart.setObjectName("queueBarChart")
        charts_layout.addWidget(self.bar_chart, 0, 0)
        self.pie_chart = PieChart("Agents by state")
        self.pie_chart.setObjectName("agentPieChart")
        charts_layout.addWidget(self.pie_chart, 0, 1)
        splitter.addWidget(charts)
        splitter.setSizes([470, 280])
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

        status = QStatusBar()
        self.message = QLabel()
        self.message.setObjectName("statusMessage")
        status.addWidget(self.message, 1)
        self.setStatusBar(status)
        model.error.connect(lambda text: self.message.setText(f"⚠ {text}"), owner=self)

        self.board.changed.connect(self.refresh, owner=self)
        model.session_changed.connect(self._header, owner=self)
        model.status_changed.connect(lambda status, detail: self._header(), owner=self)
        self._header()
        model.calls.changed.connect(self._update_buttons, owner=self)
        self.ticker = QTimer(self)
        self.ticker.setInterval(tick_ms)
        self.ticker.timeout.connect(self.refresh)
        self.ticker.start()
        self.refresh()

    def _header(self) -> None:
        session = self.model.session or {}
        self.user.setText(f"{session.get('user', '')}  ·  tenant {session.get('tenant', '')}"
                          if session else "")
        online = self.model.connection == "connected"
        self.connection.setText("● Online" if online else "● " + self.model.connection.capitalize())
        self.connection.setStyleSheet(f"color: {'#5fd38d' if online else '#f0c05a'};")

    def monitor(self, mode: str) -> None:
        agent_id = self.board.selected_agent
        if agent_id:
            consume(self.model.monitor(agent_id, mode))

    def set_agent_state(self, state: str) -> None:
        agent_id = self.board.selected_agent
        if agent_id:
            consume(self.model.set_agent_state(agent_id, state))

    def _agent_selected(self) -> None:
        key = selected_key(self.agents)
        if key != self.board.selected_agent:
            self.board.select_agent(key)

    def _update_buttons(self) -> None:
        agent_id = self.board.selected_agent
        on_call = bool(agent_id) and self.board.agent_call(
            agent_id, list(self.model.calls.calls.values())) is not None
        for button in self.monitor_buttons.values():
            button.setEnabled(on_call)
        agent = self.board.agents.get(agent_id or "", {})
        logged_on = bool(agent) and agent.get("status") != "logged_out"
        self.state_buttons["ready"].setEnabled(logged_on and agent.get("status") != "ready")
        self.state_buttons["not_ready"].setEnabled(logged_on and agent.get("status") != "not_ready")
        self.state_buttons["logged_out"].setEnabled(logged_on)

    def refresh(self) -> None:
        board = self.board
        agents = board.agent_rows()
        colours = {(r, 4): STATE_COLOURS[row["board"]] for r, row in enumerate(agents)}
        self.agents.blockSignals(True)
        fill_table(self.agents, [
            [row["agent_id"], row["name"], row["extension"], row["status"], row["state"],
             format_duration(row["time_in_state"]), row["calls_answered"]] for row in agents],
            [row["agent_id"] for row in agents], colours)
        self.agents.blockSignals(False)
        queues = board.queue_rows()
        fill_table(self.queues, [
            [row["name"], row["waiting"],
             format_duration(row["longest_wait"]) if row["waiting"] else "–",
             row["agents_ready"], row["agents_busy"], _percent(row["service_level"]),
             row["offered"], row["answered"], row["abandoned"]] for row in queues],
            [row["queue"] for row in queues])
        callers = board.waiting_callers()
        fill_table(self.callers, [[c["queue"], c.get("calling") or "", format_duration(
            c["waited"]), c.get("position") or ""] for c in callers])
        self.bar_chart.set_data(board.queue_bars())
        self.pie_chart.set_data([(text, count, STATE_COLOURS[code])
                                 for code, text, count in board.state_distribution()])
        counts = {code: n for code, _, n in board.state_distribution()}
        self.tiles["tileLoggedOn"].setText(str(sum(counts.values()) - counts.get("logged_out", 0)))
        self.tiles["tileReady"].setText(str(counts.get("ready", 0)))
        self.tiles["tileInCall"].setText(str(counts.get("in_call", 0)))
        self.tiles["tileWaiting"].setText(str(sum(row["waiting"] for row in queues)))
        longest = max((row["longest_wait"] for row in queues), default=0.0)
        self.tiles["tileLongest"].setText(format_duration(longest))
        self.tiles["tileServiceLevel"].setText(_percent(board.overall_service_level()))
        self._update_buttons()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.ticker.stop()
        super().closeEvent(event)
