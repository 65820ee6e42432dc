"""Quota anaphora: a later sentence that names the item's issued quota again by its
issue alone and sets it after a wait.

"China has issued its first 2025 quotas … The quiet release follows months of delay": the
second sentence's "release" is the quota of the first, and the wait it reports ended with
that release (a late quota issued). `quota_anaphors` finds such definite noun phrases
("the release", "this allocation", "the quiet release") in sentences that hold an issue
word and a `quota_after_wait` cue but no quota word, when an earlier sentence of the item
names a quota; the engine reads their determiner as a mention of the quota concept.

Only the wait's end is read this way: "the release was delayed" alone does not say
whether the quota has come out since, and a release with nothing before it that names a
quota ("the release of stockpiles") refers to nothing; both stay unread.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from watcher.classify.text import Sentence

ISSUED = "quota_issued"
AFTER_WAIT = "quota_after_wait"

# a determiner (and at most one modifier) opening a noun phrase whose head is the issue
# of something; the match is the determiner and modifier, the head stays the issue word
_ANAPHOR = re.compile(
    r"\b(?:the|this|that)(?:\s+(?!of\b|and\b)[a-z-]+)?\s+(?=(?:release|issuance|allocation)\b)"
)


def quota_anaphors(
    text: str, sentences: Sequence[Sentence], keys: Sequence[set[str]], quota: str
) -> list[tuple[int, int, int]]:
    """(sentence, start, end) of each definite phrase naming the item's quota again by
    its issue: in a sentence holding `quota_issued` and `quota_after_wait` but not
    `quota`, after a sentence holding `quota`. `text` is the folded, lower-cased item text."""
    out = []
    seen_quota = False
    for index, held in enumerate(keys):
        if quota in held:
            seen_quota = True
            continue
        if not seen_quota or ISSUED not in held or AFTER_WAIT not in held:
            continue
        sentence = sentences[index]
        match = _ANAPHOR.search(text, sentence.start, sentence.end)
        if match is not None:
            out.append((index, match.start(), match.start() + len(match.group().rstrip())))
    return out
