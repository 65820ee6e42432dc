"""An admin notice as a plain-text email to every admin.

Folded by `MAIL_POLICY`, as alerts are: Subject by `fold_subject`, since the `email`
package's own folding drops or doubles the space beside an encoded word.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from watcher.config import WatcherConfig
from watcher.notify.channels.mail.headers import MAIL_POLICY, clean_title
from watcher.store.notices import Notice


def render_notice(notice: Notice, config: WatcherConfig, now: datetime) -> EmailMessage:
    """A plain-text email to every admin."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = config.mail.sender
    message["To"] = ", ".join(config.admins)
    message["Subject"] = "[Supply Watcher ops] " + clean_title(notice.subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = notice.message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"{notice.body}\n\n--\nOperational notice from Supply Watcher (key {notice.key}).\n"
    )
    return message
