"""Known hot story keys are the same keys whether the hot table is read whole or by key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert

from watcher.config import WatcherConfig
from watcher.service.runtime import Runtime
from watcher.store.driver import Driver
from watcher.store.story_index import KNOWN_HOT, _known_hot
from watcher.store.tables import HOT_STORY_KEYS

MakeConfig = Callable[..., WatcherConfig]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=7)


def _by_key(driver: Driver, keys: list[int]) -> set[int]:
    """The hot keys of `keys` as the IN-list statement alone finds them."""
    return {row[0] for row in driver.fetch(KNOWN_HOT, {"keys": keys, "since": SINCE})}


async def test_known_hot_keys_are_the_same_read_whole_or_key_by_key(
    make_config: MakeConfig, database_url: str
) -> None:
    """Ten keys marked hot, three of them a window ago (expired), one exactly at `since`:
    asked with more keys than the table holds (read whole), with fewer (asked by key),
    and with exactly as many, each answer is the unexpired marks among the keys asked."""
    config = make_config(database={"url": database_url})
    marks = {key: NOW - timedelta(days=key % 4) for key in range(100, 110)}
    marks[100] = marks[104] = marks[108] = SINCE - timedelta(microseconds=1)  # expired
    marks[101] = SINCE  # still hot: marked at `since`
    hot = {key for key, when in marks.items() if when >= SINCE}
    asks = [
        list(range(90, 130)),  # 40 keys, the table's 10 read whole
        [100, 101, 102, 999],  # 4 keys: by key
        list(range(100, 110)),  # as many keys as rows: read whole
        list(range(100, 109)),  # one fewer: by key
        [],
    ]
    async with Runtime(config) as rt:

        def mark(connection: Connection) -> None:
            connection.execute(
                insert(HOT_STORY_KEYS),
                [{"key": key, "marked_at": when} for key, when in marks.items()],
            )

        await rt.db.run_write(mark)

        def answers(connection: Connection) -> list[tuple[set[int], set[int]]]:
            driver = Driver(connection)
            return [
                (set(_known_hot(driver, keys, SINCE)), _by_key(driver, keys) if keys else set())
                for keys in asks
            ]

        found = await rt.db.run_read(answers)
    for keys, (whole_or_by_key, by_key) in zip(asks, found, strict=True):
        assert whole_or_by_key == by_key == hot & set(keys)
    assert found[0][0] == hot
    assert len(hot) == 7
