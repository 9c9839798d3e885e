"""The address typed on the customer card is stored by the real server (db keeps it as an
address row) and is on the card of the customer's next call."""

from __future__ import annotations

import pytest_twisted
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLineEdit, QPushButton

from cti.server.testing import PASSWORD
from desktop.client import ApiClient
from desktop.viewmodels.desktop import DesktopModel
from desktop.widgets.main_window import MainWindow

CALLER = "+49301234567"


def child(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, f"no {cls.__name__} named {name}"
    return found


@pytest_twisted.ensureDeferred
async def test_address_saved_on_the_card_is_stored_and_popped_again(live_server, qtbot,
                                                                    wait_until):
    running, switch = live_server
    model = DesktopModel(ApiClient(running.url), stream_options={"initial_delay": 0.05})
    try:
        await model.login("1001", PASSWORD, "1001")
        await model.when_synced()
        window = MainWindow(model, use_tray=False)
        qtbot.addWidget(window)
        window.show()
        first = switch.inbound_call(CALLER, "1001")
        await wait_until(lambda: model.pop.call_id == first and model.pop.customer)
        address = child(window, QLineEdit, "customerAddress")
        address.selectAll()
        qtbot.keyClicks(address, "Seestr. 9, 20095 Hamburg")
        assert model.pop.dirty
        qtbot.mouseClick(child(window, QPushButton, "saveCustomerButton"), Qt.LeftButton)
        await wait_until(lambda: not model.pop.dirty or model.last_error)
        assert model.last_error is None
        stored = await model.client.customer(model.pop.customer_id)
        assert (stored["name"], stored["address"]) == ("Ada Lovelace", "Seestr. 9, 20095 Hamburg")
        await model.hangup(first)
        await wait_until(lambda: model.calls.my_calls() == [])

        second = switch.inbound_call(CALLER, "1001")
        await wait_until(lambda: model.pop.call_id == second and model.pop.customer)
        assert child(window, QLineEdit, "customerAddress").text() == "Seestr. 9, 20095 Hamburg"
    finally:
        model.shutdown()
        await model.client.close()
