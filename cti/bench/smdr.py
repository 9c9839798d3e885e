"""`cti bench smdr --json`: call records parsed per second, per format.

Each format parses a mix of its real record shapes (the HiPath, IP Office and NEC lines are
from shared/samples/smdr, Panasonic from its documented pattern) through the same path as
`cti smdr parse`: control-byte stripping, header check, then the format's parser. Framing is
left out: it is the same byte scan for every format and is measured by the pty benchmarks.
Target (issue): >= 100,000 records/s for the fixed-column formats.
"""

from __future__ import annotations

import argparse
import time

from drivers.serial.smdr import FORMATS, RecordReader

SAMPLES: dict[str, list[str]] = {
    "siemens-hipath": [
        "10.04.1923:19:06  2   104     00:00:0500441619251900                       2",
        "11.04.1900:35:38  1   104             0876153281                           0",
        "11.04.1900:35:48  1   10400:0100:00:070876153281                           1",
        "22.02.1923:11:43  3   04800:4100:10:030248873711                           154416",
        "\x10\x02\x10\x03\x13\x1123.05.2105:25:49  1   100             0869182940              "
        "             0",
    ],
    "avaya-ipo": [
        "2008/06/28 09:28:41,00:00:00,9,8004206,I,4324,4324,,0,1000014155,0,E4324,Joe Bloggs,"
        "T9161,LINE 5.1,0,0",
        "2008/06/28 09:30:57,00:00:13,7,01707392200,I,299999,299999,,0,1000014160,1,E4750,"
        "John Smith,T9002,LINE 1.2,11,0",
        "2008/06/26 10:27:44,00:00:44,4,4688,O,4207,4207,,1,1000013898,0,E4688,Joe Bloggs,"
        "E4207,John Smith,0,0",
    ],
    "nec-neax": [
        "0!KK01120010100522100210000120001 030800100220001063420180707120000001201807071301"
        "010000711732555121208030120918001010110002010210101217325551212110808675309120886"
        "753091307401234514021215030121612117325551212170612345618100123409875",
        "0!KL01120020010232010410000120000 051100100120000063420190908215741398201909082157"
        "487380711732555121208030040918002002202001001201101173255512121108012312341208867"
        "530913021216124173255512121810123455432119342017010100000000",
    ],
    "panasonic": [
        "01/02/08 10:03AM  1200 01 <I>0301234567                0'05 00:01'05 9876543210",
        "01/02/08 10:07AM  1201 01 01701234567                       00:12'05            TR",
        "01/02/08 01:07PM  1202 02 <D>SALES<I>ABC COMPANY0301234  1'15 00:00'20",
    ],
}


def run(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="cti bench smdr")
    parser.add_argument("--seconds", type=float, default=0.5, help="measuring time per format")
    args = parser.parse_args(argv)
    rates: dict[str, int] = {}
    for name in FORMATS:
        rates[name] = _rate(name, SAMPLES[name], args.seconds)
    return {"records_per_second": rates, "seconds_per_format": args.seconds}


def _rate(name: str, lines: list[str], seconds: float) -> int:
    reader = RecordReader(name)
    batch = lines * max(1, 2000 // len(lines))
    for line in batch[:50]:
        if reader.read(line) is None:
            raise RuntimeError(f"benchmark line of {name} is not a record: {line!r}")
    count = 0
    began = time.perf_counter()
    deadline = began + seconds
    read = reader.read
    while True:
        for line in batch:
            read(line)
        count += len(batch)
        now = time.perf_counter()
        if now >= deadline:
            return int(count / (now - began))
