"""`guard demo --once`: the tour a new user sees runs end to end and exits 0."""

from __future__ import annotations

import subprocess
import sys

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
