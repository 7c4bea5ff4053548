"""Incident settings: the `incidents:` section of guard.yaml.

`state_dir` and `redis_url` come from the top-level settings; this section only tunes how
incidents are written, kept and shown.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field


class IncidentSettings(BaseModel):
    """How incidents are recorded.

    excerpts:           include a redacted, truncated excerpt of the text in each incident.
                        Off by default: an incident then holds only a content hash.
    excerpt_chars:      longest excerpt kept, in characters (after redaction).
    log:                also write every incident as one structlog JSON line (`incident` event).
    journal:            append incidents to the JSONL journal in `state_dir/incidents/journal`.
    fsync_interval_ms:  the journal and the spools are fsynced at least this often, in
                        milliseconds; a machine that loses power loses at most the incidents
                        written within this interval (see docs/incidents.md).
    answer_wait_ms:     an answer that made an incident waits for it to be written to the
                        journal (or its spool; the Redis Stream when there is no journal) before
                        the client gets it, at most this long, in milliseconds: a process
                        killed with SIGKILL loses no incident whose answer a client saw. 0: no
                        wait (an incident queued when the process is killed is lost).
    fsync_batch:        fsync early once this many incidents were written since the last fsync.
    rotate_bytes:       start a new journal file once the current one reaches this size, in bytes.
    journal_keep_days:  delete journal files last written more than this many days ago (whole
                        files, never one a running process writes to; checked every minute).
                        None: kept however old (see docs/incidents.md, "Retention").
    journal_keep_bytes: delete the least recently written journal files while the journal is
                        larger than this, in bytes (the same files are never deleted). None: no
                        size limit, the journal grows until the volume is full.
    redis_stream:       the Redis Stream incidents are added to (when `redis_url` is set).
    redis_maxlen:       approximate length the stream is trimmed to (`XADD MAXLEN ~`), entries.
    redis_dedupe_ttl_s: seconds an incident id is remembered in Redis so that a batch re-sent
                        after a lost reply is not added twice.
    spool_max_bytes:    disk space one sink's spool may use in each process, in bytes; beyond
                        it incidents for that sink are dropped (and counted in
                        guard_incident_dropped_total). `guard serve` warns at start when the
                        spools, the journal and the kill switch state may outgrow the volume
                        of `state_dir` (guard.incidents.budget).
    retry_interval_ms:  how often a failing sink is retried, in milliseconds (doubling up to
                        `retry_max_ms` while it keeps failing).
    retry_max_ms:       the longest wait between retries of a failing sink, in milliseconds.
    queue_size:         incidents waiting in memory to be written; beyond it recording drops
                        (counted, logged). Recording never waits for room.
    batch_size:         incidents written to a sink in one operation, at most.
    hash_key_env:       environment variable holding the key `content_hash` is an HMAC-SHA256
                        under (`hmac-sha256:`); the same key in two deployments makes their
                        hashes comparable. Unset: a key guard makes once per deployment
                        (`state_dir/incident-hash.key`, shared through Redis when `redis_url`
                        is set). Either way nobody without the key can test a guessed text
                        against a hash (a plain SHA-256 of a card number is found again by
                        hashing the candidates). A variable it names that is unset or empty
                        stops `guard serve` (and `--check`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    excerpts: bool = False
    excerpt_chars: int = Field(200, ge=16, le=4096)
    log: bool = True
    journal: bool = True
    fsync_interval_ms: int = Field(200, ge=1, le=60_000)
    answer_wait_ms: int = Field(1000, ge=0, le=60_000)
    fsync_batch: int = Field(256, ge=1)
    rotate_bytes: int = Field(64 << 20, ge=4096)
    journal_keep_days: float | None = Field(None, gt=0)
    journal_keep_bytes: int | None = Field(None, ge=1 << 20)
    redis_stream: str = Field("guard:incidents", min_length=1, max_length=200)
    redis_maxlen: int = Field(1_000_000, ge=1000)
    redis_dedupe_ttl_s: int = Field(86_400, ge=60)
    spool_max_bytes: int = Field(1 << 30, ge=1 << 16)
    retry_interval_ms: int = Field(250, ge=10)
    retry_max_ms: int = Field(5_000, ge=10)
    queue_size: int = Field(100_000, ge=100)
    batch_size: int = Field(500, ge=1, le=10_000)
    hash_key_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    def hash_key(self) -> bytes | None:
        """The content-hash key from `hash_key_env` (None when unset or empty)."""
        value = os.environ.get(self.hash_key_env, "") if self.hash_key_env else ""
        return value.encode() or None
