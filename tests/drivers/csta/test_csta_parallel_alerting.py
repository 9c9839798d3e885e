"""Parallel alerting on the driver side: DeflectCall and RouteSelect name further destinations
in privateData of our namespace (docs/csta-wire.md, "Parallel alerting"), only on a link whose
switch honours it; a switch that ignores the privateData answers as it always does."""

from __future__ import annotations

from typing import Any

from lxml import etree

from drivers.base import DriverError
from drivers.csta import codec
from drivers.csta.testing import SwitchEnd, make_driver

CSTA = codec.CSTA_NS
OURS = "urn:x-cti-middleware:csta:1"


def outcome(deferred: Any) -> list[Any]:
    results: list[Any] = []
    deferred.addBoth(results.append)
    return results


def up(**options: Any):
    options.setdefault("session_style", "ecma354")
    driver, reactor, events = make_driver(("1001", "1900"), **options)
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session("S1", 300)
    switch.answer_monitors()
    switch.answer_snapshots()
    return driver, switch


def test_a_deflect_names_the_further_destinations_in_our_private_data():
    driver, switch = up(parallel_alerting=True)
    answered = outcome(driver.deflect_call("7", "1900", "1001", also=("1002", "1003")))
    request = switch.request("DeflectCall")
    assert request.text("newDestination") == "1001"
    ring_all = request.root.find(f"extensions/privateData/private/{{{OURS}}}ringAll")
    assert [item.text for item in ring_all] == ["1002", "1003"]
    assert all(etree.QName(item).namespace == OURS for item in ring_all)
    assert codec.ring_all_devices(request.root) == ("1002", "1003")
    switch.answer(request, "DeflectCallResponse")
    assert answered == [None]


def test_a_single_destination_carries_no_private_data():
    driver, switch = up(parallel_alerting=True)
    driver.deflect_call("7", "1900", "1001")
    request = switch.request("DeflectCall")
    assert codec.child(request.root, "extensions") is None
    assert codec.ring_all_devices(request.root) == ()


def test_a_route_select_names_the_further_destinations_in_our_private_data():
    driver, switch = up(parallel_alerting=True)
    switch.send("0301", b"<RouteRequest><crossRefIdentifier>X1</crossRefIdentifier>"
                        b"<routeRegisterReqID>RR1</routeRegisterReqID></RouteRequest>")
    driver.route_select("X1", "1001", also=("1003",))
    select = switch.request("RouteSelect")
    assert (select.text("routeSelected"), codec.ring_all_devices(select.root)) == (
        "1001", ("1003",))


def test_a_link_without_parallel_alerting_refuses_a_list_and_sends_nothing():
    driver, switch = up()
    deflected = outcome(driver.deflect_call("7", "1900", "1001", also=("1002",)))
    selected = outcome(driver.route_select("X1", "1001", also=("1002",)))
    for result in (deflected, selected):
        assert result[0].check(DriverError) and "parallel_alerting" in str(result[0].value)
    assert switch.requests() == []
    driver.deflect_call("7", "1900", "1001")
    assert switch.request("DeflectCall").text("newDestination") == "1001"


def test_a_switch_refusing_the_list_fails_the_deflect_with_its_error():
    driver, switch = up(parallel_alerting=True)
    answered = outcome(driver.deflect_call("7", "1900", "1001", also=("1002",)))
    switch.error(switch.request("DeflectCall"), "operation", "invalidDeviceID")
    assert answered[0].check(DriverError)
    assert str(answered[0].value) == "DeflectCall: operation/invalidDeviceID"


def test_private_data_of_another_namespace_names_no_destinations():
    root = codec.parse(
        b'<DeflectCall xmlns="' + CSTA.encode() + b'"><extensions><privateData><private>'
        b'<ringAll xmlns="urn:vendor:x"><deviceID>1002</deviceID></ringAll>'
        b"</private></privateData></extensions></DeflectCall>")
    assert codec.ring_all_devices(root) == ()
