"""The screen pop: the caller's customer card (editable, saved back), interaction history,
open tickets with ticket entry, call notes and the disposition, attached call data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.agent_state import label
from desktop.viewmodels.desktop import DesktopModel, consume
from desktop.viewmodels.screenpop import TICKET_TYPES
from desktop.viewmodels.timefmt import parse_time
from desktop.widgets.common import fill_table, make_table


def _short_time(text: str | None) -> str:
    seconds = parse_time(text)
    if seconds is None:
        return text or ""
    return datetime.fromtimestamp(seconds).strftime("%d %b %Y %H:%M")


class CustomerCard(QWidget):
    """The record form; every edit goes to the viewmodel's draft, Save sends it back."""

    TEXT_FIELDS = (("name", "Name"), ("company", "Company"), ("phones", "Phones"),
                   ("emails", "E-mails"), ("address", "Address"))

    def __init__(self, model: DesktopModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.pop = model.pop
        self.setObjectName("customerCard")
        layout = QVBoxLayout(self)

        header = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("customerTitle")
        header.addWidget(self.title)
        self.vip_badge = QLabel("VIP")
        self.vip_badge.setObjectName("vipBadge")
        header.addWidget(self.vip_badge)
        header.addStretch(1)
        self.caller = QLabel()
        self.caller.setObjectName("callerLabel")
        header.addWidget(self.caller)
        layout.addLayout(header)

        form = QFormLayout()
        form.setHorizontalSpacing(14)
        self.edits: dict[str, QLineEdit] = {}
        for name, caption in self.TEXT_FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"customer{name.capitalize()}")
            edit.textEdited.connect(lambda text, n=name: self.pop.set_field(n, text))
            form.addRow(caption, edit)
            self.edits[name] = edit
        self.vip = QCheckBox("VIP customer")
        self.vip.setObjectName("customerVip")
        self.vip.clicked.connect(lambda checked: self.pop.set_field("vip", checked))
        form.addRow("", self.vip)
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("customerNotes")
        self.notes.setMaximumHeight(54)
        self.notes.textChanged.connect(self._notes_edited)
        form.addRow("Notes", self.notes)
        self.extra = QLabel()
        self.extra.setObjectName("customerFields")
        self.extra.setWordWrap(True)
        form.addRow("Fields", self.extra)
        layout.addLayout(form)

        buttons = QHBoxLayout()
        self.dirty_label = QLabel()
        self.dirty_label.setObjectName("dirtyLabel")
        buttons.addWidget(self.dirty_label)
        buttons.addStretch(1)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setObjectName("revertCustomerButton")
        self.revert_button.clicked.connect(self.pop.revert)
        buttons.addWidget(self.revert_button)
        self.save_button = QPushButton("Save customer")
        self.save_button.setObjectName("saveCustomerButton")
        self.save_button.clicked.connect(lambda: consume(model.save_customer()))
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

        self._updating = False
        self.pop.changed.connect(self.refresh, owner=self)
        self.refresh()

    def _notes_edited(self) -> None:
        if not self._updating:
            self.pop.set_field("notes", self.notes.toPlainText())

    def refresh(self) -> None:
        pop = self.pop
        draft = pop.draft
        self._updating = True
        for name, edit in self.edits.items():
            value = draft.get(name)
            text = ", ".join(value) if isinstance(value, list) else str(value or "")
            if edit.text() != text:
                edit.setText(text)
            edit.setEnabled(pop.has_pop)
        self.vip.setChecked(bool(draft.get("vip")))
        self.vip.setEnabled(pop.has_pop)
        if self.notes.toPlainText() != (draft.get("notes") or ""):
            self.notes.setPlainText(draft.get("notes") or "")
        self.notes.setEnabled(pop.has_pop)
        self._updating = False
        fields = draft.get("fields") or {}
        self.extra.setText("   ".join(f"{k}: {v}" for k, v in fields.items()) or "–")
        dialled = pop.dialled
        if not pop.has_pop:
            self.title.setText("No caller")
        elif pop.is_new_customer:
            self.title.setText(f"Unknown {'number' if dialled else 'caller'} – new customer")
        else:
            self.title.setText(pop.display_name())
        self.vip_badge.setVisible(bool((pop.customer or {}).get("vip")))
        if dialled:
            caller = f"Dialled {pop.called}" if pop.called else ""
        else:
            caller = f"Caller {pop.calling}" if pop.calling else ""
        if pop.consulting_call_id and pop.has_pop:
            caller = f"Consultation · {caller}" if caller else "Consultation"
        self.caller.setText(caller)
        self.save_button.setEnabled(pop.dirty)
        self.revert_button.setEnabled(pop.dirty)
        self.dirty_label.setText("Unsaved changes" if pop.dirty else "")


class ScreenPop(QWidget):
    """The customer card above, tabs below: history, tickets, notes & disposition, data."""

    def __init__(self, model: DesktopModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screenPop")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        box = QGroupBox("Customer")
        box_layout = QVBoxLayout(box)
        box_layout.setContentsMargins(4, 4, 4, 4)
        self.card = CustomerCard(model)
        box_layout.addWidget(self.card)
        layout.addWidget(box)
        self.tabs = PopTabs(model)
        layout.addWidget(self.tabs, 1)


class PopTabs(QTabWidget):
    """History, tickets, notes & disposition, call data of the popped call."""

    def __init__(self, model: DesktopModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.pop = model.pop
        self.setObjectName("popTabs")

        self.interactions = make_table("interactionsTable",
                                       ["When", "Agent", "Disposition", "Notes"], stretch=3)
        self.addTab(self.interactions, "History")

        tickets = QWidget()
        tickets_layout = QVBoxLayout(tickets)
        self.tickets = make_table("ticketsTable", ["#", "Type", "Subject", "Status"], stretch=2)
        tickets_layout.addWidget(self.tickets, 1)
        form = QFormLayout()
        self.ticket_type = QComboBox()
        self.ticket_type.setObjectName("ticketType")
        for code in TICKET_TYPES:
            self.ticket_type.addItem(label({}, code), code)
        form.addRow("Type", self.ticket_type)
        self.ticket_subject = QLineEdit()
        self.ticket_subject.setObjectName("ticketSubject")
        form.addRow("Subject", self.ticket_subject)
        self.ticket_body = QPlainTextEdit()
        self.ticket_body.setObjectName("ticketBody")
        self.ticket_body.setMaximumHeight(60)
        form.addRow("Details", self.ticket_body)
        tickets_layout.addLayout(form)
        self.create_ticket_button = QPushButton("Open ticket")
        self.create_ticket_button.setObjectName("createTicketButton")
        self.create_ticket_button.clicked.connect(self.create_ticket)
        tickets_layout.addWidget(self.create_ticket_button)
        self.addTab(tickets, "Tickets")

        notes = QWidget()
        notes_layout = QVBoxLayout(notes)
        self.notes_list = QListWidget()
        self.notes_list.setObjectName("notesList")
        notes_layout.addWidget(self.notes_list, 1)
        entry = QHBoxLayout()
        self.note_edit = QLineEdit()
        self.note_edit.setObjectName("noteEdit")
        self.note_edit.setPlaceholderText("Type a note for this call (travels with transfers)")
        self.note_edit.returnPressed.connect(self.add_note)
        entry.addWidget(self.note_edit, 1)
        self.add_note_button = QPushButton("Add note")
        self.add_note_button.setObjectName("addNoteButton")
        self.add_note_button.clicked.connect(self.add_note)
        entry.addWidget(self.add_note_button)
        notes_layout.addLayout(entry)
        disposition = QHBoxLayout()
        disposition.addWidget(QLabel("Disposition"))
        self.disposition = QComboBox()
        self.disposition.setObjectName("dispositionCombo")
        disposition.addWidget(self.disposition, 1)
        self.save_disposition_button = QPushButton("Save disposition")
        self.save_disposition_button.setObjectName("saveDispositionButton")
        self.save_disposition_button.clicked.connect(self.save_disposition)
        disposition.addWidget(self.save_disposition_button)
        notes_layout.addLayout(disposition)
        self.disposition_state = QLabel()
        self.disposition_state.setObjectName("dispositionState")
        notes_layout.addWidget(self.disposition_state)
        self.addTab(notes, "Notes && disposition")
        self.setCurrentIndex(0)

        self.data_table = make_table("callDataTable", ["Key", "Value"], stretch=1)
        self.addTab(self.data_table, "Call data")

        self.pop.changed.connect(self.refresh, owner=self)
        model.session_changed.connect(self.refresh, owner=self)
        self.refresh()

    def add_note(self) -> None:
        text = self.note_edit.text()

        def added(result: Any) -> Any:
            self.note_edit.clear()
            return result

        consume(self.model.add_note(text).addCallback(added))

    def save_disposition(self) -> None:
        code = self.disposition.currentData()
        if code:
            consume(self.model.set_disposition(code, self.note_edit.text().strip() or None))

    def create_ticket(self) -> None:
        def created(result: Any) -> Any:
            self.ticket_subject.clear()
            self.ticket_body.clear()
            return result

        consume(self.model.create_ticket(self.ticket_type.currentData(),
                                         self.ticket_subject.text(),
                                         self.ticket_body.toPlainText()).addCallback(created))

    def refresh(self) -> None:
        pop = self.pop
        fill_table(self.interactions, [
            [_short_time(i.get("time")), i.get("agent") or "", label({}, i.get("disposition")),
             i.get("notes") or ""] for i in pop.interactions])
        open_tickets = pop.open_tickets()
        fill_table(self.tickets, [
            [t.get("id", ""), label({}, t.get("type")), t.get("subject") or "",
             label({}, t.get("status") or "open")] for t in open_tickets])
        self.setTabText(1, f"Open tickets ({len(open_tickets)})" if open_tickets else "Tickets")
        self.setTabText(0, f"History ({len(pop.interactions)})" if pop.interactions else "History")
        self.notes_list.clear()
        for note in pop.notes:
            author = note.get("author") or ""
            self.notes_list.addItem(f"{author}: {note.get('text', '')}" if author
                                    else note.get("text", ""))
        codes = [self.disposition.itemData(i) for i in range(self.disposition.count())]
        wanted = [d["code"] for d in self.model.dispositions]
        if codes != wanted:
            self.disposition.clear()
            for item in self.model.dispositions:
                self.disposition.addItem(item.get("label") or item["code"], item["code"])
        if pop.disposition:
            self.disposition_state.setText(
                f"Disposition {'saved' if pop.disposition_saved else 'chosen'}: "
                f"{label({}, pop.disposition)}")
        else:
            self.disposition_state.setText("")
        fill_table(self.data_table, [[k, v] for k, v in sorted(pop.data.items())])
        has_call = pop.has_pop
        for widget in (self.note_edit, self.add_note_button, self.save_disposition_button):
            widget.setEnabled(has_call)
        self.create_ticket_button.setEnabled(pop.customer_id is not None)
