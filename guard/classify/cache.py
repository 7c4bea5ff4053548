"""The verdict cache: a bounded in-process LRU, optionally shared between replicas through Redis.

A conversation re-sends its whole history with every request, so most segments of request N were
classified in request N-1. An entry is keyed by the classifier's config hash, the stage, the
segment's role and a hash of its text (and of the turns before it, `Segment.context`, when a
classifier reads them: history keeps those too; and of the text after it, `Segment.after`), and
holds the verdict; a hit from another instance name or segment position gets a copy with those
filled in (in a conversation, history keeps its positions, so the stored verdict itself is
reused and a hit allocates nothing). In
process, a segment also keeps whole rows: every verdict of one list of classifiers at one
position.

The key hashes the original text rather than the normalised one: spans are positions in the
original text, and normalisation is a function of it, so equal originals always share an entry
while two different spellings of the same words (whose spans differ) never do.

Redis is best-effort: a Redis that is slow or down makes look-ups miss, never fail. Each failed
read or write is counted (`on_error`, which the runner turns into
`guard_classifier_cache_errors_total`) and logged as a warning at most once a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

import orjson
import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from guard.observability.repeats import Repeats
from guard.types import Segment, Span, Verdict

log = structlog.get_logger("guard.classify.cache")
WARN_EVERY_S = 60.0  # a Redis outage is logged once a minute, not once per request

RowKey = tuple[tuple[str, str], ...]  # (instance name, config hash) of each classifier, in order
Row = tuple[int, tuple[Verdict, ...]]  # a segment's position and each classifier's verdict there


class Slot:
    """What is known of one segment's text: each classifier config's verdict, and whole rows.

    A row holds the verdicts of one list of classifiers at one position, so a segment seen
    before costs a single look-up however many classifiers run.
    """

    __slots__ = ("evicted", "rows", "verdicts", "weight")

    def __init__(self, weight: int) -> None:
        self.verdicts: dict[str, Verdict] = {}
        self.rows: dict[RowKey, Row] = {}
        self.weight = weight  # what it counts against `max_chars` (VerdictCache.keep)
        self.evicted = False  # dropped from the cache while a request still fills it

    def keep_row(self, key: RowKey, index: int) -> None:
        """Remember a row for `key` at `index` when every classifier's verdict is there, stored
        under its own instance name and this position."""
        row = []
        for name, config_hash in key:
            verdict = self.verdicts.get(config_hash)
            if verdict is None or verdict.classifier != name or verdict.segment != index:
                return
            row.append(verdict)
        self.rows[key] = (index, tuple(row))


def shared_redis(url: str) -> Redis:
    """The shared cache's Redis client, bounded like the kill switch's: a connection taking over
    1 s or a reply over 2 s fails (a stalled Redis holds no background write, nor shutdown
    waiting for one, for longer), and nothing is retried: a failure is only a miss."""
    return Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0,
                          retry=Retry(NoBackoff(), 0))


# A span kept in a verdict costs about as much memory as this many characters of text (128
# bytes measured, against one per ASCII character): a text dense with findings (4,200 e-mail
# addresses in 60,000 characters) had cost 14.7 bytes per character counted.
SPAN_CHARS = 128


# stage, role, text, the texts before it, the text after it, where those read after it begin
SlotKey = tuple[str, str, str, tuple[str, ...], str, tuple[int, ...]]


def _chars(key: SlotKey) -> int:
    """What a slot's key counts against `max_chars`: its text, the turns before it and the text
    after it (`Segment.after`)."""
    return len(key[2]) + sum(map(len, key[3])) + len(key[4])


def text_digest(text: str) -> str:
    """A 128-bit hash of a segment's text (surrogates survive: clients send broken JSON too)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def encode_entry(verdict: Verdict) -> bytes:
    """What Redis keeps of a verdict (`j` only when it was read joined to earlier turns)."""
    entry: dict[str, object] = {
        "l": sorted(verdict.labels),
        "s": verdict.score,
        "p": [[s.start, s.end, s.label] for s in verdict.spans],
    }
    if verdict.joined:
        entry["j"] = verdict.joined
    return orjson.dumps(entry)


def decode_entry(blob: bytes) -> Verdict:
    """The verdict `encode_entry` kept; its name and position come from the request."""
    raw = orjson.loads(blob)
    return Verdict(
        "",
        -1,
        frozenset(raw["l"]),
        float(raw["s"]),
        tuple(Span(int(a), int(b), str(lab)) for a, b, lab in raw["p"]),
        joined=int(raw.get("j", 0)),
    )


class VerdictCache:
    """Bounded LRU of verdict entries, with an optional Redis behind it.

    max_entries:     segments kept in process (each with the verdicts of every classifier
                     config that saw it); the least recently used go first.
    max_chars:       and at most this many characters of their texts (and the turns before
                     them, and SPAN_CHARS per span their verdicts keep), so long texts cannot
                     fill memory under max_entries: a slow stream re-checked whole, pasted
                     documents. A text longer than that alone is kept alone.
    redis:           a redis.asyncio client shared by the replicas, or None.
    ttl_s:           seconds an entry lives in Redis.
    redis_timeout_s: seconds a Redis look-up may take before it counts as a miss.
    """

    def __init__(
        self,
        max_entries: int = 50_000,
        *,
        max_chars: int = 64_000_000,
        redis: Redis | None = None,
        ttl_s: int = 3600,
        redis_timeout_s: float = 0.05,
        prefix: str = "guard:verdict:",
    ) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self.chars = 0  # of the keys in _slots
        self.redis = redis
        self.ttl_s = ttl_s
        self.redis_timeout_s = redis_timeout_s
        self.prefix = prefix
        self.on_error: Callable[[str], None] | None = None  # told "read" or "write" per failure
        self._failures = Repeats(WARN_EVERY_S)
        self._slots: OrderedDict[SlotKey, Slot] = OrderedDict()
        self._writes: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._slots)

    def slots(self, stage: str, segments: Sequence[Segment]) -> list[Slot]:
        """The slot of each segment (created empty on first use), most recently used last.

        Keyed in process by the text itself: a dict look-up hashes and compares it in C, which
        is cheaper than a cryptographic digest, and a conversation's history hits every time.
        """
        entries = self._slots
        found = []
        for segment in segments:
            key = (stage, segment.role, segment.text, segment.context, segment.after,
                   segment.joins)
            slot = entries.get(key)
            if slot is None:
                slot = entries[key] = Slot(_chars(key))
                self.chars += slot.weight
                self._evict()
            else:
                entries.move_to_end(key)
            found.append(slot)
        return found

    def keep(self, slot: Slot, config_hash: str, verdict: Verdict) -> None:
        """Keep a classifier config's verdict in a segment's slot, its spans counted."""
        slot.verdicts[config_hash] = verdict
        if verdict.spans and not slot.evicted:
            added = SPAN_CHARS * len(verdict.spans)
            slot.weight += added
            self.chars += added
            self._evict()

    def _evict(self) -> None:
        """Drop the least recently used slots while over a bound (the newest always stays)."""
        entries = self._slots
        while len(entries) > self.max_entries or (self.chars > self.max_chars and len(entries) > 1):
            oldest = entries.popitem(last=False)[1]
            self.chars -= oldest.weight
            oldest.evicted = True

    def shared_key(self, config_hash: str, stage: str, segment: Segment) -> str:
        """The Redis key of one classifier config's verdict on one segment (and the turns before
        it, when a classifier reads them)."""
        key = f"{self.prefix}{config_hash}:{stage}:{segment.role}:{text_digest(segment.text)}"
        if segment.context:  # each text length-prefixed: no two contexts write the same string
            key += ":" + text_digest("".join(f"{len(t)}:{t}" for t in segment.context))
        if segment.after:
            key += ":after:" + text_digest(segment.after)
        if segment.joins:  # where the texts read after it begin: a phrase meets across them
            key += ":joins:" + ",".join(map(str, segment.joins))
        return key

    async def get_shared(self, keys: Sequence[str]) -> dict[str, Verdict]:
        """Verdicts Redis holds for `keys` (shared keys); {} without Redis or on error."""
        if self.redis is None or not keys:
            return {}
        try:
            async with asyncio.timeout(self.redis_timeout_s):
                blobs = await self.redis.mget(list(keys))
        except Exception as exc:  # best-effort: a Redis outage is a cache miss
            self._failure("read", exc)
            return {}
        found: dict[str, Verdict] = {}
        for key, blob in zip(keys, blobs, strict=True):
            if blob is None:
                continue
            try:
                found[key] = decode_entry(blob if isinstance(blob, bytes) else blob.encode())
            except (ValueError, KeyError, TypeError):
                continue
        return found

    def put_shared(self, items: Iterable[tuple[str, Verdict]]) -> None:
        """Write verdicts to Redis in the background (never delays the request)."""
        if self.redis is None:
            return
        batch = [(k, encode_entry(v)) for k, v in items]
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
            self._failure("write", exc)

    def _failure(self, op: str, exc: Exception) -> None:
        if self.on_error is not None:
            self.on_error(op)
        if failures := self._failures.due():
            log.warning("verdict_cache_unavailable", op=op, error=type(exc).__name__,
                        failures=failures, detail="the shared verdict cache is missed "
                        "(classifiers run instead) until Redis answers again")

    async def aclose(self) -> None:
        """Wait for pending Redis writes (the Redis client itself belongs to the caller)."""
        if self._writes:
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._writes, return_exceptions=True)
