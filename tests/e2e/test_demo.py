"""`guard demo --once`: the tour a new user sees runs end to end and exits 0."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest


@pytest.mark.timeout(120)
def test_demo_once_runs_the_whole_tour() -> None:
    """Every tour step succeeds (no FAILED line) and the process exits 0."""
    done = subprocess.run([sys.executable, "-m", "guard", "demo", "--once"], capture_output=True,
                          text=True, timeout=110, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAILED" not in done.stdout
    # the tour's own lines, not buried under a JSON line per incident (records ignore log_level)
    assert '"event":"incident"' not in done.stdout + done.stderr
    assert "base_url" in done.stdout
    assert "kill_switch_engaged" in done.stdout
    assert "(kill_switch_engaged); new requests: 503 kill_switch_engaged" in done.stdout
    assert "released: 200" in done.stdout
    assert "400 block  rules ['secrets']" in done.stdout
    assert "400 block  rules ['jailbreak'], sent as 'Sebz abj" in done.stdout
    assert "400 block  rules ['jailbreak']; each of its 4 messages alone: [200]" in done.stdout
    assert "incident: jailbreak_model fired on messages 2 (+1 earlier), 3 (+2 earlier), " in done.stdout
    assert "200 flag" in done.stdout
    assert "[REDACTED:pii:email]" in done.stdout
    assert "after 'How did thieves open locked doors a century ago?': block (content_filter)" in done.stdout
    assert "after 'How do I change a bike tyre?': allow (stop)" in done.stdout
    assert "response.incomplete (content_filter) after" in done.stdout
    assert "'The contract owner is [REDACTED:pii:email]; ask" in done.stdout


@pytest.mark.timeout(120)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_demo_ends_cleanly_however_often_it_is_told_to(sig: int) -> None:
    """From a probe: Ctrl-C held down (SIGINT repeated until the demo was gone) ended it 130
    with `RuntimeError: Event loop is closed`, SIGTERM so repeated -15; one signal alone had
    ended it 0. Once it has stopped serving, more are moot: exit 0, no traceback."""
    with subprocess.Popen([sys.executable, "-m", "guard", "demo"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # the tour, then the demo keeps serving until told to stop
            seen.append(line)
            if "press Ctrl-C to stop" in line:
                break
        else:
            raise AssertionError("".join(seen))
        while proc.poll() is None:  # every 5 ms: many come as the demo ends (~0.1 s)
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, sig)
            time.sleep(0.005)
        rest = proc.stdout.read()
    assert (proc.returncode, "Traceback" in rest) == (0, False), rest[-2000:]
