"""A quota's size cited as the setting of other news: background, not a quota signal.

SIGNALS.md: background is "an earlier event named only as context". A quota is issued on
a date, and its size against the prior period is news in the item that reports the
issue. An item whose headline and lead are about something else (a price round-up, a
results warning, a neighbour's export ban) and that names the quota's size only further
down cites an issue that came before: "钨价上涨的核心是供给端……2025年首批开采指标同比下降
6.45%", "China set its annual mining quota in November, indicating an increase".

A quota still late or withheld is different: that is a state that holds while the item
is written ("the RKABs are not issued yet, so nobody dares to start production"), and it
stays news wherever it is named, and so does a permit made shorter-lived (a rule that
holds from then on). So only a sentence that names a quota's size change and none of
those states is read as cited, and only when no sentence of the lead names a quota.
"""

from __future__ import annotations

from collections.abc import Sequence

from watcher.classify.rules import Hit

# the concept names of the rule vocabulary (config/rules.yaml) this reader works with
QUOTA = "quota"
# a change of the quota's size, in words or read from its figures (see `figures`)
SIZE = frozenset({"change_up", "change_down", "quota_cut", "quota_raise"})
# a quota late, withheld, awaited, issued after a wait, enforced, or its permits made
# shorter-lived: a state that holds, not a size
STATE = frozenset(
    {
        "quota_late",
        "quota_after_wait",
        "quota_enforced",
        "quota_crackdown",
        "quota_shortened",
    }
)


def mark_cited_sizes(hits: Sequence[Hit], keys: Sequence[set[str]], lead: int) -> None:
    """Make background each hit on a quota after the lead (`lead` is the first sentence
    after it) whose sentence names a change of the quota's size and no state of it, when no
    lead sentence names a quota. `keys` are the concepts of each sentence of the item."""
    if any(QUOTA in held for held in keys[:lead]):
        return
    for hit in hits:
        if hit.background or hit.sentence < lead:
            continue
        held = keys[hit.sentence]
        if (
            not held.isdisjoint(SIZE)
            and held.isdisjoint(STATE)
            and any(span.label == QUOTA for span in hit.spans)
        ):
            hit.background = True
