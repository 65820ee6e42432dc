"""The summary sanitiser made once (`nh3.Cleaner`) cleans as `nh3.clean` with its options."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import nh3

from watcher.notify.channels.mail.alert import sanitize_summary

OPTIONS: dict[str, Any] = {
    "tags": {"a", "b", "i", "em", "strong", "br"},
    "attributes": {"a": {"href"}},
    "url_schemes": {"http", "https"},
    "link_rel": "noopener noreferrer nofollow",
}
PIECES = [
    "word ",
    "<b>bold</b> ",
    "<script>alert(1)</script>",
    '<a href="https://ok.example/x">ok</a> ',
    '<a href="javascript:alert(1)">js</a>',
    '<a href="file:///etc/passwd" title="t">file</a>',
    '<img src="x" onerror="alert(1)">',
    "<style>p{}</style>",
    "<i>it",
    "&amp; &lt; < > \" '",
    "<br/>",
    "<!-- comment -->",
    '<em class="c">em</em>',
    "é ünï ",
]


def test_summaries_are_cleaned_as_nh3_clean_cleans_them() -> None:
    rng = random.Random(11)
    for _ in range(500):
        body = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 30)))
        assert sanitize_summary(body, limit=10_000) == nh3.clean(body.strip(), **OPTIONS)


def test_threads_clean_with_the_one_cleaner_at_once() -> None:
    rng = random.Random(3)
    bodies = ["".join(rng.choice(PIECES) for _ in range(40)) for _ in range(400)]
    expected = [nh3.clean(b.strip(), **OPTIONS) for b in bodies]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda b: sanitize_summary(b, limit=10_000), bodies)) == expected
