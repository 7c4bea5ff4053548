"""Reading incidents back: GET /admin/incidents (journal and Redis), and the `guard incidents` CLI."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from guard.admin.auth import AdminTokens, admin_auth_middleware
from guard.incidents import model
from guard.incidents.api import add_routes
from guard.incidents.query import MAX_LIMIT, Query, parse_since
from guard.incidents.reader import IncidentReader, JournalReader, RedisReader, build_reader
from guard.incidents.recorder import IncidentRecorder, journal_dir
from guard.incidents.settings import IncidentSettings
from guard.observability.metrics import Metrics
from guard.types import Action, Mode
from tests.support import RedisServer, apps_serving, free_port
from tests.unit.incidents.helpers import HASH_KEY, context, decision, prompt

SETTINGS = IncidentSettings(fsync_interval_ms=10, log=False)
TOKEN = "t0ken-for-tests-only"


async def fill(state_dir: Path, redis_url: str | None = None) -> list[str]:
    """Six incidents: blocks and redactions for two tenants, a shadow flag, a kill switch."""
    recorder = IncidentRecorder(SETTINGS, state_dir, redis_url, Metrics(CollectorRegistry()))
    await recorder.start()
    ids = [
        recorder.record_decision(context("r1", "acme"), decision(), prompt("a")),
        recorder.record_decision(context("r2", "acme"), decision(Action.REDACT, rule="pii",
                                                                 category="pii"), prompt("b")),
        recorder.record_decision(context("r3", "globex"), decision(), prompt("c")),
        recorder.record_decision(context("r4", "globex"),
                                 decision(Action.FLAG, Mode.SHADOW, rule="jailbreak"), prompt("d")),
        recorder.record_event("killswitch", {"action": "engage", "scope": "model:gpt-4o",
                                             "actor": "alice", "reason": "leak", "id": "ks_1"}),
        recorder.record_decision(context("r5", "acme"), decision(), prompt("e")),
    ]
    await recorder.aclose()
    return [i for i in ids if i is not None]


@contextlib.asynccontextmanager
async def serving(reader: IncidentReader) -> AsyncIterator[str]:
    """GET /admin/incidents over `reader` on a real port, behind the admin token: its base URL."""
    app = web.Application(middlewares=[admin_auth_middleware(
        AdminTokens.from_pairs([("alice", TOKEN)]))])
    add_routes(app, reader)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        await reader.aclose()


@pytest.fixture
async def admin(tmp_path: Path) -> AsyncIterator[tuple[str, list[str]]]:
    ids = await fill(tmp_path)
    async with serving(JournalReader(tmp_path)) as base:
        yield base, ids


async def get(url: str, token: str | None = TOKEN) -> tuple[int, dict[str, object]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as r:
        return r.status, await r.json()


async def test_api_filters(admin: tuple[str, list[str]]) -> None:
    """The admin route filters by action, rule, tenant and limit, in time order."""
    base, ids = admin
    status, body = await get(f"{base}/admin/incidents")
    assert status == 200 and body["source"] == "journal"
    assert [i["id"] for i in body["incidents"]] == ids  # type: ignore[union-attr,index]
    _, body = await get(f"{base}/admin/incidents?action=block&tenant=acme")
    assert [i["request_id"] for i in body["incidents"]] == ["r1", "r5"]  # type: ignore[union-attr,index]
    _, body = await get(f"{base}/admin/incidents?rule=jailbreak")
    assert [i["mode"] for i in body["incidents"]] == ["shadow"]  # type: ignore[union-attr,index]
    _, body = await get(f"{base}/admin/incidents?limit=2")
    assert [i["id"] for i in body["incidents"]] == ids[-2:]  # type: ignore[union-attr,index]


async def test_api_needs_a_token_and_checks_parameters(admin: tuple[str, list[str]]) -> None:
    """Behind the admin auth: 401 without a token; a bad parameter is a 400 naming it."""
    base, _ = admin
    assert (await get(f"{base}/admin/incidents", token=None))[0] == 401
    status, body = await get(f"{base}/admin/incidents?limit=0")
    assert status == 400 and body["error"]["param"] == "limit"  # type: ignore[index]
    status, body = await get(f"{base}/admin/incidents?since=yesterday-ish")
    assert status == 400 and body["error"]["param"] == "since"  # type: ignore[index]


@pytest.mark.parametrize(("query", "param"), [("tennant=acme", "tennant"), ("actoin=block", "actoin"),
                                              ("tenant=acme&Kind=breaker", "Kind"),
                                              ("kind=nope", "kind"), ("kind=decisions", "kind")])
async def test_api_refuses_unknown_parameters_and_kinds(admin: tuple[str, list[str]], query: str,
                                                        param: str) -> None:
    """From a probe: a mistyped parameter was ignored (`?tennant=acme` answered every incident)
    and an unknown kind answered none; both are a 400 `invalid_parameter` naming the parameter."""
    base, _ = admin
    status, body = await get(f"{base}/admin/incidents?{query}")
    assert status == 400, body
    error = body["error"]
    assert (error["code"], error["param"]) == ("invalid_parameter", param)  # type: ignore[index]


BAD_SINCE = ["nan", "inf", "-inf", "1e30", "-1e30", "-1", "99999999999999999999d",
             "1969-12-31T00:00:00Z"]


async def test_api_refuses_times_and_cursors_out_of_range(tmp_path: Path,
                                                          redis_server: RedisServer) -> None:
    """From a probe: with Redis, since=nan or inf was a 503 (ValueError, OverflowError), since=1e30
    or 99999999999999999999d a stream id Redis refused, answered from the journal as though Redis
    were down, an after past 2**64 a 503, and tenant=a&tenant=b read as tenant=a; a journal-only
    guard answered since=nan with no incidents. Each is a 400 naming the parameter."""
    await fill(tmp_path, redis_server.url)
    for reader in (build_reader(SETTINGS, tmp_path, redis_server.url), JournalReader(tmp_path)):
        async with serving(reader) as base:
            for query, param in [*((f"since={since}", "since") for since in BAD_SINCE),
                                 ("after=99999999999999999999-0", "after"),
                                 ("after=0-18446744073709551616", "after"),
                                 ("tenant=acme&tenant=globex", "tenant")]:
                status, body = await get(f"{base}/admin/incidents?{query}")
                assert status == 400, (query, body)
                assert body["error"]["param"] == param  # type: ignore[index]
            status, body = await get(f"{base}/admin/incidents?since=9999-12-31T00:00:00Z")
            assert status == 200 and body["incidents"] == []
    for since in BAD_SINCE:
        done = await asyncio.to_thread(guard_cli, "export", "--since", since, "--state-dir",
                                       str(tmp_path))
        assert done.returncode == 2 and "--since" in done.stderr, since


async def test_an_error_redis_answers_is_not_read_as_an_outage(tmp_path: Path,
                                                              redis_server: RedisServer) -> None:
    """Redis up but refusing the read (here the stream's key holds a string) is a 503 naming the
    error, not an answer from this replica's journal labelled "Redis unreachable"."""
    await fill(tmp_path)
    client = Redis.from_url(redis_server.url)
    await client.set(SETTINGS.redis_stream, "not a stream")
    await client.aclose()
    async with serving(build_reader(SETTINGS, tmp_path, redis_server.url)) as base:
        status, body = await get(f"{base}/admin/incidents")
    assert status == 503 and "ResponseError" in body["error"]["message"]  # type: ignore[index]


async def test_api_filters_by_kind(admin: tuple[str, list[str]]) -> None:
    """Each known kind filters (the control for the refusals above)."""
    base, _ = admin
    status, body = await get(f"{base}/admin/incidents?kind=killswitch")
    assert status == 200 and [i["kind"] for i in body["incidents"]] == ["killswitch"]  # type: ignore[union-attr,index]
    status, body = await get(f"{base}/admin/incidents?kind=breaker")
    assert status == 200 and body["incidents"] == []


async def test_with_redis_down_the_journal_answers(tmp_path: Path, redis_server: RedisServer
                                                   ) -> None:
    """The admin API's reader falls back to this replica's journal while Redis is down (it used
    to answer 503 although the journal held every incident), and says which it read."""
    ids = await fill(tmp_path, redis_server.url)
    reader = build_reader(SETTINGS, tmp_path, redis_server.url)
    page = await reader.page(Query())
    assert [i["id"] for i in page.incidents] == ids and page.source == "redis"
    redis_server.stop()
    page = await reader.page(Query())
    assert [i["id"] for i in page.incidents] == ids
    assert page.source.startswith("journal (Redis unreachable") and page.cursor is None
    await reader.aclose()


async def test_queries_at_once_each_get_their_own_cursor(tmp_path: Path,
                                                        redis_server: RedisServer) -> None:
    """From a re-probe: the cursor was kept on the one reader every admin call shares, so a
    follower asking at the stream's end while another call scanned got that call's cursor (from
    the middle of the stream, or 0-0) and printed thousands of incidents again. Each page now
    carries its own."""
    await fill(tmp_path, redis_server.url)
    reader = build_reader(SETTINGS, tmp_path, redis_server.url)
    client = Redis.from_url(redis_server.url)
    for i in range(30):  # entries of another writer between: more to scan for the filter below
        await client.xadd(SETTINGS.redis_stream, {"other": str(i)})
    end = (await reader.page(Query(limit=1))).cursor
    assert end is not None
    first = (await client.xrange(SETTINGS.redis_stream, count=1))[0][0].decode()
    pages = await asyncio.gather(*[
        reader.page(Query(after=end)) if i % 2 == 0
        else reader.page(Query(after=first, rule="nothing", limit=5)) if i % 4 == 1
        else reader.page(Query(limit=1)) for i in range(40)])
    assert {p.cursor for p in pages[::2]} == {end}
    assert all(p.incidents == [] for p in pages[::2])
    await client.aclose()
    await reader.aclose()


async def test_redis_and_journal_readers_agree(tmp_path: Path, redis_server: RedisServer) -> None:
    """The Redis Stream reader answers the same queries as the journal reader."""
    ids = await fill(tmp_path, redis_server.url)
    readers: list[IncidentReader] = [JournalReader(tmp_path),
                                     RedisReader(redis_server.url, SETTINGS.redis_stream)]
    for query in (Query(), Query(limit=3), Query(since=0, limit=2), Query(tenant="globex"),
                  Query(kind="killswitch")):
        answers = [[i["id"] for i in await r.query(query)] for r in readers]
        assert answers[0] == answers[1], query
    assert [i["id"] for i in await readers[1].query(Query())] == ids
    for reader in readers:
        await reader.aclose()


async def record_late(state_dir: Path, redis_url: str, ago: float) -> str:
    """An incident made `ago` seconds back that reaches the stream now (a replica replaying its
    spool after a long Redis outage): its id."""
    late = model.from_decision(context("late"), decision(), "x", excerpt=None,
                               hash_key=HASH_KEY, now=time.time() - ago)
    recorder = IncidentRecorder(SETTINGS, state_dir, redis_url, Metrics(CollectorRegistry()))
    await recorder.start()
    recorder.submit(late)
    await recorder.aclose()
    return late.id


async def test_api_cursor_follows_arrival_order(tmp_path: Path, redis_server: RedisServer
                                                ) -> None:
    """Every answer from the stream carries a cursor; `after` it gives what reached the stream
    since, in arrival order, however old the incidents' own times: an hour-late one included."""
    ids = await fill(tmp_path, redis_server.url)
    async with serving(build_reader(SETTINGS, tmp_path, redis_server.url)) as base:
        _, body = await get(f"{base}/admin/incidents?limit=2")
        assert [i["id"] for i in body["incidents"]] == ids[-2:]  # type: ignore[union-attr,index]
        start = body["cursor"]
        _, body = await get(f"{base}/admin/incidents?after={start}")
        assert body["incidents"] == [] and body["cursor"] == start
        late = await record_late(tmp_path, redis_server.url, ago=3600)
        more = await fill(tmp_path, redis_server.url)
        _, body = await get(f"{base}/admin/incidents?after={start}&limit=4")
        assert [i["id"] for i in body["incidents"]] == [late, *more[:3]]  # type: ignore[union-attr,index]
        _, body = await get(f"{base}/admin/incidents?after={body['cursor']}&tenant=acme")
        assert [i["request_id"] for i in body["incidents"]] == ["r5"]  # type: ignore[union-attr,index]
        _, body = await get(f"{base}/admin/incidents?after={body['cursor']}")
        assert body["incidents"] == []
        status, body = await get(f"{base}/admin/incidents?after=yesterday")
        assert status == 400 and body["error"]["param"] == "after"  # type: ignore[index]
        redis_server.stop()  # the journal cannot go on from a stream cursor: ask again later
        status, body = await get(f"{base}/admin/incidents?after={start}")
        assert status == 503 and body["error"]["code"] == "incidents_unavailable"  # type: ignore[index]
        status, body = await get(f"{base}/admin/incidents")
        assert status == 200 and body["cursor"] is None


async def test_api_journal_answers_carry_a_cursor_of_their_own(admin: tuple[str, list[str]],
                                                               tmp_path: Path) -> None:
    """A journal-only guard's answers with `since` carry a cursor: `after` it, the next page
    goes on where the last one stopped, with what was written since (a journal-only guard
    answered `cursor: null`, and an export read every file again for each page). A Redis Stream
    cursor, or a damaged journal cursor, is a 400 naming `after`; the last `limit`, read from
    the journal's end back, has no cursor."""
    base, ids = admin
    status, body = await get(f"{base}/admin/incidents?since=1h&limit=4")
    assert status == 200 and [i["id"] for i in body["incidents"]] == ids[:4]  # type: ignore[union-attr,index]
    cursor = body["cursor"]
    assert isinstance(cursor, str)
    more = await fill(tmp_path)
    _, body = await get(f"{base}/admin/incidents?since=1h&limit=5&after={cursor}")
    assert [i["id"] for i in body["incidents"]] == [*ids[4:], *more[:3]]  # type: ignore[union-attr,index]
    _, body = await get(f"{base}/admin/incidents?since=1h&after={body['cursor']}")
    assert [i["id"] for i in body["incidents"]] == more[3:]  # type: ignore[union-attr,index]
    for after in ("1700000000000-0", cursor[:-4], cursor + "AAAA", "j1.%FF"):
        status, body = await get(f"{base}/admin/incidents?after={after}")
        assert status == 400 and body["error"]["param"] == "after", after  # type: ignore[index]
    status, body = await get(f"{base}/admin/incidents")
    assert status == 200 and body["cursor"] is None


async def test_pages_begun_from_the_journal_go_on_there(tmp_path: Path,
                                                      redis_server: RedisServer) -> None:
    """Pages begun from the journal while Redis was down carry the journal's cursor, and go on
    in the journal once Redis is back (the stream cannot go on from it, and starting over there
    would list the first page's again); the stream's reader refuses it with a 400."""
    ids = await fill(tmp_path, redis_server.url)
    redis_server.stop()
    async with serving(build_reader(SETTINGS, tmp_path, redis_server.url)) as base:
        _, body = await get(f"{base}/admin/incidents?since=1h&limit=4")
        assert [i["id"] for i in body["incidents"]] == ids[:4]  # type: ignore[union-attr,index]
        cursor = body["cursor"]
        redis_server.start()
        _, body = await get(f"{base}/admin/incidents?since=1h&after={cursor}")
        assert [i["id"] for i in body["incidents"]] == ids[4:]  # type: ignore[union-attr,index]
        assert str(body["source"]).startswith("journal")
    async with serving(RedisReader(redis_server.url, SETTINGS.redis_stream)) as base:
        status, body = await get(f"{base}/admin/incidents?after={cursor}")
        assert status == 400 and body["error"]["param"] == "after"  # type: ignore[index]


async def test_cli_tail_through_the_api_prints_what_arrives_hours_late(
        tmp_path: Path, redis_server: RedisServer) -> None:
    """Through the admin API of a guard with Redis, tail follows the stream's cursor: an
    incident made an hour ago that reaches the stream now is printed (the look-back window of
    300 s missed it), and while Redis is away tail waits and then goes on, skipping nothing."""
    await fill(tmp_path, redis_server.url)
    async with serving(build_reader(SETTINGS, tmp_path, redis_server.url)) as base:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "guard", "incidents", "tail", "-n", "1", "--count", "8",
            "--interval", "0.1", "--admin-url", base, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env={"GUARD_ADMIN_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"})
        assert proc.stdout is not None and proc.stderr is not None
        try:
            printed = [json.loads(await asyncio.wait_for(proc.stdout.readline(), 10))["request_id"]]
            assert printed == ["r5"]
            late = await record_late(tmp_path, redis_server.url, ago=3600)
            line = await asyncio.wait_for(proc.stdout.readline(), 10)
            assert json.loads(line)["id"] == late
            redis_server.stop()
            said = await asyncio.wait_for(proc.stderr.readline(), 10)
            assert b"HTTP 503" in said and b"asking again" in said
            redis_server.start()
            more = await fill(tmp_path, redis_server.url)
            printed = [json.loads(await asyncio.wait_for(proc.stdout.readline(), 10))["id"]
                       for _ in range(6)]
            assert printed == more
            assert await asyncio.wait_for(proc.wait(), 10) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def add_to_stream(redis_url: str, times: dict[str, list[float]]) -> None:
    """Incidents made at these times, tenant by tenant, reaching the stream in this order."""
    client = Redis.from_url(redis_url)
    pipe = client.pipeline()
    for tenant, made in times.items():
        for at in made:
            incident = model.IncidentV1(id=model.new_id(at), time=at, tenant=tenant,
                                        action="flag", rules=("pii",))
            pipe.xadd(SETTINGS.redis_stream, {"id": incident.id, "data": incident.to_json()})
    await pipe.execute()
    await client.aclose()


@pytest.mark.parametrize("newer", [10_000, 9_998])
async def test_cli_export_through_the_api_has_late_stream_entries_once(
        tmp_path: Path, redis_server: RedisServer, newer: int) -> None:
    """From a probe: export and report paged the stream from the last incident's time, but the
    stream is in arrival order: five incidents made 30 minutes before 10,000 newer ones that
    reached it after them were left out, and a page ending on one of them started the next
    page 30 minutes back (10,013 incidents exported as 50,005 lines). They page by the cursor."""
    now = time.time()
    await add_to_stream(redis_server.url, {
        "live": [now - 600 + i * 0.05 for i in range(newer)],
        "late": [now - 1800 + i for i in range(5)],
        "after": [now - 1 + i * 0.01 for i in range(10)]})
    async with serving(build_reader(SETTINGS, tmp_path, redis_server.url)) as base:
        done = await asyncio.to_thread(guard_cli, "export", "--since", "2h", "--admin-url",
                                       base, token=TOKEN)
        report = await asyncio.to_thread(guard_cli, "report", "--since", "2h", "--admin-url",
                                         base, token=TOKEN)
    assert done.returncode == 0, done.stderr
    ids = [json.loads(line)["id"] for line in done.stdout.splitlines()]
    assert len(ids) == len(set(ids)) == newer + 15
    assert f"decisions recorded: **{newer + 15}**" in report.stdout


def test_parse_since() -> None:
    """since accepts durations ago, Unix seconds and ISO 8601 times."""
    assert parse_since("2h", now=10_000) == 10_000 - 7200
    assert parse_since("1700000000") == 1_700_000_000
    assert parse_since("2023-11-14T22:13:20Z") == 1_700_000_000
    with pytest.raises(ValueError, match="since"):
        parse_since("last tuesday")


def guard_cli(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "GUARD_ADMIN_TOKEN": token or ""}
    return subprocess.run([sys.executable, "-m", "guard", "incidents", *args], env=env,
                          capture_output=True, text=True, timeout=30, check=False,
                          cwd=Path(__file__).resolve().parents[3])


async def test_cli_export_jsonl_and_csv_from_the_journal(tmp_path: Path) -> None:
    """`guard incidents export` writes every incident since a time, as JSON lines or CSV."""
    ids = await fill(tmp_path)
    done = await asyncio.to_thread(guard_cli, "export", "--since", "1h", "--state-dir",
                                   str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == ids
    done = await asyncio.to_thread(guard_cli, "export", "--since", "1h", "--format", "csv",
                                   "--action", "block", "--state-dir", str(tmp_path))
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["request_id"] for r in rows] == ["r1", "r3", "r5"]
    assert rows[0]["rules"] == "no-secrets" and rows[0]["content_hash"].startswith("hmac-sha256:")
    assert rows[0]["verdicts"] == "secrets 0.97"


async def test_cli_writes_what_a_client_chose_as_text(tmp_path: Path) -> None:
    """From a probe: export's CSV wrote an excerpt's escape sequences raw (OSC 52 writes the
    terminal's clipboard, ESC [ 2 J clears it) and a model `=HYPERLINK(...)` as a spreadsheet
    formula; tail and the JSON lines escaped ESC but wrote C1 controls (U+009B CSI) raw. Each
    control is written as text, and a cell a spreadsheet would run starts with a quote."""
    hostile = "\x1b]52;c;ZWNobw==\x07\x1b[2J\x9b2J\x9d0;owned\x9c\r"
    incident = model.IncidentV1(id=model.new_id(time.time()), time=time.time(), tenant="-1+1",
                                model='=HYPERLINK("https://evil.example","open")',
                                action="flag", excerpt=f"mail me {hostile} end")
    recorder = IncidentRecorder(SETTINGS, tmp_path, None, Metrics(CollectorRegistry()))
    await recorder.start()
    recorder.submit(incident)
    await recorder.aclose()
    source = ("--since", "1h", "--state-dir", str(tmp_path))
    written = {"csv": guard_cli("export", *source, "--format", "csv"),
               "jsonl": guard_cli("export", *source),
               "tail": guard_cli("tail", "-n", "1", "--count", "1", "--state-dir", str(tmp_path))}
    for name, done in written.items():
        assert done.returncode == 0, done.stderr
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", done.stdout), name
    row = next(csv.DictReader(io.StringIO(written["csv"].stdout)))
    assert row["model"] == "'" + incident.model  # type: ignore[operator]
    assert row["tenant"] == "'-1+1"
    assert row["excerpt"] == ("mail me \\u001b]52;c;ZWNobw==\\u0007\\u001b[2J\\u009b2J"
                              "\\u009d0;owned\\u009c\\u000d end")
    for name in ("jsonl", "tail"):
        assert json.loads(written[name].stdout)["excerpt"] == incident.excerpt


async def test_cli_export_writes_each_page_as_it_is_read(tmp_path: Path) -> None:
    """From a probe: export held every incident of the period, then the whole text, before
    writing a byte (300,000 incidents: 1 GiB of memory). It writes each page as it is read:
    when the second page cannot be read, the first page's 10,000 are in the file and exit 1
    says so; when the first cannot, an existing file is left as it was."""
    page = [{"id": f"inc-{n:05}", "time": 1_700_000_000 + n, "kind": "decision"}
            for n in range(MAX_LIMIT)]

    async def incidents(request: web.Request) -> web.Response:
        if "after" in request.query:
            return web.json_response({"error": {"message": "down"}}, status=503)
        return web.json_response({"incidents": page, "source": "redis", "cursor": "1-0"})

    app = web.Application()
    app.router.add_get("/admin/incidents", incidents)
    port = free_port()
    out = tmp_path / "out.jsonl"
    async with apps_serving((app, port)):
        done = await asyncio.to_thread(guard_cli, "export", "--since", "1h", "--admin-url",
                                       f"http://127.0.0.1:{port}", "-o", str(out), token=TOKEN)
    assert done.returncode == 1 and f"the {MAX_LIMIT} read before are written" in done.stderr
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [
        i["id"] for i in page]
    done = await asyncio.to_thread(guard_cli, "export", "--since", "1h", "--admin-url",
                                   f"http://127.0.0.1:{port}", "-o", str(out), token=TOKEN)
    assert done.returncode == 1 and len(out.read_text().splitlines()) == MAX_LIMIT


async def test_cli_reads_through_the_admin_api(admin: tuple[str, list[str]]) -> None:
    """Through --admin-url with GUARD_ADMIN_TOKEN; without the token it fails with exit 1."""
    base, ids = admin
    done = await asyncio.to_thread(guard_cli, "export", "--since", "1h", "--admin-url", base,
                                   token=TOKEN)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == ids
    done = await asyncio.to_thread(guard_cli, "export", "--since", "1h", "--admin-url", base)
    assert done.returncode == 1 and "set GUARD_ADMIN_TOKEN" in done.stderr


async def test_cli_tail_prints_recent_then_follows(tmp_path: Path) -> None:
    """`guard incidents tail` prints the last incidents, then new ones as they are recorded."""
    ids = await fill(tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "guard", "incidents", "tail", "-n", "2", "--count", "3",
        "--interval", "0.1", "--state-dir", str(tmp_path), stdout=subprocess.PIPE)
    assert proc.stdout is not None
    first = [json.loads(await proc.stdout.readline())["id"] for _ in range(2)]
    assert first == ids[-2:]
    more = await fill(tmp_path)
    line = await asyncio.wait_for(proc.stdout.readline(), 10)
    assert json.loads(line)["id"] == more[0]
    assert await asyncio.wait_for(proc.wait(), 10) == 0


async def test_cli_tail_prints_an_incident_that_arrives_late(tmp_path: Path) -> None:
    """From a probe: an incident reaching the source after newer ones (a replica replaying its
    spool once its Redis link is back), with its own older time, was never printed: tail asked
    only for what came at or after the newest time it had printed. It is printed once."""
    before = await fill(tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "guard", "incidents", "tail", "-n", "1", "--count", "8",
        "--interval", "0.1", "--state-dir", str(tmp_path), stdout=subprocess.PIPE)
    assert proc.stdout is not None
    # the newest incident there, printed first: tail has read what was there (a sleep was not
    # enough on a loaded machine, where the CLI takes seconds to start)
    first = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert json.loads(first)["id"] == before[-1]
    late = model.from_decision(context("late"), decision(), "x", excerpt=None,
                               hash_key=HASH_KEY, now=time.time() - 2)
    more = await fill(tmp_path)
    printed = [json.loads(await asyncio.wait_for(proc.stdout.readline(), 10))["id"]
               for _ in range(6)]
    assert printed == more
    recorder = IncidentRecorder(SETTINGS, tmp_path, None, Metrics(CollectorRegistry()))
    await recorder.start()
    recorder.submit(late)  # made before the six, arriving after them
    await recorder.aclose()
    line = await asyncio.wait_for(proc.stdout.readline(), 10)
    assert json.loads(line)["id"] == late.id
    assert await asyncio.wait_for(proc.wait(), 10) == 0


async def test_cli_report_markdown_and_html(tmp_path: Path) -> None:
    """The report counts by rule, shadow vs enforced, and lists the kill switch history."""
    await fill(tmp_path)
    md = await asyncio.to_thread(guard_cli, "report", "--since", "1d", "--state-dir",
                                 str(tmp_path))
    assert md.returncode == 0, md.stderr
    assert "| no-secrets | 3 |" in md.stdout and "| flag (shadow) | 1 |" in md.stdout
    assert "alice" in md.stdout and "model:gpt-4o" in md.stdout
    out = tmp_path / "review.html"
    done = await asyncio.to_thread(guard_cli, "report", "--since", "1d", "--state-dir",
                                   str(tmp_path), "-o", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert page.count("<svg") >= 5 and "no-secrets" in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page


def test_cli_help_has_examples() -> None:
    """Every incidents subcommand has --help with examples."""
    for command in ("tail", "export", "report"):
        done = guard_cli(command, "--help")
        assert done.returncode == 0 and "examples:" in done.stdout


def test_cli_help_names_rules_the_shipped_packs_have() -> None:
    """From a probe: `--rule no-secrets` in the help matched no incident (the packs call it
    `secrets`); every rule an example filters on is a rule of policies/."""
    from guard.policy.policy_set import load_policies

    named = set(re.findall(r"--rule (\S+)", guard_cli("--help").stdout))
    shipped = {rule.name for loaded in load_policies(Path(__file__).resolve().parents[3] /
                                                     "policies").policies
               for rule in loaded.policy.rules}
    assert named and named <= shipped


def test_cli_says_when_it_cannot_read_or_write(tmp_path: Path) -> None:
    """A mistyped --state-dir is an error, not "0 incidents"; an output path that cannot be
    written is an error, not a traceback."""
    done = guard_cli("export", "--since", "1h", "--state-dir", str(tmp_path / "typo"))
    assert done.returncode == 1 and "no such directory" in done.stderr
    done = guard_cli("export", "--since", "1h", "--state-dir", str(tmp_path))
    assert done.returncode == 1 and "no incident journal there" in done.stderr
    journal_dir(tmp_path).mkdir(parents=True)
    done = guard_cli("report", "--since", "1h", "--state-dir", str(tmp_path),
                     "-o", str(tmp_path / "missing" / "review.html"))
    assert done.returncode == 1 and "cannot write" in done.stderr and "Traceback" not in done.stderr
    done = guard_cli("export", "--since", "1h", "--state-dir", str(tmp_path))
    assert done.returncode == 0 and "exported 0 incidents" in done.stderr
    done = guard_cli("export", "--since", "yesterday-ish", "--state-dir", str(tmp_path))
    assert done.returncode == 2 and "--since" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [("export", "--since", "1h"), ("report", "--since", "1h"),
                                     ("tail", "-n", "1", "--count", "1")])
async def test_a_reader_that_went_away_ends_the_command_quietly(
        tmp_path: Path, command: tuple[str, ...]) -> None:
    """From a probe: `guard incidents export ... | head -c 10` printed "cannot write to stdout:
    Broken pipe", where docs/deploy.md says a closed pipe ends any command with exit 1 and no
    message; a stdout whose reader has gone (closed before guard writes) now does."""
    await fill(tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "guard", "incidents", *command, "--state-dir",
                             str(tmp_path)],
            env={"PATH": "/usr/bin:/bin"}, stdout=write_end, stderr=subprocess.PIPE, text=True,
            timeout=30, check=False, cwd=Path(__file__).resolve().parents[3])
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (1, "")


async def test_a_line_torn_by_a_crash_hides_no_other_incident(
        admin: tuple[str, list[str]], tmp_path: Path) -> None:
    """A SIGKILL mid-write leaves half a line (here cut after an inner `}`), and a line may hold
    something that is not an incident: each is skipped and said so; every other incident reads."""
    base, ids = admin
    journal = sorted(journal_dir(tmp_path).glob("*.jsonl"))[-1]
    whole = journal.read_text().splitlines()[0]
    with journal.open("a") as f:
        f.write(whole[:whole.index("}") + 1] + "\n")
        f.write('{"id": "x", "time": "yesterday"}\n')
    status, body = await get(f"{base}/admin/incidents")
    assert status == 200 and [i["id"] for i in body["incidents"]] == ids  # type: ignore[union-attr,index]
    done = guard_cli("export", "--since", "0", "--state-dir", str(tmp_path))
    assert done.returncode == 0 and f"exported {len(ids)} incidents" in done.stderr
    assert f"skipped 2 unreadable journal line(s), the first {journal}:" in done.stderr


async def test_a_line_of_the_wrong_shape_hides_no_other_incident(
        admin: tuple[str, list[str]], tmp_path: Path) -> None:
    """From a probe: a JSON line with an id and a time but `"rules": 5` and a verdict without
    `classifier` made export --format csv, report and any --rule filter fail with a traceback,
    and GET /admin/incidents?rule= a 503 for the whole journal; a run of NULs or garbage (no
    final `}`) was skipped without a word, and an incident ending in CR LF not read. Each bad
    line is skipped and counted; the CR LF one is read."""
    base, ids = admin
    journal = sorted(journal_dir(tmp_path).glob("*.jsonl"))[-1]
    crlf = model.IncidentV1(id=model.new_id(time.time()), time=time.time(), action="block",
                            rules=("no-secrets",))
    wrong = {"v": 1, "id": "inc-damaged", "time": time.time(), "kind": "decision", "rules": 5,
             "verdicts": [{"score": 1}]}
    with journal.open("ab") as f:
        f.write(json.dumps(wrong).encode() + b"\n" + b"\0" * 300 + b"\ngarbage\n\n"
                + crlf.to_json() + b"\r\n")
    everything = [*ids, crlf.id]
    for query in ("", "?rule=no-secrets", "?since=1h&tenant=acme", "?kind=decision"):
        status, body = await get(f"{base}/admin/incidents{query}")
        assert status == 200, (query, body)
    assert [i["id"] for i in body["incidents"]] == [i for i in everything if i != ids[4]]  # type: ignore[union-attr,index]
    source = ("--since", "1h", "--state-dir", str(tmp_path))
    for args in (("export", "--format", "csv"), ("export", "--rule", "no-secrets"),
                 ("report",)):
        done = await asyncio.to_thread(guard_cli, *args, *source)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stderr)
        assert f"skipped 3 unreadable journal line(s), the first {journal}:7 " in done.stderr
    assert "decisions recorded: **6**" in done.stdout


async def test_a_stream_redis_lost_is_said_to_be_lost(tmp_path: Path, redis_server: RedisServer
                                                     ) -> None:
    """From a probe: after Redis restarted empty (no persistence, as deploy/compose.yaml runs
    it), /admin/incidents and `guard incidents export`/`report` through it showed only the
    incidents made after, without a word, though the journal held every one. An answer reaching
    back before the loss says so and names the journal; one after it, or before any loss, not."""
    before = await fill(tmp_path, redis_server.url)
    async with serving(build_reader(SETTINGS, tmp_path, redis_server.url)) as base:
        _, whole = await get(f"{base}/admin/incidents?since=1h")
    assert len(whole["incidents"]) == len(before) and "warning" not in whole  # nothing lost
    redis_server.stop()
    redis_server.start()  # empty: no persistence
    after = await fill(tmp_path, redis_server.url)  # by a guard started again: it remembers
    async with serving(build_reader(SETTINGS, tmp_path, redis_server.url)) as base:
        _, since = await get(f"{base}/admin/incidents?since=1h")
        _, newest = await get(f"{base}/admin/incidents")
        _, following = await get(f"{base}/admin/incidents?after={since['cursor']}")
        done = await asyncio.to_thread(guard_cli, "export", "--since", "1h", "--admin-url",
                                       base, token=TOKEN)
        report = await asyncio.to_thread(guard_cli, "report", "--since", "1h", "--admin-url",
                                         base, token=TOKEN)
    assert [i["id"] for i in since["incidents"]] == after  # `before` is in the journal only
    assert len(JournalReader(tmp_path).query_now(Query(limit=100))) == len(before + after)
    for answer in (since, newest):
        assert "Redis lost the stream" in str(answer.get("warning")), answer
        assert "--state-dir" in str(answer.get("warning"))
    assert "warning" not in following
    for command in (done, report):
        assert command.returncode == 0, command.stderr
        assert "warning: the Redis Stream holds no incident added before" in command.stderr
