"""`guard serve --workers N`: N processes on one port (SO_REUSEPORT), metrics merged.

The parent only supervises: it checks that nothing listens on the ports yet, gives every worker
one shared PROMETHEUS_MULTIPROC_DIR and one directory for kill switches held unsaved
(GUARD_HELD_DIR, on /dev/shm: guard.killswitch.held), forwards SIGTERM/SIGINT/SIGHUP, restarts a
worker that dies unexpectedly, and exits when all have stopped (logging the stop signal, then
each exit code that is not 0). A worker notes in that directory that it serves (`ready-<pid>`),
or why it cannot start (`cannot-start-<pid>`: `tell_supervisor`).

A reload asked of one worker (`POST /admin/policies/reload`) reaches the group: that worker
reloads, notes the ask (`reload-asked-<pid>`) and signals the supervisor (RELAY_RELOAD), which
sends SIGHUP to every other worker; each notes when its reload began (`reloaded-<pid>`), and the
asking worker answers once every other one serving has reloaded since (`reload_group`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import structlog
from prometheus_client import multiprocess

from guard.config import parse_host_port
from guard.errors import cannot_listen
from guard.incidents.retention import pid_alive
from guard.killswitch.held import GROUP_DIR_PREFIX, HELD_DIR_ENV, group_dir_parent, make_group_dir

log = structlog.get_logger("guard.workers")

# Until a worker of the group has served, one that cannot start (it exits 2: port taken, unusable
# state dir, bad configuration) stops the whole group instead of being restarted in a loop; so
# does one that died QUICK_DEATHS times in a row each within STARTUP_S of being spawned (start-up
# itself takes 3-4 s). Once one has served, the group stops only when told to: a worker that dies
# is restarted after RESTART_S, doubled at each death in a row up to RESTART_MAX_S (a policy file
# saved invalid, an OOM kill at every start), while the others serve; one that lived STEADY_S
# died once, not in a row.
STARTUP_S = 5.0
QUICK_DEATHS = 3
CANNOT_START = 2
RESTART_S = 1.0
RESTART_MAX_S = 30.0
STEADY_S = 60.0
READY = "ready"
CANNOT_START_NOTE = "cannot-start"
RELOAD_ASKED = "reload-asked"
RELOADED = "reloaded"
RELAY_RELOAD = signal.SIGUSR1  # a worker to its supervisor: send the others SIGHUP
RELOAD_WAIT_S = 5.0  # how long a worker waits for the others' reloads before answering
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
METRICS_DIR_PREFIX = "guard-metrics-"


def run_workers(config: Path | None, count: int, addresses: Sequence[str]) -> int:
    asyncio.run(_check_free(addresses))
    supervisor = os.getpid()
    _remove_left_behind(Path(tempfile.gettempdir()), METRICS_DIR_PREFIX)
    _remove_left_behind(group_dir_parent(), GROUP_DIR_PREFIX)
    metrics_dir = tempfile.mkdtemp(prefix=f"{METRICS_DIR_PREFIX}{supervisor}-")
    held_dir = make_group_dir(supervisor)  # kill switches held unsaved (a full state volume)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": metrics_dir, HELD_DIR_ENV: str(held_dir)}
    command = [sys.executable, "-m", "guard", "serve", "--reuse-port"]
    if config is not None:
        command += ["-c", str(config)]

    def start(number: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen([*command, "--worker", str(number)], env=env,  # noqa: S603
                                preexec_fn=lambda: _in_worker(supervisor))  # noqa: PLW1509

    workers = _relaying_reloads(held_dir)  # before any worker can ask
    workers += [start(number) for number in range(count)]
    runs = [_Run(time.monotonic()) for _ in range(count)]  # each worker number's deaths
    served = False  # a worker of the group has served: from then on none stops the group
    stopping = False
    told = _Told()

    def forward(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = stopping or signum != signal.SIGHUP
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    def stop_signal(signum: int, frame: FrameType | None) -> None:
        told.signal = told.signal or signal.Signals(signum).name
        forward(signum, frame)

    for sig, handler in ((signal.SIGTERM, stop_signal), (signal.SIGINT, stop_signal),
                         (signal.SIGHUP, forward)):
        signal.signal(sig, handler)
    log.info("workers_started", count=count, pids=[w.pid for w in workers])
    try:
        while any(w.poll() is None for w in workers) or not stopping:
            told.log(workers)
            served = served or any(held_dir.glob(f"{READY}-*"))
            for i, (worker, run) in enumerate(zip(workers, runs, strict=True)):
                now = time.monotonic()
                if run.restart_at is not None:
                    if stopping or now < run.restart_at:
                        continue
                    workers[i] = start(i)
                    run.restart_at, run.started = None, time.monotonic()
                    log.info("worker_restarted", worker=i, pid=workers[i].pid)
                    if stopping:  # told to stop while it started, before it was in the list
                        workers[i].send_signal(signal.SIGTERM)
                elif worker.poll() is not None and not stopping:
                    multiprocess.mark_process_dead(worker.pid, metrics_dir)  # type: ignore[no-untyped-call]
                    why = _noted(held_dir, worker.pid)
                    if not run.died(i, worker, now, why, served=served):
                        forward(signal.SIGTERM, None)
            time.sleep(0.2)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
        shutil.rmtree(held_dir, ignore_errors=True)
    return _stopped(workers, runs, told)


def _relaying_reloads(group: Path) -> list[subprocess.Popen[bytes]]:
    """The list the supervisor keeps its workers in, empty; RELAY_RELOAD (whose default would
    end the supervisor) from now on sends SIGHUP to each worker in it that runs, but those that
    asked (they have reloaded already)."""
    workers: list[subprocess.Popen[bytes]] = []

    def relay(_: int, __: FrameType | None) -> None:
        askers = _take_notes(group, RELOAD_ASKED)
        for worker in workers:
            if worker.poll() is None and worker.pid not in askers:
                worker.send_signal(signal.SIGHUP)

    signal.signal(RELAY_RELOAD, relay)
    return workers


@dataclass(slots=True)
class _Told:
    """The stop signal the group was sent, by name, logged once (`workers_signalled`) by the
    supervisor's loop: not by its handler, which may cut into a line being written."""

    signal: str = ""
    logged: bool = False

    def log(self, workers: Sequence[subprocess.Popen[bytes]]) -> None:
        if self.signal and not self.logged:
            log.info("workers_signalled", signal=self.signal, count=len(workers),
                     running=sum(worker.poll() is None for worker in workers))
            self.logged = True


def _stopped(workers: Sequence[subprocess.Popen[bytes]], runs: Sequence[_Run], told: _Told
             ) -> int:
    """The group's exit status once every worker has exited, logged (`workers_stopped`) with
    the exit codes that are not 0, by worker number (after the stop signal, if not yet: every
    worker may have exited before the loop looked)."""
    told.log(workers)
    # a worker waiting to be restarted when the stop came was dealt with when it died
    codes = {number: _exit_code(worker.returncode)
             for number, (worker, run) in enumerate(zip(workers, runs, strict=True))
             if run.restart_at is None}
    failed = {str(number): code for number, code in codes.items() if code}
    log.info("workers_stopped", count=len(workers), **({"codes": failed} if failed else {}))
    return CANNOT_START if CANNOT_START in codes.values() else max(codes.values(), default=0)


@dataclass(slots=True)
class _Run:
    """One worker number's process: when it was spawned, its deaths in a row, and when it is
    spawned again (None: it runs)."""

    started: float
    quick_deaths: int = 0  # each within STARTUP_S of its spawn
    deaths: int = 0
    restart_at: float | None = None

    def died(self, number: int, worker: subprocess.Popen[bytes], now: float, why: str, *,
             served: bool) -> bool:
        """Whether the worker that died is restarted (when: `restart_at`); False: the group
        stops (logged, either way)."""
        lived = now - self.started
        self.quick_deaths = self.quick_deaths + 1 if lived < STARTUP_S else 0
        self.deaths = 1 if lived >= STEADY_S else self.deaths + 1
        code = worker.returncode
        log.warning("worker_died", pid=worker.pid, code=code, worker=number,
                    lived_s=round(lived, 1), deaths_in_a_row=self.deaths)
        if not served and (code == CANNOT_START or self.quick_deaths >= QUICK_DEATHS):
            log.error("workers_stopping", worker=number, code=code,
                      reason=f"cannot_start: {why}" if code == CANNOT_START
                      else f"died {self.quick_deaths} times in a row within {STARTUP_S:g} s "
                           "of its start")
            return False
        delay = min(RESTART_MAX_S, RESTART_S * 2 ** (self.deaths - 1))
        self.restart_at = now + delay
        if code == CANNOT_START:
            log.error("worker_cannot_restart", worker=number, reason=why, restart_in_s=delay)
        else:
            log.info("worker_restarting", worker=number, restart_in_s=delay)
        return True


def tell_supervisor(note: str, text: str = "") -> None:
    """In a worker of a `--workers` group: `note` (READY, CANNOT_START_NOTE) for its supervisor,
    in the group's directory. Elsewhere nothing."""
    named = os.environ.get(HELD_DIR_ENV)
    if named:
        with contextlib.suppress(OSError):
            (Path(named) / f"{note}-{os.getpid()}").write_text(text, encoding="utf-8")


def note_reloaded(began: float) -> None:
    """In a worker of a group: it reloaded its policies, in a reload begun at `began`
    (time.time()), which a worker waiting in `reload_group` reads. Elsewhere nothing."""
    tell_supervisor(RELOADED, repr(began))


async def reload_group() -> tuple[int, int] | None:
    """In a worker of a `--workers` group that has just reloaded its policies: the other workers
    reload too (the supervisor relays a SIGHUP to them), and this waits, RELOAD_WAIT_S at most,
    until each one serving has. (how many have, how many serve beside this one); None outside a
    group. A worker that is still starting is not waited for: it reads the files as it starts."""
    named = os.environ.get(HELD_DIR_ENV)
    if not named:
        return None
    group, me = Path(named), os.getpid()
    others = {pid for pid in _pids_noted(group, READY) if pid != me}
    asked = time.time()
    tell_supervisor(RELOAD_ASKED)
    os.kill(os.getppid(), RELAY_RELOAD)
    deadline = time.monotonic() + RELOAD_WAIT_S
    while True:
        others = {pid for pid in others if pid_alive(pid)}  # one that died serves nothing
        done = {pid for pid in others if _reloaded_since(group, pid, asked)}
        if done == others or time.monotonic() >= deadline:
            return len(done), len(others)
        await asyncio.sleep(0.02)


def _reloaded_since(directory: Path, pid: int, asked: float) -> bool:
    try:
        return float((directory / f"{RELOADED}-{pid}").read_text(encoding="utf-8")) >= asked
    except (OSError, ValueError):  # none yet, or read while it was written
        return False


def _pids_noted(directory: Path, note: str) -> set[int]:
    """The workers that have noted `note` (`<note>-<pid>`)."""
    pids = (path.name.removeprefix(f"{note}-") for path in directory.glob(f"{note}-*"))
    return {int(pid) for pid in pids if pid.isdigit()}


def _take_notes(directory: Path, note: str) -> set[int]:
    """`_pids_noted`, those notes removed."""
    pids = _pids_noted(directory, note)
    for pid in pids:
        (directory / f"{note}-{pid}").unlink(missing_ok=True)
    return pids


def _noted(directory: Path, pid: int) -> str:
    """Why the dead worker `pid` could not start, as it noted it (its notes then removed)."""
    for kind in (READY, RELOADED, RELOAD_ASKED):
        (directory / f"{kind}-{pid}").unlink(missing_ok=True)
    note = directory / f"{CANNOT_START_NOTE}-{pid}"
    try:
        return note.read_text(encoding="utf-8") or "not said"
    except OSError:
        return "not said"
    finally:
        note.unlink(missing_ok=True)


def _remove_left_behind(parent: Path, prefix: str) -> None:
    """The directories of groups whose supervisor no longer runs (killed before it could remove
    them: SIGKILL, the OOM killer), each named `<prefix><supervisor pid>-...`, removed."""
    for path in parent.glob(f"{prefix}*"):
        pid = path.name.removeprefix(prefix).split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            log.info("group_dir_removed", path=str(path), supervisor=int(pid))


def _exit_code(returncode: int | None) -> int:
    """A worker's exit as the group's: a stop signal that ended it before its handler was in
    place (a worker restarted moments before the group was told to stop) ended a process that
    served nothing, a clean stop; other signals are their numbers."""
    if returncode in (-signal.SIGTERM, -signal.SIGINT):
        return 0
    return abs(returncode or 0)


async def _check_free(addresses: Sequence[str]) -> None:
    """Bind each address once without SO_REUSEPORT: StartupError if anything listens there.
    The workers bind with it, which would let a second group share a running group's ports
    (and take half its connections, under its own configuration) instead of being refused."""
    loop = asyncio.get_running_loop()
    for address in addresses:
        host, port = parse_host_port(address)
        try:
            server = await loop.create_server(asyncio.Protocol, host, port, start_serving=False)
        except OSError as exc:
            raise cannot_listen(address, exc) from exc
        server.close()
        await server.wait_closed()


def _in_worker(supervisor: int) -> None:
    """In a worker, before it runs guard: SIGHUP is ignored until its own handler is in place
    (a reload forwarded while it starts would end it, and the group with it), and it gets
    SIGTERM when the supervisor dies (else, killed with SIGKILL, it leaves workers serving on
    the shared port beside the next group, under the old configuration)."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died before the line above
        os._exit(1)
