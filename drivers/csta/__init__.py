"""CSTA (ECMA-323 XML over TCP) driver.

    from drivers.csta import CstaDriver
    driver = CstaDriver("pbx.example", 2555, ["1001", "1002"], reactor, "pbx1")
    driver.add_sink(print)
    driver.start()
    yield driver.ready()      # link up, every MonitorStart answered
    call_id = yield driver.make_call("1001", "1002")
    yield driver.stop()

Modules, outermost first: driver (link life cycle, monitors, routing), services (one method
per CSTA service), session (ECMA-354 / SystemStatus sessions, keep-alive), protocol (invoke-ID
correlation, dispatch), framing (the 8-byte header), codec (XML <-> Event), testing (a
scripted switch end for tests).
"""

from drivers.csta.driver import CstaDriver, create_driver

__all__ = ["CstaDriver", "create_driver"]
