"""The login dialog: agent ID, password, extension (any seat), server URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt5.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from twisted.internet import defer
from twisted.python.failure import Failure

LoginHandler = Callable[[str, str, str, str], defer.Deferred]
"""(server URL, user, password, extension) -> Deferred firing once logged in."""


class LoginDialog(QDialog):
    def __init__(self, login: LoginHandler, server: str = "", user: str = "",
                 extension: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.login_handler = login
        self.setObjectName("loginDialog")
        self.setWindowTitle("CTI Desktop – Log in")
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        title = QLabel("Log in to the CTI server")
        title.setObjectName("customerTitle")
        layout.addWidget(title)
        form = QFormLayout()
        self.user = QLineEdit(user)
        self.user.setObjectName("loginUser")
        form.addRow("Agent ID", self.user)
        self.password = QLineEdit()
        self.password.setObjectName("loginPassword")
        self.password.setEchoMode(QLineEdit.Password)
        form.addRow("Password", self.password)
        self.extension = QLineEdit(extension)
        self.extension.setObjectName("loginExtension")
        self.extension.setPlaceholderText("the phone at this seat (empty: no ACD log-on)")
        form.addRow("Extension", self.extension)
        self.server = QLineEdit(server)
        self.server.setObjectName("loginServer")
        self.server.setPlaceholderText("http://cti-server:8080")
        form.addRow("Server", self.server)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setObjectName("loginError")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        self.button = QPushButton("Log in")
        self.button.setObjectName("loginButton")
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        layout.addWidget(self.button)
        self.password.returnPressed.connect(self.submit)
        self.result_session: Any = None

    def submit(self) -> defer.Deferred | None:
        fields = {"server": self.server.text().strip(), "user": self.user.text().strip(),
                  "password": self.password.text(), "extension": self.extension.text().strip()}
        missing = [name for name in ("server", "user", "password") if not fields[name]]
        if missing:
            self.error.setText(f"Please enter the {', '.join(missing)}.")
            return None
        self.error.setText("Logging in…")
        self.button.setEnabled(False)

        def done(session: Any) -> Any:
            self.result_session = session
            self.error.setText("")
            self.accept()
            return session

        def failed(failure: Failure) -> None:
            self.button.setEnabled(True)
            self.error.setText(failure.getErrorMessage().splitlines()[0])

        try:
            pending = self.login_handler(fields["server"], fields["user"], fields["password"],
                                         fields["extension"])
        except ValueError as exc:
            self.button.setEnabled(True)
            self.error.setText(str(exc))
            return None
        return pending.addCallbacks(done, failed)
