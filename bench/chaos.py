"""Chaos under load: mixed traffic runs against guard (with Redis) while, one after the other,
Redis is killed and restarted, the stand-in model is killed and restarted, the policies are
reloaded four ways, and guard itself gets SIGTERM (in-flight streams must finish) and SIGKILL,
each followed by a restart.

    .venv/bin/python bench/chaos.py [--duration 120] [--concurrency 6] [--write]

`--duration` spreads over the phases (each phase holds its fault for a share of it). The table
counts requests and errors by kind per phase; a phase may only show the error kinds its fault
explains (502 while the model is down, refused connections while guard is down, ...). Incidents
lost = incidents the clients saw (an `X-Guard-Incident-Id` header, or a masked value in a stream)
and that neither the journal nor the Redis Stream holds; it must be 0, SIGKILLs included: an answer
goes out only once its incidents are written (`incidents.answer_wait_ms`). The Redis Stream may
lack what its sink had queued in the `incidents.fsync_interval_ms` before a kill.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.traffic import (
    ADMIN_TOKEN,
    DISCONNECTED,
    MASK,
    POLICY_VIOLATION,
    REFUSED,
    RESET_NEW,
    TRUNCATED,
    UPSTREAM_BROKEN,
    Kind,
    Result,
    Stack,
    Traffic,
    error_counts,
    expected_incidents,
    incident_keys,
)

# The SIGKILL bound of the Redis sink (incidents.fsync_interval_ms, its default): what it had
# queued may be lost; the journal has it (an answer waits for that, `incidents.answer_wait_ms`).
FSYNC_INTERVAL_S = 0.2
# The longest a reload phase waits for guard to count its reload: the file watcher polls every
# second and loads a change it read at two polls in a row (~2 s); a signal or the admin endpoint
# reloads at once. (A fixed 2.5 s each held these phases 10 s of a 35 s run.)
RELOAD_WAIT_S = 10.0
PROBE_REPLY = "w" * 120 + " write to probe.owner@example.net when done"
UPSTREAM_DOWN = frozenset({"http_502_upstream_unreachable", "http_502_upstream_broken",
                           UPSTREAM_BROKEN, TRUNCATED})
GUARD_DOWN = frozenset({REFUSED, RESET_NEW, DISCONNECTED})


@dataclass
class Phase:
    """One fault (or none) and what clients may see while it lasts."""

    name: str
    allowed: frozenset[str]
    started: float = 0.0
    ended: float = 0.0
    notes: list[str] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)

    def unexpected(self) -> Counter[str]:
        return Counter({k: v for k, v in error_counts(self.results).items()
                        if k not in self.allowed})


@dataclass
class Report:
    """Everything a chaos run measured."""

    phases: list[Phase]
    results: list[Result]
    expected: dict[str, float]
    journal: int
    in_redis: int
    lost: list[str]
    lost_in_bound: list[str]
    near_kill: int  # incidents clients saw within the SIGKILL bound before a kill
    missing_from_redis: int
    missing_from_redis_outside_bound: int  # not among the incidents seen just before a SIGKILL
    probes_ok: int
    probes: int
    sigterm_exit: int | None
    final_exit: int
    reloads: dict[str, dict[str, float]]  # phase -> reloads guard counted in it, by result

    @property
    def lost_outside_bound(self) -> list[str]:
        return [k for k in self.lost if k not in self.lost_in_bound]

    def table(self) -> str:
        lines = ["| phase | requests | ok | errors by kind (expected for this fault) | "
                 "unexpected errors | notes |", "|---|---|---|---|---|---|"]
        for p in self.phases:
            errors = error_counts(p.results)
            shown = ", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "none"
            unexpected = ", ".join(f"{k} {v}" for k, v in sorted(p.unexpected().items()))
            ok = sum(1 for r in p.results if r.error is None)
            lines.append(f"| {p.name} | {len(p.results)} | {ok} | {shown} | "
                         f"{unexpected or '0'} | {'; '.join(p.notes)} |")
        total = error_counts(self.results)
        lines.append(f"| **all** | {len(self.results)} | "
                     f"{sum(1 for r in self.results if r.error is None)} | "
                     f"{sum(total.values())} | "
                     f"{sum(sum(p.unexpected().values()) for p in self.phases)} | |")
        return "\n".join(lines)

    def summary(self) -> str:
        return "\n".join([
            f"Incidents the clients saw: {len(self.expected)}; in the journal: {self.journal}; "
            f"in the Redis Stream: {self.in_redis} (missing from Redis after the run: "
            f"{self.missing_from_redis}, of them outside the SIGKILL bound: "
            f"{self.missing_from_redis_outside_bound}).",
            f"Incidents lost: {len(self.lost)} (within the SIGKILL bound of "
            f"{FSYNC_INTERVAL_S * 1000:.0f} ms: {len(self.lost_in_bound)}; outside it: "
            f"{len(self.lost_outside_bound)}; clients saw {self.near_kill} within the "
            f"{FSYNC_INTERVAL_S * 1000:.0f} ms before the SIGKILL).",
            f"SIGTERM: {self.probes_ok}/{self.probes} in-flight streams finished whole; guard "
            f"exited with {self.sigterm_exit} (at the end of the run: {self.final_exit}).",
            "Policy reloads guard counted (guard_policy_reloads_total): " + "; ".join(
                f"{phase}: " + ", ".join(f"{k} {v:g}" for k, v in sorted(counts.items()))
                for phase, counts in self.reloads.items()) + ".",
        ])


class Chaos:
    """Drives the faults in turn while `Traffic` runs, attributing each result to the phase in
    which it ended."""

    def __init__(self, stack: Stack, traffic: Traffic, hold_s: float, settle_s: float) -> None:
        self.stack = stack
        self.traffic = traffic
        self.hold_s = hold_s
        self.settle_s = settle_s
        self.phases: list[Phase] = []
        self.kills: list[float] = []
        self.probes: list[Result] = []
        self.sigterm_exit: int | None = None
        self.reloads: dict[str, dict[str, float]] = {}
        self._edits = 0

    async def run(self) -> Report:
        load = asyncio.create_task(self.traffic.run())
        try:
            await self.phase("baseline", frozenset(), self._hold)
            await self.phase("redis SIGKILL + restart", frozenset(), self._redis_kill)
            await self.phase("upstream SIGKILL + restart", UPSTREAM_DOWN, self._upstream_kill)
            await self.phase("policy file touched", frozenset(), self._touch)
            await self.phase("policy file edited", frozenset(), self._edit)
            await self.phase("policy SIGHUP", frozenset(), self._sighup)
            await self.phase("policy admin reload", frozenset(), self._admin_reload)
            await self.phase("guard SIGTERM + restart", GUARD_DOWN, self._sigterm)
            await self.phase("guard SIGKILL + restart", GUARD_DOWN | {TRUNCATED},
                             self._sigkill)
            await self.phase("Redis down, guard SIGKILL + restart", GUARD_DOWN | {TRUNCATED},
                             self._sigkill_redis_down)
            await self.phase("after", frozenset(), self._hold)
        finally:
            self.traffic.stop()
            await load
        self._attribute()
        # a graceful stop drains every incident queue and replays the spools into Redis
        code = await asyncio.to_thread(self.stack.guard.stop, signal.SIGTERM,
                                       self.stack.shutdown_grace_s + 20)
        journal, streamed = await asyncio.to_thread(self.stack.incidents)
        return self._report(journal, streamed, code)

    async def phase(self, name: str, allowed: frozenset[str],
                    act: Callable[[Phase], Awaitable[None]]) -> None:
        current = Phase(name, allowed, started=time.monotonic())
        self.phases.append(current)
        await act(current)
        current.ended = time.monotonic()

    def _attribute(self) -> None:
        for r in self.traffic.results:
            for p in self.phases:
                if r.ended <= p.ended or p is self.phases[-1]:
                    p.results.append(r)
                    break

    # -- the faults ------------------------------------------------------------------------------

    async def _hold(self, phase: Phase) -> None:
        await asyncio.sleep(self.hold_s)

    async def _redis_kill(self, phase: Phase) -> None:
        await asyncio.to_thread(self.stack.redis.kill, signal.SIGKILL)
        await asyncio.sleep(self.hold_s)
        await asyncio.to_thread(self.stack.redis.start)
        await asyncio.sleep(self.settle_s)

    async def _upstream_kill(self, phase: Phase) -> None:
        await asyncio.to_thread(self.stack.upstream.stop, signal.SIGKILL)
        await asyncio.sleep(self.hold_s)
        await asyncio.to_thread(self.stack.upstream.start)
        await asyncio.sleep(self.settle_s)

    async def _touch(self, phase: Phase) -> None:
        before = await self._reload_counts()
        os.utime(self.stack.policy_file)
        await self._await_reload(phase, before)

    async def _edit(self, phase: Phase) -> None:
        before = await self._reload_counts()
        self._edits += 1
        text = self.stack.policy_file.read_text()
        text = re.sub(r'^version: ".*"$', f'version: "2025.1-chaos{self._edits}"', text,
                      flags=re.M)
        self.stack.policy_file.write_text(text)  # in place: a reload may read it half-written
        await self._await_reload(phase, before)

    async def _sighup(self, phase: Phase) -> None:
        before = await self._reload_counts()
        os.kill(self.stack.guard.pid, signal.SIGHUP)
        await self._await_reload(phase, before)

    async def _admin_reload(self, phase: Phase) -> None:
        before = await self._reload_counts()
        async with aiohttp.ClientSession() as session, session.post(
                f"{self.stack.guard.admin_url}/admin/policies/reload",
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as response:
            phase.notes.append(f"admin answered {response.status}")
        await self._await_reload(phase, before)

    async def _await_reload(self, phase: Phase, before: dict[str, float]) -> None:
        """Hold the phase until guard has counted a reload since `before` (or RELOAD_WAIT_S has
        passed) and for at least `hold_s`, then note how many reloads it counted."""
        started = time.monotonic()
        after = await self._reload_counts()
        while (after.get("ok", 0) <= before.get("ok", 0)
               and time.monotonic() - started < RELOAD_WAIT_S):
            await asyncio.sleep(0.1)
            after = await self._reload_counts()
        if (held := time.monotonic() - started) < self.hold_s:
            await asyncio.sleep(self.hold_s - held)
            after = await self._reload_counts()
        done = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        self.reloads[phase.name] = {k: v for k, v in done.items() if v}

    async def _sigterm(self, phase: Phase) -> None:
        probes = [asyncio.create_task(self._probe(i)) for i in range(3)]
        await asyncio.sleep(0.3)  # the probes' streams are under way
        started = time.monotonic()
        self.sigterm_exit = await asyncio.to_thread(
            self.stack.guard.stop, signal.SIGTERM, self.stack.shutdown_grace_s + 20)
        phase.notes.append(f"exit {self.sigterm_exit} after {time.monotonic() - started:.1f} s")
        self.probes = await asyncio.gather(*probes)
        ok = sum(1 for p in self.probes if p.error is None)
        phase.notes.append(f"in-flight streams finished: {ok}/{len(self.probes)}")
        await self._restart_guard(phase)

    async def _sigkill(self, phase: Phase) -> None:
        self.kills.append(time.monotonic())
        await asyncio.to_thread(self.stack.guard.stop, signal.SIGKILL)
        await self._restart_guard(phase)

    async def _sigkill_redis_down(self, phase: Phase) -> None:
        """Incidents spooled for Redis by a killed guard reach it through the next one."""
        await asyncio.to_thread(self.stack.redis.kill, signal.SIGKILL)
        await asyncio.sleep(self.hold_s / 2)
        await self._sigkill(phase)
        await asyncio.sleep(self.hold_s / 2)
        await asyncio.to_thread(self.stack.redis.start)
        await asyncio.sleep(self.settle_s)

    async def _restart_guard(self, phase: Phase) -> None:
        started = time.monotonic()
        await asyncio.to_thread(self.stack.guard.start)
        phase.notes.append(f"ready again after {time.monotonic() - started:.1f} s")
        await asyncio.sleep(self.settle_s)

    async def _probe(self, i: int) -> Result:
        """A slow streamed answer (about 1.5 s) that must finish whole across a SIGTERM."""
        kind = Kind("probe-stream", True, "redact")
        headers = {"X-Request-Id": f"probe-{i}-{time.monotonic_ns()}",
                   "X-Mock-Reply": urllib.parse.quote(PROBE_REPLY),
                   "X-Mock-Chunk-Chars": "4", "X-Mock-Chunk-Delay-Ms": "35"}
        body = {"model": "chaos", "stream": True,
                "messages": [{"role": "user", "content": f"probe {i}"}]}
        result = Result(kind, time.monotonic(), request_id=headers["X-Request-Id"])
        try:
            async with aiohttp.ClientSession() as session, session.post(
                    f"{self.stack.guard.url}/v1/chat/completions", json=body,
                    headers=headers) as response:
                result.status = response.status
                text = (await response.read()).decode()
                result.masked_in_stream = MASK in text
                if response.status != 200 or not text.endswith("data: [DONE]\n\n") \
                        or not result.masked_in_stream:
                    result.error = TRUNCATED
                elif "probe.owner@" in text:
                    result.error = POLICY_VIOLATION
        except aiohttp.ClientError as exc:
            result.error = type(exc).__name__
        result.ended = time.monotonic()
        return result

    async def _reload_counts(self) -> dict[str, float]:
        async with aiohttp.ClientSession() as session, session.get(
                f"{self.stack.guard.admin_url}/metrics") as response:
            text = await response.text()
        found = re.findall(r'^guard_policy_reloads_total\{result="(\w+)"\} ([0-9.e+]+)$', text,
                           flags=re.M)
        return {k: float(v) for k, v in found}

    def _report(self, journal: dict[str, dict[str, object]],
                streamed: dict[str, dict[str, object]], code: int) -> Report:
        everything = self.traffic.results + self.probes
        expected = expected_incidents(everything)
        found = {k for inc in [*journal.values(), *streamed.values()] for k in incident_keys(inc)}
        lost = sorted(k for k in expected if k not in found)
        near = {k for k in expected
                if any(kill - FSYNC_INTERVAL_S <= expected[k] <= kill for kill in self.kills)}
        in_bound = [k for k in lost if k in near]
        in_redis = {k for inc in streamed.values() for k in incident_keys(inc)}
        # In the journal but not in Redis: a SIGKILL may lose what the Redis sink had queued in the
        # last fsync interval (docs/incidents.md), like any sink, even when the journal kept it.
        missing = [k for k in expected if k in found and k not in in_redis]
        return Report(
            phases=self.phases, results=self.traffic.results, expected=expected,
            journal=len(journal), in_redis=len(streamed), lost=lost, lost_in_bound=in_bound,
            near_kill=len(near),
            missing_from_redis=len(missing),
            missing_from_redis_outside_bound=sum(1 for k in missing if k not in near),
            probes_ok=sum(1 for p in self.probes if p.error is None), probes=len(self.probes),
            sigterm_exit=self.sigterm_exit, final_exit=code,
            reloads=self.reloads)


# The phases that hold a fault (or a wait) for `hold_s`, for spreading --duration.
HOLDING_PHASES = 11


async def chaos(workdir: Path, duration_s: float, concurrency: int,
                rate: float | None = None) -> Report:
    """Run every fault once under load; `duration_s` is spread over the phases."""
    stack = Stack(workdir)
    await asyncio.to_thread(stack.start)
    try:
        traffic = Traffic(stack.guard.url, concurrency, rate)
        hold = max(1.0, duration_s / HOLDING_PHASES)
        return await Chaos(stack, traffic, hold_s=hold, settle_s=0.5).run()
    finally:
        await asyncio.to_thread(_cleanup, stack)


def _cleanup(stack: Stack) -> None:
    """Stop whatever a failed run left running."""
    for proc in (stack.guard, stack.upstream):
        if proc.proc is not None:
            proc.stop(signal.SIGKILL)
    stack.redis.kill()


NOTES = """\
Stack: redis-server (append-only file, fsync always), the stand-in model, `guard serve` with
policies/default.yaml, `redis_url` set and `shutdown_drain_s: 1`; every process on loopback. Mixed
traffic (aiohttp, keep-alive): allowed, blocked (an AWS key in the prompt), redacted (an e-mail
address in the answer) and flagged (one in the prompt), each streamed and not. Every answer is
checked against the policy (a block that passes or an address left unmasked counts as
`policy_violation`). Each request counts in the phase in which it ended. Error kinds:
`http_502_upstream_unreachable` and `stream_upstream_broken` (the model is down; a stream it broke
off ends with an error event), `guard_refused` (connection refused while guard restarts),
`guard_reset_new_connection` (a connection opened for the request was reset before any answer:
it was still in the accept queue when guard stopped listening, so nothing read it),
`guard_disconnected` / `stream_truncated` (guard killed under the request; in the SIGTERM phase
a `guard_disconnected` is a keep-alive request reset, which the tests refuse). Incidents lost counts
the incidents clients saw (an `X-Guard-Incident-Id` header; for a streamed redaction, the mask)
found in neither the journal nor the Redis Stream after the run: none may be, however close to a
SIGKILL (an answer goes out only once its incidents are written); the Redis Stream alone may lack
those seen within `incidents.fsync_interval_ms` (200 ms) before a kill."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds, about")
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--rate", type=float, default=None, help="requests/s cap")
    parser.add_argument("--write", action="store_true", help="write bench/BENCHMARKS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="guard-chaos-") as tmp:
        report = asyncio.run(chaos(Path(tmp), args.duration, args.concurrency, args.rate))
    body = f"{NOTES}\n\n{report.table()}\n\n{report.summary()}"
    print(body)
    if args.write:
        from bench.report import write_section
        write_section("Chaos", " ".join(["python", "bench/chaos.py", *sys.argv[1:]]), body)
    failed = report.lost or any(p.unexpected() for p in report.phases) \
        or report.probes_ok != report.probes or report.sigterm_exit != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
