"""Realistic sample state for the desktop's screenshots and visual checks.

`populate` feeds a DesktopModel the same event dicts and REST answers a live server sends
(docs/api.md shapes), so a screenshot shows exactly what an agent or supervisor would see.
Run ``python -m desktop.demo OUT_DIR`` to render agent.png and supervisor.png offscreen.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from cti.events import iso_time
from desktop.viewmodels.desktop import DesktopModel


def _ago(now: float, seconds: float) -> str:
    return iso_time(now - seconds)


def populate(model: DesktopModel, now: float, role: str = "agent") -> None:
    session = {"token": "demo", "role": role, "tenant": "acme", "user": "1001" if role ==
               "agent" else "sue", "agent_id": "1001" if role == "agent" else None,
               "extension": "2001" if role == "agent" else "2090",
               "expires": _ago(now, -43200)}
    model._set_session(session)
    model.connection = "connected"
    model.status_changed.emit("connected", "")
    model.agent_state.set_reasons([{"code": "break", "label": "Break"},
                                   {"code": "lunch", "label": "Lunch"},
                                   {"code": "training", "label": "Training"},
                                   {"code": "backoffice", "label": "Back office"}])
    model.dispositions = [{"code": "resolved", "label": "Resolved"},
                          {"code": "callback", "label": "Call back"},
                          {"code": "sale", "label": "Sale"},
                          {"code": "complaint", "label": "Complaint logged"}]
    model.address_book.set_entries([
        {"name": "Anna Berg", "number": "2001", "kind": "agent"},
        {"name": "Ben Ode", "number": "2002", "kind": "agent"},
        {"name": "Chen Li", "number": "2003", "kind": "agent"},
        {"name": "Dana Weiss", "number": "2004", "kind": "agent"},
        {"name": "Reception", "number": "2000", "kind": "extension"},
        {"name": "Billing back office", "number": "2150", "kind": "extension"},
        {"name": "Warehouse Hamburg", "number": "+4940998877", "kind": "speed_dial"},
        {"name": "Courier hotline", "number": "+498001234567", "kind": "speed_dial"},
    ])
    for entry in (
        {"call_id": "h3", "time": now - 1500, "direction": "in", "number": "+4989554433",
         "customer": "Markus Vogel", "duration": 312, "answered": True, "disposition": "sale"},
        {"call_id": "h2", "time": now - 2700, "direction": "out", "number": "+4940998877",
         "customer": "", "duration": 95, "answered": True, "disposition": "resolved"},
        {"call_id": "h1", "time": now - 3900, "direction": "in", "number": "+4930777111",
         "customer": "", "duration": 0, "answered": False},
    ):
        model.history.add(entry)
    customer = {
        "id": 7, "name": "Clara Jansen", "company": "Jansen Logistics GmbH",
        "phones": ["+4930123456", "+491701234567"], "emails": ["clara.jansen@jansen-log.de"],
        "address": "Hafenstraße 12, 20457 Hamburg", "vip": True,
        "fields": {"contract": "GOLD-2291", "account manager": "B. Ode"},
        "notes": "Prefers e-mail confirmations. Weekly pallet orders.",
    }
    call = {"call_id": "4711", "state": "connected", "calling": "+4930123456",
            "called": "8000", "ani": "+4930123456", "dnis": "8000",
            "parties": [{"device": "+4930123456", "state": "connected"},
                        {"device": "2001", "state": "connected"}],
            "data": {"ivr_choice": "2 – delivery status", "order": "SO-118402",
                     "language": "de"},
            "notes": [{"time": _ago(now, 60), "author": "IVR",
                       "text": "Caller entered order number SO-118402"}],
            "customer_id": 7, "queue": "sales", "started": _ago(now, 200),
            "answered": _ago(now, 154), "aliases": []}
    if role == "agent":
        model.handle_event({"event": "hello", "session": session, "calls": [call],
                            "agent": {"agent_id": "1001", "name": "Anna Berg",
                                      "extension": "2001", "status": "ready",
                                      "state": "in_call", "reason": None,
                                      "since": _ago(now, 154), "queues": ["sales"],
                                      "skills": {"de": 5}, "calls_answered": 23,
                                      "talk_seconds": 5400}})
        model.handle_event({
            "event": "screen_pop", "call_id": "4711", "agent": "1001", "device": "2001",
            "customer": customer, "calling": "+4930123456", "called": "8000",
            "data": call["data"], "notes": call["notes"],
            "interactions": [
                {"time": _ago(now, 86400 * 3 + 5400), "agent": "1002", "disposition": "resolved",
                 "notes": "Invoice 118 corrected, credit note sent"},
                {"time": _ago(now, 86400 * 12 - 9720), "agent": "1001", "disposition": "sale",
                 "notes": "Ordered 40 euro pallets for March"},
                {"time": _ago(now, 86400 * 40 + 15060), "agent": "1004", "disposition": "callback",
                 "notes": "Asked for volume discount"},
            ],
            "tickets": [
                {"id": 311, "type": "complaint", "subject": "Delivery SO-118402 two days late",
                 "status": "open"},
                {"id": 298, "type": "order", "subject": "Pallet order, week 12",
                 "status": "in_progress"},
                {"id": 240, "type": "after_sales", "subject": "Damaged wrapping",
                 "status": "closed"},
            ],
        })
        model.handle_event({"event": "call", "kind": "created", "call": {
            "call_id": "4712", "state": "alerting", "calling": "+4989554433", "called": "8000",
            "parties": [{"device": "+4989554433", "state": "connected"},
                        {"device": "2001", "state": "alerting"}],
            "data": {}, "notes": [], "customer_id": None, "queue": "support",
            "started": _ago(now, 6), "answered": None, "aliases": []}})
        model.calls.select("4711")
        model.pop.set_field("address", "Hafenstraße 14, 20457 Hamburg")
        return
    agents = []
    plan = [("1001", "Anna Berg", "ready", "in_call", None, 154, 23),
            ("1002", "Ben Ode", "ready", "in_call", None, 421, 19),
            ("1003", "Chen Li", "ready", "idle", None, 38, 25),
            ("1004", "Dana Weiss", "not_ready", "idle", "lunch", 1260, 14),
            ("1005", "Emil Novak", "wrap_up", "wrap_up", None, 22, 21),
            ("1006", "Fatma Yilmaz", "ready", "ringing", None, 4, 17),
            ("1007", "Gregor Sand", "ready", "idle", None, 95, 22),
            ("1008", "Hanna Roth", "ready", "in_call", None, 610, 18),
            ("1009", "Ivo Petrov", "logged_out", "logged_out", None, 5400, 0)]
    for agent_id, name, status, state, reason, since, answered in plan:
        agents.append({"agent_id": agent_id, "name": name, "extension": "20" + agent_id[2:],
                       "status": status, "state": state, "reason": reason,
                       "since": _ago(now, since), "queues": ["sales", "support"],
                       "skills": {}, "calls_answered": answered, "talk_seconds": answered * 170})
    model.supervisor.set_agents(agents)
    model.supervisor.set_queues([
        {"queue": "sales", "name": "Sales", "strategy": "longest-idle", "waiting": 3,
         "longest_wait": 48, "agents_ready": 2, "agents_busy": 3, "agents_logged_on": 6,
         "callers": [{"call_id": "q1", "calling": "+4930555123", "waited": 48, "position": 1,
                      "priority": 0},
                     {"call_id": "q2", "calling": "+4940111222", "waited": 31, "position": 2,
                      "priority": 0},
                     {"call_id": "q3", "calling": "+4969333444", "waited": 9, "position": 3,
                      "priority": 0}],
         "stats": {"offered": 148, "answered": 136, "abandoned": 12, "asa": 14, "aht": 212,
                   "service_level": 0.84, "service_level_2": 0.8, "occupancy": 0.78,
                   "sl_seconds": 20}},
        {"queue": "support", "name": "Support", "strategy": "skills", "waiting": 1,
         "longest_wait": 17, "agents_ready": 1, "agents_busy": 2, "agents_logged_on": 5,
         "callers": [{"call_id": "q4", "calling": "+4989554433", "waited": 17, "position": 1,
                      "priority": 1}],
         "stats": {"offered": 97, "answered": 90, "abandoned": 7, "asa": 19, "aht": 305,
                   "service_level": 0.76, "service_level_2": 0.74, "occupancy": 0.81,
                   "sl_seconds": 20}},
        {"queue": "billing", "name": "Billing", "strategy": "round-robin", "waiting": 0,
         "longest_wait": 0, "agents_ready": 1, "agents_busy": 0, "agents_logged_on": 2,
         "callers": [],
         "stats": {"offered": 41, "answered": 40, "abandoned": 1, "asa": 6, "aht": 188,
                   "service_level": 0.95, "service_level_2": 0.93, "occupancy": 0.52,
                   "sl_seconds": 20}},
    ])
    model.calls.reset([call])
    model.supervisor.select_agent("1001")


def render(out_dir: str) -> list[str]:
    """Render both windows offscreen into out_dir; returns the written paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtWidgets import QApplication

    from desktop.client import ApiClient
    from desktop.widgets.main_window import MainWindow
    from desktop.widgets.style import apply_style
    from desktop.widgets.supervisor_window import SupervisorWindow

    app = QApplication.instance() or QApplication(["cti-desktop-demo"])
    apply_style(app)
    now = time.time()
    written = []
    for role, name in (("agent", "agent.png"), ("supervisor", "supervisor.png")):
        model = DesktopModel(ApiClient("http://127.0.0.1:9"), clock=lambda: now)
        populate(model, now, role)
        window: Any = MainWindow(model, use_tray=False) if role == "agent" else SupervisorWindow(model)
        if role == "supervisor":
            window.agents.selectRow(0)
        window.show()
        app.processEvents()
        path = os.path.join(out_dir, name)
        window.grab().save(path)
        window.close()
        written.append(path)
    return written


if __name__ == "__main__":
    for written in render(sys.argv[1] if len(sys.argv) > 1 else "."):
        print(written)
