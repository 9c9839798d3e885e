"""Phone numbers and device identifiers: the one place where their spellings are reconciled.

Switches name the same telephone in many ways (``N<+17867100001>Line00001;displayNumber=00001``,
``5001:CM1:10.0.0.5:0``, ``tel:+4930123``), and callers arrive in national or international
form. Drivers, db/ and the API all call into this module so that a number means the same thing
everywhere: drivers to turn switch identifiers into dialable strings, db/ to store customer phone
numbers in one canonical form and find them again from whatever form the caller ID takes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_DIALABLE = re.compile(r"\+?[0-9*#]+")
_SEPARATORS = str.maketrans("", "", " -.()/\t")
_N_FORM = re.compile(r"[Nn]<([^>]*)>")


@lru_cache(maxsize=65536)
def normalize_device(raw: str | None) -> str | None:
    """A switch's device identifier as a plain dialable string, or None if it names no number.

    The number inside ``N<...>`` wins over any suffix, displayNumber or uid; Avaya's
    ``extension:switch:ip:instance`` becomes the extension; ``sip:``/``tel:`` URIs give their
    user part. No ``+`` is ever added: that is the dial plan's job (DialPlan.canonical).
    """
    if not raw:
        return None
    text = raw.strip()
    if text.isdigit():
        return text
    match = _N_FORM.search(text)
    if match:
        text = match.group(1)
    else:
        lowered = text[:4].lower()
        if lowered.startswith(("sip:", "tel:")) or lowered == "sips":
            text = text.split(":", 1)[1]
            text = text.split("@", 1)[0]
        text = text.split(";", 1)[0]
        if text.count(":") >= 1 and not text.startswith("+"):
            text = text.split(":", 1)[0]
    text = text.translate(_SEPARATORS)
    if _DIALABLE.fullmatch(text):
        return text
    return None


def parse_device_list(spec: str) -> list[str]:
    """``1001,1002,2000-2099`` -> every number, in order, without duplicates.

    Ranges keep the width of their first bound so ``0100-0102`` gives ``0100, 0101, 0102``.
    Raises ValueError with the offending item on anything else.
    """
    seen: dict[str, None] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        if "-" in item.lstrip("+"):
            low, _, high = item.partition("-")
            low, high = low.strip(), high.strip()
            if not (low.isdigit() and high.isdigit()) or int(high) < int(low):
                raise ValueError(f"bad device range {item!r}")
            if int(high) - int(low) > 100_000:
                raise ValueError(f"device range {item!r} is too large")
            width = len(low)
            for value in range(int(low), int(high) + 1):
                seen[str(value).zfill(width)] = None
        else:
            if not _DIALABLE.fullmatch(item):
                raise ValueError(f"bad device number {item!r}")
            seen[item] = None
    if not seen:
        raise ValueError("empty device list")
    return list(seen)


@dataclass(frozen=True, slots=True)
class DialPlan:
    """How one tenant's callers spell numbers, so national and international forms meet.

    `country_code` without '+', e.g. "49"; `trunk_prefix` the national prefix ("0" in most of
    the world, "1" in North America); `international_prefix` the access code for abroad ("00",
    "011"); `national_length` the length of a national number without trunk prefix where the
    plan has a fixed one (10 in North America), so that "7865551234" is recognised as national;
    `outside_prefix` the digit a PBX user dials for an outside line ("9"), stripped from dialled
    numbers that carry it.
    """

    country_code: str = "49"
    trunk_prefix: str = "0"
    international_prefix: str = "00"
    national_length: int | None = None
    outside_prefix: str = ""

    @classmethod
    def for_country(cls, country_code: str, outside_prefix: str = "") -> DialPlan:
        """The usual plan of a country code; unknown codes get the ITU defaults (0 / 00)."""
        trunk, intl, length = _COUNTRY_DEFAULTS.get(country_code, ("0", "00", None))
        return cls(country_code, trunk, intl, length, outside_prefix)

    def canonical(self, number: str | None) -> str | None:
        """The E.164 form ("+4930123456") where the number is national or international.

        Short numbers (extensions, local subscriber numbers without area code) cannot be placed
        and come back as plain digits; None and numbers without digits give None.
        """
        digits = normalize_device(number)
        if not digits:
            return None
        if digits.startswith("+"):
            return digits
        if self.outside_prefix and digits.startswith(self.outside_prefix):
            rest = digits[len(self.outside_prefix):]
            if len(rest) > 6:
                digits = rest
        if self.international_prefix and digits.startswith(self.international_prefix):
            return "+" + digits[len(self.international_prefix):]
        if self.trunk_prefix and digits.startswith(self.trunk_prefix) and len(digits) > 6:
            national = digits[len(self.trunk_prefix):]
            if self.national_length is None or len(national) == self.national_length:
                return "+" + self.country_code + national
        if self.national_length is not None and len(digits) == self.national_length:
            return "+" + self.country_code + digits
        return digits

    def national(self, number: str | None) -> str | None:
        """The form a local agent dials: trunk prefix for this country, international otherwise."""
        canonical = self.canonical(number)
        if not canonical or not canonical.startswith("+"):
            return canonical
        if canonical.startswith("+" + self.country_code):
            return self.trunk_prefix + canonical[1 + len(self.country_code):]
        return self.international_prefix + canonical[1:]


_COUNTRY_DEFAULTS: dict[str, tuple[str, str, int | None]] = {
    "1": ("1", "011", 10),
    "7": ("8", "810", 10),
    "33": ("0", "00", 9),
    "34": ("", "00", 9),
    "39": ("", "00", None),
    "44": ("0", "00", None),
    "49": ("0", "00", None),
    "61": ("0", "0011", 9),
    "81": ("0", "010", None),
    "86": ("0", "00", None),
    "852": ("", "001", 8),
    "886": ("0", "002", None),
}
