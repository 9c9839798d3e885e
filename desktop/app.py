"""Running the desktop: Qt + Twisted on one loop, login, the windows, screenshots.

The reactor must be Twisted's asyncio reactor on a qasync (Qt) event loop, installed before
anything imports twisted.internet.reactor (field-notes.md); `install_qt_reactor` does that for
the `cti desktop` process. Inside the test suite it is already installed and is reused.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from cti.errors import CLIError


def install_qt_reactor(app_name: str = "cti-desktop") -> tuple[Any, Any]:
    """QApplication + qasync loop + asyncio reactor; returns (app, reactor)."""
    if sys.platform.startswith("linux") and not os.environ.get("XDG_RUNTIME_DIR"):
        import tempfile

        runtime = tempfile.mkdtemp(prefix="cti-desktop-xdg-")
        os.environ["XDG_RUNTIME_DIR"] = runtime
    from PyQt5.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([app_name])
    # The Qt loop is the reactor's loop: hiding the login dialog or closing a window must not
    # end it; DesktopApp decides when the desktop is done.
    app.setQuitOnLastWindowClosed(False)
    if "twisted.internet.reactor" not in sys.modules:
        import asyncio

        import qasync
        from twisted.internet import asyncioreactor

        if sys.platform == "win32":
            loop = qasync.QSelectorEventLoop(app)
        else:
            loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        asyncioreactor.install(eventloop=loop)
    from twisted.internet import reactor
    from twisted.internet.asyncioreactor import AsyncioSelectorReactor

    if not isinstance(reactor, AsyncioSelectorReactor):
        raise CLIError("the desktop needs Twisted's asyncio reactor, another one is installed")
    return app, reactor


def screenshot_paths(path: str) -> tuple[str, str]:
    """agent.png -> (agent.png, agent-supervisor.png)."""
    root, ext = os.path.splitext(path)
    return path, f"{root}-supervisor{ext or '.png'}"


class DesktopApp:
    """One desktop session: the login, then the agent window (and the supervisor window for
    supervisors). `done` fires with the exit status when the user closes it."""

    def __init__(self, reactor: Any, server: str, use_tray: bool | None = None,
                 ca_file: str | None = None) -> None:
        from twisted.internet import defer

        self.reactor = reactor
        self.ca_file = ca_file
        self.server = server
        self.use_tray = use_tray
        self.model: Any = None
        self.main_window: Any = None
        self.supervisor_window: Any = None
        self.done: defer.Deferred = defer.Deferred()

    def login(self, server: str, user: str, password: str, extension: str = "",
              tenant: str | None = None) -> Any:
        """Log in and build the model; fires with the session (ApiError on failure)."""
        from desktop.client import ApiClient
        from desktop.viewmodels.desktop import DesktopModel

        if self.model is not None:
            self.model.shutdown()
            self.model.client.close()
        self.server = server
        self.model = DesktopModel(ApiClient(server, self.reactor, ca_file=self.ca_file))
        return self.model.login(user, password, extension or None, tenant)

    def show_windows(self) -> None:
        from desktop.widgets.main_window import MainWindow
        from desktop.widgets.supervisor_window import SupervisorWindow

        self.main_window = MainWindow(self.model, use_tray=self.use_tray)
        self.main_window.show()
        self.main_window.closing = self._closed
        if self.model.is_supervisor:
            self.supervisor_window = SupervisorWindow(self.model)
            self.supervisor_window.show()

    def ask_login(self, user: str = "", extension: str = "") -> None:
        from desktop.widgets.login import LoginDialog

        dialog = LoginDialog(self.login, self.server, user, extension)
        self._dialog = dialog

        def finished(result: int) -> None:
            if result:
                self.show_windows()
            elif not self.done.called:
                self.done.callback(1)

        dialog.finished.connect(finished)
        dialog.show()

    def _closed(self) -> None:
        if self.supervisor_window is not None:
            self.supervisor_window.close()
        pending = self.model.logout() if self.model is not None else None
        if pending is not None:
            pending.addBoth(lambda _: None)
        if not self.done.called:
            self.done.callback(0)

    def screenshot(self, path: str) -> list[str]:
        """Grab the open windows into PNG files (QWidget.grab)."""
        from PyQt5.QtWidgets import QApplication

        QApplication.processEvents()
        main_path, supervisor_path = screenshot_paths(path)
        written = []
        if not self.main_window.grab().save(main_path):
            raise CLIError(f"cannot write screenshot {main_path}")
        written.append(main_path)
        if self.supervisor_window is not None:
            if not self.supervisor_window.grab().save(supervisor_path):
                raise CLIError(f"cannot write screenshot {supervisor_path}")
            written.append(supervisor_path)
        return written

    def close(self) -> None:
        for window in (self.supervisor_window, self.main_window):
            if window is not None:
                window.closing = None
                window.close()
        if self.model is not None:
            self.model.shutdown()
            self.model.client.close()
