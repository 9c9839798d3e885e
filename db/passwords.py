"""Password hashing with scrypt from the standard library (no new dependency).

The stored form carries its own parameters, ``scrypt$N$r$p$salt$hash`` (base64), so the cost
can be raised later without invalidating existing hashes; verify() reads them from the hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

# 2**14 with r=8 costs ~16 MiB and some tens of milliseconds: the interactive-login figure
# recommended for scrypt.
DEFAULT_N = 2**14
DEFAULT_R = 8
DEFAULT_P = 1
_KEY_LENGTH = 32
_MAX_N = 2**20


def hash_password(password: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P) -> str:
    if not password:
        raise ValueError("empty password")
    salt = os.urandom(16)
    key = _derive(password, salt, n, r, p)
    return "$".join(("scrypt", str(n), str(r), str(p), _b64(salt), _b64(key)))


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches `stored`; False for a wrong password or a malformed hash."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        n_, r_, p_ = int(n), int(r), int(p)
        if scheme != "scrypt" or not 1 < n_ <= _MAX_N:
            return False
        expected = base64.b64decode(key)
        actual = _derive(password, base64.b64decode(salt), n_, r_, p_)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024,
        dklen=_KEY_LENGTH,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
