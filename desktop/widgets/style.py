"""One look for every window: Fusion, a calm palette, state colours shared with the charts."""

from __future__ import annotations

from PyQt5.QtGui import QColor, QFont, QPalette
from PyQt5.QtWidgets import QApplication

from desktop.viewmodels.supervisor import STATE_COLOURS

ACCENT = "#1f5fa8"
STATUS_COLOURS = {
    "ready": STATE_COLOURS["ready"],
    "not_ready": STATE_COLOURS["not_ready"],
    "wrap_up": STATE_COLOURS["wrap_up"],
    "logged_out": STATE_COLOURS["logged_out"],
}
CALL_STATE_COLOURS = {
    "alerting": "#e0a526", "connected": "#2e9d5b", "hold": "#8a5cc2", "initiated": "#2f6fc0",
    "queued": "#9aa3ad", "fail": "#d0493f",
}

STYLESHEET = f"""
QWidget {{ font-family: "DejaVu Sans"; font-size: 10pt; color: #1d2733; }}
QMainWindow, QDialog {{ background: #eef1f5; }}
QGroupBox {{
    background: #ffffff; border: 1px solid #d5dbe3; border-radius: 6px;
    margin-top: 14px; padding: 10px 8px 8px 8px; font-weight: bold;
}}
QGroupBox::title {{
    subcontrol-origin: margin; left: 10px; padding: 0 4px; color: #4a5a6c;
}}
QFrame#stateBar {{ background: #1d2b3a; border-radius: 0; }}
QFrame#stateBar QLabel {{ color: #e8eef5; }}
QLabel#stateStatus {{
    border-radius: 11px; padding: 3px 14px; font-weight: bold; color: white;
}}
QLabel#stateTimer {{ font-family: "DejaVu Sans Mono"; font-size: 12pt; }}
QLabel#brandLabel {{ font-size: 12pt; font-weight: bold; color: #ffffff; }}
QFrame#stateBar QPushButton, QFrame#stateBar QToolButton {{
    background: #2c4057; color: #e8eef5; border: 1px solid #3c5673; border-radius: 4px;
    padding: 5px 12px;
}}
QToolButton::menu-indicator {{ image: none; width: 0; }}
QFrame#stateBar QPushButton:hover, QFrame#stateBar QToolButton:hover {{ background: #36506d; }}
QFrame#stateBar QPushButton:disabled, QFrame#stateBar QToolButton:disabled {{
    color: #7d8fa3; background: #243447; border-color: #2c3f54;
}}
QPushButton {{
    background: #f7f9fb; border: 1px solid #c3ccd7; border-radius: 4px; padding: 5px 10px;
}}
QPushButton:hover {{ background: #e9eef4; }}
QPushButton:disabled {{ color: #a3adb8; background: #f1f3f6; border-color: #dde2e8; }}
QPushButton#answerButton:enabled, QPushButton#bannerAnswerButton {{
    background: #2e9d5b; color: white; border-color: #25824a; font-weight: bold;
}}
QPushButton#hangupButton:enabled {{
    background: #d0493f; color: white; border-color: #b13a31; font-weight: bold;
}}
QPushButton#saveCustomerButton:enabled, QPushButton#loginButton {{
    background: {ACCENT}; color: white; border-color: #184c87; font-weight: bold;
}}
QPushButton[dialpad="true"] {{ font-size: 12pt; font-weight: bold; min-height: 30px; }}
QLineEdit, QPlainTextEdit, QComboBox {{
    background: white; border: 1px solid #c3ccd7; border-radius: 4px; padding: 4px;
}}
QLineEdit:focus, QPlainTextEdit:focus {{ border-color: {ACCENT}; }}
QTableWidget {{
    background: white; alternate-background-color: #f6f8fa; border: 1px solid #d5dbe3;
    gridline-color: #eceff3; selection-background-color: #d6e4f5; selection-color: #1d2733;
}}
QHeaderView::section {{
    background: #f0f3f7; border: none; border-bottom: 1px solid #d5dbe3; padding: 4px 6px;
    font-weight: bold; color: #4a5a6c;
}}
QTabWidget::pane {{ border: 1px solid #d5dbe3; border-radius: 4px; background: white; }}
QTabBar::tab {{
    background: #e3e8ee; padding: 6px 14px; border-top-left-radius: 4px;
    border-top-right-radius: 4px; margin-right: 2px; color: #4a5a6c;
}}
QTabBar::tab:selected {{ background: white; color: #1d2733; border-bottom: 2px solid {ACCENT}; }}
QFrame#incomingBanner {{ background: #fff4d6; border: 1px solid #e0a526; border-radius: 6px; }}
QLabel#incomingText {{ font-size: 11pt; font-weight: bold; color: #6b4b00; }}
QLabel#customerTitle {{ font-size: 15pt; font-weight: bold; }}
QLabel#vipBadge {{
    background: #e0a526; color: white; border-radius: 8px; padding: 1px 8px; font-weight: bold;
}}
QFrame[tile="true"] {{ background: white; border: 1px solid #d5dbe3; border-radius: 6px; }}
QLabel[tileValue="true"] {{ font-size: 20pt; font-weight: bold; color: #1d2733; }}
QLabel[tileCaption="true"] {{ color: #6a7888; }}
QStatusBar {{ background: #e3e8ee; color: #4a5a6c; }}
QLabel#loginError {{ color: #b13a31; }}
"""


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = app.palette()
    palette.setColor(QPalette.Window, QColor("#eef1f5"))
    palette.setColor(QPalette.Highlight, QColor("#d6e4f5"))
    palette.setColor(QPalette.HighlightedText, QColor("#1d2733"))
    app.setPalette(palette)
    app.setFont(QFont("DejaVu Sans", 10))
    app.setStyleSheet(STYLESHEET)
