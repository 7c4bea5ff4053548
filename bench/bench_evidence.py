"""What it costs that an answer waits for its incident to be written (`incidents.answer_wait_ms`).

    .venv/bin/python bench/bench_evidence.py [--seconds 10] [--rounds 3]

Two `guard serve` processes in front of the stand-in model, the same policy (an e-mail address in
the prompt is masked: every request makes an incident and gets 200), one with the default
`answer_wait_ms` and one with 0 (the answer does not wait). wrk, ~1 KB chat body: throughput at
32 connections (median of interleaved rounds) and latency at 1 connection.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.bench_proxy import wrk
from bench.report import write_section
from tests.support import GuardServer, MockUpstream

POLICY = """
name: default
version: "bench"
classifiers:
  pii: {type: pii, entities: [email]}
rules:
  - {name: mask-mail, stage: prompt, when: {classifier: pii}, action: redact, severity: low,
     category: pii}
"""
BODY = ('{"model": "bench", "max_tokens": 16, "messages": [{"role": "user", "content": "'
        + "Summarise the notes for the weekly report and send them on. " * 15
        + 'Reply to jane.doe@example.com."}]}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        policies = workdir / "policies"
        policies.mkdir()
        (policies / "default.yaml").write_text(POLICY)
        mock = MockUpstream(workdir)
        mock.start()
        for wait in (1000, 0):
            (workdir / f"wait-{wait}").mkdir()
        guards = {
            wait: GuardServer(workdir / f"wait-{wait}", {
                "upstreams": {"default": {"url": mock.url}}, "log_level": "warning",
                "policies": str(policies), "incidents": {"answer_wait_ms": wait, "log": False}})
            for wait in (1000, 0)}
        for guard in guards.values():
            guard.start()
        try:
            for guard in guards.values():
                wrk(guard.url, 32, 2, workdir, body=BODY)  # warm-up
            order = list(guards)
            rounds = [{wait: wrk(guards[wait].url, 32, args.seconds, workdir, guards[wait].pid,
                                 body=BODY)
                       for wait in order[r % 2:] + order[:r % 2]} for r in range(args.rounds)]
            load = {wait: {key: statistics.median(r[wait][key] for r in rounds)
                           for key in rounds[0][wait]} for wait in guards}
            single = {wait: wrk(guard.url, 1, max(2, args.seconds // 2), workdir, body=BODY)
                      for wait, guard in guards.items()}
        finally:
            for guard in guards.values():
                guard.stop()
            mock.stop()
    report(load, single, args)


def report(load: dict[int, dict[str, float]], single: dict[int, dict[str, float]],
           args: argparse.Namespace) -> None:
    p50 = single[1000]["p50"] - single[0]["p50"]
    p99 = single[1000]["p99"] - single[0]["p99"]
    rows = "\n".join(
        f"| {wait} | {load[wait]['rps']:.0f} | {load[wait]['rps'] / load[0]['rps']:.2f} | "
        f"{load[wait]['cpu_us']:.0f} | {single[wait]['p50']:.3f} | {single[wait]['p99']:.3f} |"
        for wait in load)
    body = f"""
Every request makes an incident (an e-mail address masked in the prompt) and gets 200; the journal
is on the disk of the benchmark's temporary directory. Throughput at 32 connections
({args.seconds} s each, median of {args.rounds} interleaved rounds), latency at 1 connection:

| answer_wait_ms | req/s | ratio to no wait | CPU µs/request | p50 ms | p99 ms |
|---|---|---|---|---|---|
{rows}

At one connection, waiting changes p50 by {p50:+.3f} ms and p99 by {p99:+.3f} ms.
Answers without an incident never wait (`bench_proxy.py` measures those).
"""
    write_section("Incidents: answers wait for their evidence", "python bench/bench_evidence.py "
                  f"--seconds {args.seconds} --rounds {args.rounds}", body)
    print(body)


if __name__ == "__main__":
    main()
