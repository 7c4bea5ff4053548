"""A process that records incidents until it is killed (for the SIGKILL tests).

usage: recorder_child.py STATE_DIR REDIS_URL|- COUNT|forever
Prints `<incident id> <unix time>` after each record call returns, then `drained` once every
queue is written or spooled (when COUNT is a number), then waits to be killed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import structlog
from prometheus_client import CollectorRegistry

from guard.incidents.recorder import IncidentRecorder
from guard.incidents.settings import IncidentSettings
from guard.observability.metrics import Metrics
from guard.types import Action, Decision, GuardContext, Mode, RuleMatch, Segment, Stage

FSYNC_INTERVAL_MS = 50


async def main(state_dir: Path, redis_url: str | None, count: int | None) -> None:
    settings = IncidentSettings(fsync_interval_ms=FSYNC_INTERVAL_MS, log=False,
                                retry_interval_ms=50, retry_max_ms=100)
    recorder = IncidentRecorder(settings, state_dir, redis_url, Metrics(CollectorRegistry()))
    await recorder.start()
    match = RuleMatch("no-secrets", Action.BLOCK, Mode.ENFORCE, "high", "secrets")
    decision = Decision(Action.BLOCK, Stage.PROMPT, matches=(match,))
    n = 0
    while count is None or n < count:
        ctx = GuardContext(request_id=f"r{n}", route="/v1/chat/completions", model="m")
        incident_id = recorder.record_decision(ctx, decision, [Segment("text", "user", 0, Stage.PROMPT)])
        sys.stdout.write(f"{incident_id} {time.time():.6f}\n")
        sys.stdout.flush()
        n += 1
        await asyncio.sleep(0.001)
    await recorder.flush()
    sys.stdout.write("drained\n")
    sys.stdout.flush()
    await asyncio.Event().wait()


if __name__ == "__main__":
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
    limit = None if sys.argv[3] == "forever" else int(sys.argv[3])
    asyncio.run(main(Path(sys.argv[1]), None if sys.argv[2] == "-" else sys.argv[2], limit))
