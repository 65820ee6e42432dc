"""Secrets inside URLs and error texts are masked before anything prints them.

A URL carries secrets in its user-info (`postgresql://user:pw@host/db`) and in query or
fragment parameters (`?password=`, which asyncpg accepts, `?sslpassword=`, `&token=`,
`#access_token=`, an `api_key`). `mask_secrets` replaces each such value with `***`
wherever it stands in a text: an error message, a log field, a traceback.
"""

from __future__ import annotations

import re

MASK = "***"
# user-info password: scheme://user:<secret>@
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.IGNORECASE)
# a URL parameter: ?name=value, &name=value, ;name=value, #name=value
_PARAMETER = re.compile(r"([?&;#])([a-z0-9_.\-]+)=([^&;#\s'\"<>]*)", re.IGNORECASE)
# a name containing one of these holds a secret (password, sslpassword, access_token, …)
_SECRET_IN_NAME = ("pass", "pwd", "secret", "token", "credential", "signature", "apikey")
# a name with one of these as a whole part does (api_key, key, x-auth, sig), not "monkey"
_SECRET_PARTS = frozenset({"key", "auth", "sig", "session"})


def mask_secrets(text: str) -> str:
    """`text` with URL passwords and secret-named parameters replaced by `***`."""
    if "@" in text:
        text = _USERINFO.sub(rf"\1{MASK}@", text)
    if "=" in text:
        text = _PARAMETER.sub(_masked_parameter, text)
    return text


def _masked_parameter(match: re.Match[str]) -> str:
    separator, name, value = match.groups()
    if value and secret_name(name):
        value = MASK
    return f"{separator}{name}={value}"


def secret_name(name: str) -> bool:
    """Whether a parameter or field called `name` holds a secret."""
    lowered = name.lower()
    if any(word in lowered for word in _SECRET_IN_NAME):
        return True
    return not _SECRET_PARTS.isdisjoint(re.split(r"[_.\-]", lowered))
