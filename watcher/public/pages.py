"""The public endpoint's few HTML pages: confirm, done, refused. No scripts, no tracking."""

from __future__ import annotations

from html import escape

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;">
<h1 style="font-size:1.3rem;">{title}</h1>
{body}
</body></html>
"""


def page(title: str, body_html: str) -> str:
    """A complete page; `body_html` must already be escaped."""
    return _PAGE.format(title=escape(title), body=body_html)


def confirm_page(address: str) -> str:
    """Asks to confirm with a button (a GET alone never unsubscribes: scanners prefetch)."""
    return page(
        "Unsubscribe from Supply Watcher",
        f"<p>Stop every alert and digest to <strong>{escape(address)}</strong>?</p>"
        '<form method="post"><button type="submit" name="confirm" value="yes"'
        ' style="font-size:1rem;padding:.5rem 1rem;">Unsubscribe</button></form>',
    )


def done_page(address: str, changed: bool) -> str:
    """Says the address is unsubscribed (and whether it already was)."""
    already = "" if changed else " It already was."
    return page(
        "You are unsubscribed",
        f"<p><strong>{escape(address)}</strong> will get no more alerts or digests"
        f" from Supply Watcher.{already}</p>"
        "<p>Changed your mind? Ask the operator to resubscribe you.</p>",
    )


def refused_page(reason: str) -> str:
    """Says why a link was refused; nothing was changed."""
    return page(
        "This link cannot be used",
        f"<p>{escape(reason)}.</p><p>Nothing was changed. Use the link in a recent email,"
        " or write to the unsubscribe address it names.</p>",
    )
