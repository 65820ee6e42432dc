"""An alert's text and HTML parts written by Python: the text `alert.txt.j2` and
`alert.html.j2` (with `_layout.html.j2`) render, at a fraction of Jinja's CPU.

The templates stay the reference: `render_alert` (the `email` package's message, for
the tests and `watcher send-test`) renders them, and the tests hold these functions to
the templates' output byte for byte over alerts that take every branch, hostile feed
text included. A change to an alert template must be made here too.

Escaping is the templates' autoescaping: every value the HTML shows goes through
`escape_html` (what markupsafe's `escape`, the function Jinja calls, does to a `str`),
except the `Markup` built for it (the sanitised summary, the marked evidence
sentences) and the palette's colours and severity marks, which come from
`presentation` alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from watcher.notify.channels.mail.mime import wrap_text

if TYPE_CHECKING:
    from watcher.notify.channels.mail.alert import AlertView, SignalView


def escape_html(text: str) -> str:
    """`text` with `&`, `<`, `>`, `'` and `"` replaced as markupsafe's `escape` replaces them
    (`&#39;`, `&#34;` for the quotes), as a plain `str`: no `Markup` made for each value."""
    return (
        text.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def alert_text(view: AlertView, unsubscribe: str, link: str) -> str:
    """`alert.txt.j2` rendered for `view`; `link` the signed unsubscribe link or ""."""
    out = ["[update] " if view.story_news else "", view.headline, "\n"]
    if view.link:
        out += [view.link, "\n"]
    elif view.document:
        out += [view.document, " (local file)\n"]
    if view.update:
        out += [view.update, "\n"]
    out.append("\n")
    for s in view.signals:
        count = len(s.evidence)
        out += [
            f"== {s.label} · {s.direction}",
            " (direction uncertain)" if s.direction_uncertain else "",
            f" · severity {s.marks} {s.severity}",
            " · speculative" if s.speculative else "",
            f' (score {s.score:.2f})\nWhy it fired: rule "{s.rule}" matched {count} sentence',
            "s:\n" if count != 1 else ":\n",
        ]
        if s.direction_uncertain and s.direction_doubt:
            out += ["Direction uncertain: ", s.direction_doubt, "\n"]
        for e in s.evidence:
            out += ["  > ", e.text, " (headline)\n" if e.in_title else "\n"]
        if s.elements:
            out += ["Elements:  ", ", ".join(s.elements), "\n"]
        if s.products:
            out += ["Products:  ", ", ".join(s.products), "\n"]
        if s.countries:
            out += ["Countries: ", ", ".join(s.countries), "\n"]
        out.append("\n")
    if view.summary_text:
        out += ["Summary:\n", wrap_text(view.summary_text, 76), "\n\n"]
    out += ["Source:    ", view.source, "\nPublished: ", view.published, "\n"]
    if view.link:
        out += ["Link:      ", view.link, "\n"]
    elif view.document:
        out += ["Document:  ", view.document, " (local file)\n"]
    if view.also_reported_by:
        also = ", ".join(view.also_reported_by)
        out += ["Also reported by: ", also, f" (carried by {view.carried_by} sources)\n"]
    if view.story_news:
        out += ["Update: now also reports ", view.story_news, "\n"]
    out += ["\n-- \nSupply Watcher alert for ", view.recipient]
    out.append(". Terms that matched a rule are marked [like this].\n")
    if link:
        out += ["To stop these emails, open ", link, " (one click) or write to ", unsubscribe, "."]
    else:
        out += ["To stop these emails, write to ", unsubscribe, "."]
    return "".join(out)


def alert_html(view: AlertView, unsubscribe: str, link: str) -> str:
    """`alert.html.j2` (in `_layout.html.j2`) rendered for `view`; `link` as `alert_text`."""
    headline = escape_html(view.headline)
    page = view.link and escape_html(view.link)
    out = [_HEAD, headline, _OPEN, view.accent, _BANNER]
    if page:
        out += ['<a href="', page, '" style="color:#175cd3;text-decoration:underline;">']
        out += [headline, "</a>"]
    else:
        out.append(headline)
    out += [_DATELINE, escape_html(view.source), " · ", escape_html(view.published)]
    if view.document:
        out += [" · ", escape_html(view.document)]
    out.append("</div>\n")
    if view.update:
        out += [_UPDATE, escape_html(view.update), "</div>"]
    out.append("\n</td></tr>\n")
    for s in view.signals:
        out.append(_signal_html(s))
    out.append("\n")
    if view.summary_html:
        out += [_SUMMARY, view.summary_html, "\n</td></tr>\n"]
    out += [_FACTS, escape_html(view.source), _PUBLISHED, escape_html(view.published)]
    out.append("</td></tr>\n")
    if page:
        out += [_LINK, page, '" style="color:#175cd3;">Read the report</a></td></tr>\n']
    elif view.document:
        out += [_DOCUMENT, escape_html(view.document), _LOCAL_FILE]
    out.append("\n")
    if view.also_reported_by:
        out += [_ALSO, escape_html(", ".join(view.also_reported_by))]
        out.append(f" (carried by {view.carried_by} sources)</td></tr>")
    out.append("\n")
    if view.story_news:
        out += [_NEWS, escape_html(view.story_news), "</td></tr>"]
    out += [_FOOTER, escape_html(view.recipient), ". "]
    if link:
        out += ['<a href="', escape_html(link), '" style="color:#175cd3;">Unsubscribe</a>']
        out.append(" in one click, or write to")
    else:
        out.append("To stop these emails, write to")
    mailbox = escape_html(unsubscribe)
    out += [' <a href="mailto:', mailbox, '" style="color:#175cd3;">', mailbox, _END]
    return "".join(out)


def _signal_html(s: SignalView) -> str:
    """One signal's rows of `alert.html.j2`."""
    count = len(s.evidence)
    severity = escape_html(s.severity)
    out = [
        _SIGNAL,
        escape_html(s.label),
        _DIRECTION,
        s.colour,
        ";color:",
        s.colour,
        ';">',
        escape_html(s.direction),
        _SEVERITY,
        s.colour,
        ';" title="severity ',
        severity,
        ' on a scale of low, medium, high, critical">',
        s.marks,
        " ",
        severity,
        "</span>\n",
        _UNCERTAIN if s.direction_uncertain else "",
        "\n",
        _SPECULATIVE if s.speculative else "",
        "\n</div>\n",
    ]
    if s.direction_uncertain and s.direction_doubt:
        out += [_DOUBT, escape_html(s.direction_doubt), "</div>"]
    out += [_WHY, escape_html(s.rule), f"</b>, score {s.score:.2f}, {count} sentence"]
    out.append("s</div>\n" if count != 1 else "</div>\n")
    for e in s.evidence:
        out += [_QUOTE, e.html, _IN_TITLE if e.in_title else "", "</blockquote>\n"]
    out.append(_ENTITIES)
    if s.elements:
        out += [_ELEMENTS, escape_html(", ".join(s.elements)), "</td></tr>"]
    out.append("\n")
    if s.products:
        out += [_PRODUCTS, escape_html(", ".join(s.products)), "</td></tr>"]
    out.append("\n")
    if s.countries:
        out += [_COUNTRIES, escape_html(", ".join(s.countries)), "</td></tr>"]
    out.append("\n</table>\n</td></tr>\n")
    return "".join(out)


# The templates' literal text, in the order it appears in them.
_HEAD = (
    '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width"><title>'
)
_OPEN = (
    '</title></head>\n<body style="margin:0;padding:0;background:#f4f5f7;">\n'
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0"'
    ' style="background:#f4f5f7;">\n<tr><td align="center" style="padding:16px;">\n'
    '<table role="presentation" width="640" cellpadding="0" cellspacing="0"'
    ' style="max-width:640px;width:100%;background:#ffffff;border:1px solid #dde1e6;'
    'font-family:Arial,Helvetica,sans-serif;color:#1f2933;">\n'
    '\n<tr><td style="padding:16px 20px;border-bottom:3px solid '
)
_BANNER = (
    ';">\n<div style="font-size:12px;color:#6b7280;text-transform:uppercase;'
    'letter-spacing:1px;">Supply Watcher alert</div>\n'
    '<div style="font-size:19px;font-weight:bold;margin-top:4px;line-height:1.3;">'
)
_DATELINE = '</div>\n<div style="font-size:13px;color:#6b7280;margin-top:4px;">'
_UPDATE = (
    '<div style="font-size:13px;margin-top:8px;padding:4px 8px;background:#eff8ff;'
    'color:#175cd3;border-radius:4px;">'
)
_SIGNAL = (
    '\n<tr><td style="padding:14px 20px;border-bottom:1px solid #eef0f3;">\n'
    '<div style="font-size:16px;font-weight:bold;">'
)
_DIRECTION = (
    '\n<span style="display:inline-block;font-size:12px;padding:2px 8px;margin-left:6px;'
    "border-radius:10px;border:1px solid "
)
_SEVERITY = (
    '</span>\n<span style="display:inline-block;font-size:12px;padding:2px 8px;'
    "margin-left:4px;border-radius:10px;color:#ffffff;background:"
)
_UNCERTAIN = (
    '<span style="display:inline-block;font-size:12px;padding:2px 8px;margin-left:4px;'
    'border-radius:10px;background:#eef0f3;color:#1f2933;">direction uncertain</span>'
)
_SPECULATIVE = (
    '<span style="display:inline-block;font-size:12px;padding:2px 8px;margin-left:4px;'
    'border-radius:10px;background:#fef0c7;color:#93370d;">speculative</span>'
)
_DOUBT = '<div style="font-size:12px;color:#1f2933;margin:6px 0;">Direction uncertain: '
_WHY = '\n<div style="font-size:12px;color:#6b7280;margin:6px 0;">Why it fired: rule <b>'
_QUOTE = (
    '\n<blockquote style="margin:8px 0;padding:8px 12px;border-left:3px solid #d0d5dd;'
    'background:#f9fafb;font-size:14px;line-height:1.45;">'
)
_IN_TITLE = ' <i style="color:#6b7280;">(headline)</i>'
_ENTITIES = (
    '\n<table role="presentation" cellpadding="0" cellspacing="0"'
    ' style="font-size:13px;color:#1f2933;">\n'
)
_ELEMENTS = '<tr><td style="padding:2px 12px 2px 0;color:#6b7280;">Elements</td><td>'
_PRODUCTS = '<tr><td style="padding:2px 12px 2px 0;color:#6b7280;">Products</td><td>'
_COUNTRIES = '<tr><td style="padding:2px 12px 2px 0;color:#6b7280;">Countries</td><td>'
_SUMMARY = (
    '\n<tr><td style="padding:12px 20px;font-size:13px;line-height:1.5;color:#374151;'
    'border-bottom:1px solid #eef0f3;">\n<div style="font-size:12px;color:#6b7280;'
    'text-transform:uppercase;letter-spacing:1px;margin-bottom:4px;">Summary</div>\n'
)
_FACTS = (
    '\n<tr><td style="padding:12px 20px;font-size:13px;line-height:1.6;">\n'
    '<table role="presentation" cellpadding="0" cellspacing="0"'
    ' style="font-size:13px;color:#1f2933;">\n'
    '<tr><td style="padding:0 12px 0 0;color:#6b7280;">Source</td><td>'
)
_PUBLISHED = '</td></tr>\n<tr><td style="padding:0 12px 0 0;color:#6b7280;">Published</td><td>'
_LINK = '<tr><td style="padding:0 12px 0 0;color:#6b7280;">Link</td><td><a href="'
_DOCUMENT = '<tr><td style="padding:0 12px 0 0;color:#6b7280;">Document</td><td>'
_LOCAL_FILE = ' <span style="color:#6b7280;">(local file)</span></td></tr>'
_ALSO = '<tr><td style="padding:0 12px 0 0;color:#6b7280;">Also reported by</td><td>'
_NEWS = '<tr><td style="padding:0 12px 0 0;color:#6b7280;">Update</td><td>now also reports '
_FOOTER = (
    "\n</table>\n</td></tr>\n\n"
    '<tr><td style="padding:12px 20px;font-size:12px;line-height:1.5;color:#6b7280;'
    'border-top:1px solid #eef0f3;">\n'
    "Highlighted terms are those that matched a watch rule.\nSent by Supply Watcher to "
)
_END = "</a>.\n</td></tr>\n</table>\n</td></tr>\n</table>\n</body>\n</html>"
