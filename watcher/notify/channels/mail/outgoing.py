"""A message serialised once, as the relay gets it, with its envelope.

An alert is assembled as bytes directly (`watcher.notify.channels.mail.mime`) and
checked as those bytes; a message built with the `email` package (digest, notice) is
flattened once for its check and its transport. Either way the transport gets the
`Outgoing` whose bytes were checked: what was checked is exactly what is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage


@dataclass(frozen=True, slots=True)
class Outgoing:
    """`data` is the complete RFC 5322 message; the envelope goes to `recipients` only."""

    message_id: str
    sender: str
    recipients: tuple[str, ...]
    data: bytes

    @classmethod
    def of(cls, message: EmailMessage, data: bytes | None = None) -> Outgoing:
        """`message` with its envelope from From/To; `data` if it was flattened already."""
        senders = _addresses(message, "From")
        return cls(
            message_id=str(message["Message-ID"] or ""),
            sender=senders[0] if senders else "",
            recipients=tuple(_addresses(message, "To")),
            data=message.as_bytes() if data is None else data,
        )


def _addresses(message: EmailMessage, header: str) -> list[str]:
    """The bare addresses in one header of `message`."""
    value = message[header]
    return [a.addr_spec for a in getattr(value, "addresses", ())]
