"""A quota's size cited as the setting of other news: background, not a quota signal.

SIGNALS.md: background is "an earlier event named only as context". A quota is issued on
a date, and its size against the prior period is news in the item that reports the
issue. An item whose headline and lead are about something else (a price round-up, a
results warning, a neighbour's export ban) and that names the quota's size only further
down cites an issue that came before: "钨价上涨的核心是供给端……2025年首批开采指标同比下降
6.45%", "China set its annual mining quota in November, indicating an increase".

A quota still late or withheld is different: that is a state that holds while the item
is written ("the RKABs are not issued yet, so nobody dares to start production"), and it
stays news wherever it is named. So only a hit whose cues are all size changes, with no
wait or withholding among them, is read as cited, and only when no sentence of the lead
names a quota.
"""

from __future__ import annotations

from collections.abc import Sequence

from watcher.classify.rules import Hit

# the concept names of the rule vocabulary (config/rules.yaml) this reader works with
QUOTA = "quota"
# a change of the quota's size, in words or read from its figures (see `figures`)
SIZE = frozenset({"change_up", "change_down", "quota_cut", "quota_raise"})
# a quota late, withheld, awaited, issued after a wait or enforced: a state, not a size
WAIT = frozenset(
    {
        "quota_late",
        "not_yet",
        "quota_issued",
        "quota_after_wait",
        "quota_enforced",
        "quota_crackdown",
    }
)


def mark_cited_sizes(hits: Sequence[Hit], keys: Sequence[set[str]], lead: int) -> None:
    """Make background each hit after the lead (`lead` is the first sentence after it)
    that names a quota and only a change of its size, when no lead sentence names a
    quota. `keys` are the concepts of each sentence of the item."""
    if any(QUOTA in held for held in keys[:lead]):
        return
    for hit in hits:
        if hit.background or hit.sentence < lead:
            continue
        labels = {span.label for span in hit.spans}
        if QUOTA in labels and not labels.isdisjoint(SIZE) and labels.isdisjoint(WAIT):
            hit.background = True
