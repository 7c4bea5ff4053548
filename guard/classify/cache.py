"""The verdict cache: a bounded in-process LRU, optionally shared between replicas through Redis.

A conversation re-sends its whole history with every request, so most segments of request N were
classified in request N-1. An entry is keyed by the classifier's config hash, the stage, the
segment's role and a hash of its text, and holds what the verdict found (labels, score, spans);
the classifier name and segment index are filled in from the request that hits it.

The key hashes the original text rather than the normalised one: spans are positions in the
original text, and normalisation is a function of it, so equal originals always share an entry
while two different spellings of the same words (whose spans differ) never do.

Redis is best-effort: a Redis that is slow or down makes look-ups miss, never fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import orjson
import structlog

from guard.types import Span

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = structlog.get_logger("guard.classify.cache")

Entry = tuple[frozenset[str], float, tuple[Span, ...]]


def text_digest(text: str) -> str:
    """A 128-bit hash of a segment's text (surrogates survive: clients send broken JSON too)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def encode_entry(entry: Entry) -> bytes:
    labels, score, spans = entry
    return orjson.dumps(
        {"l": sorted(labels), "s": score, "p": [[s.start, s.end, s.label] for s in spans]}
    )


def decode_entry(blob: bytes) -> Entry:
    raw = orjson.loads(blob)
    return (
        frozenset(raw["l"]),
        float(raw["s"]),
        tuple(Span(int(a), int(b), str(lab)) for a, b, lab in raw["p"]),
    )


class VerdictCache:
    """Bounded LRU of verdict entries, with an optional Redis behind it.

    max_entries:     entries kept in process; the least recently used go first.
    redis:           a redis.asyncio client shared by the replicas, or None.
    ttl_s:           seconds an entry lives in Redis.
    redis_timeout_s: seconds a Redis look-up may take before it counts as a miss.
    """

    def __init__(
        self,
        max_entries: int = 50_000,
        *,
        redis: Redis | None = None,
        ttl_s: int = 3600,
        redis_timeout_s: float = 0.05,
        prefix: str = "guard:verdict:",
    ) -> None:
        self.max_entries = max_entries
        self.redis = redis
        self.ttl_s = ttl_s
        self.redis_timeout_s = redis_timeout_s
        self.prefix = prefix
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._writes: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Entry | None:
        """The in-process entry for `key`, marked as recently used."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        """Keep `entry` in process, evicting the least recently used beyond max_entries."""
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def get_shared(self, keys: Sequence[str]) -> dict[str, Entry]:
        """Entries Redis holds for `keys`, copied into the process; {} without Redis or on error."""
        if self.redis is None or not keys:
            return {}
        try:
            async with asyncio.timeout(self.redis_timeout_s):
                blobs = await self.redis.mget([self.prefix + k for k in keys])
        except Exception as exc:  # best-effort: a Redis outage is a cache miss
            log.debug("verdict cache read failed", error=type(exc).__name__)
            return {}
        found: dict[str, Entry] = {}
        for key, blob in zip(keys, blobs, strict=True):
            if blob is None:
                continue
            try:
                entry = decode_entry(blob if isinstance(blob, bytes) else blob.encode())
            except (ValueError, KeyError, TypeError):
                continue
            found[key] = entry
            self.put(key, entry)
        return found

    def put_shared(self, items: Iterable[tuple[str, Entry]]) -> None:
        """Write entries to Redis in the background (never delays the request)."""
        if self.redis is None:
            return
        batch = [(self.prefix + k, encode_entry(e)) for k, e in items]
        if not batch:
            return
        loop = asyncio.get_running_loop()
        task = loop.create_task(self._write(batch))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write(self, batch: list[tuple[str, bytes]]) -> None:
        assert self.redis is not None
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, blob in batch:
                    pipe.set(key, blob, ex=self.ttl_s)
                await pipe.execute()
        except Exception as exc:  # best-effort, like reads
            log.debug("verdict cache write failed", error=type(exc).__name__)

    async def aclose(self) -> None:
        """Wait for pending Redis writes (the Redis client itself belongs to the caller)."""
        if self._writes:
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._writes, return_exceptions=True)
