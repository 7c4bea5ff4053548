"""The runner: concurrency, timeouts, fail_open / fail_closed, cache use and metrics."""

from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from guard.classify import runner as runner_module
from guard.classify.cache import SPAN_CHARS, Slot, VerdictCache, text_digest
from guard.classify.registry import ConfiguredClassifier, build_classifier
from guard.classify.runner import ClassifierRunner, in_context, readings, warm_up
from guard.errors import ClassifierError, Overloaded, RequestError
from guard.observability.metrics import Metrics
from guard.redaction import reaching_back
from guard.types import Segment, Stage, Verdict
from tests.unit.classify.helpers import Echo, Joined, Plodding, SlowStart, configured, segments


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_verdicts_for_every_classifier_and_segment(metrics: Metrics) -> None:
    """Each classifier answers for each segment, in classifier then segment order."""
    runner = ClassifierRunner(metrics)
    a, b = configured(Echo("a")), configured(Echo("b", needle="worse"))
    out = await runner.run([a, b], segments("bad", "worse"), Stage.PROMPT)
    assert [(v.classifier, v.segment, v.fired) for v in out] == [
        ("a", 0, True), ("a", 1, False), ("b", 0, False), ("b", 1, True)]
    assert sample(metrics, "guard_classifier_seconds_count", classifier="a", stage="prompt") == 1


async def test_classifiers_run_concurrently(metrics: Metrics) -> None:
    """Three classifiers that each wait 0.2 s finish together in well under 0.6 s."""
    runner = ClassifierRunner(metrics)
    slow = [configured(Echo(f"s{i}", delay=0.2)) for i in range(3)]
    started = time.perf_counter()
    out = await runner.run(slow, segments("x"), Stage.PROMPT)
    assert len(out) == 3
    assert time.perf_counter() - started < 0.45


async def test_timeout_fail_closed_becomes_classifier_error(metrics: Metrics) -> None:
    """A fail_closed classifier that times out yields classifier_error verdicts with score 1."""
    runner = ClassifierRunner(metrics)
    slow = configured(Echo("slow", delay=1.0), timeout_s=0.05, on_error="fail_closed")
    out = await runner.run([slow], segments("a", "b"), Stage.PROMPT)
    assert [(v.segment, v.labels, v.score) for v in out] == [
        (0, frozenset({"classifier_error"}), 1.0), (1, frozenset({"classifier_error"}), 1.0)]
    assert sample(metrics, "guard_classifier_errors_total", classifier="slow", kind="timeout") == 1


@pytest.mark.parametrize("stage", [Stage.PROMPT, Stage.COMPLETION])
async def test_a_local_check_out_of_time_refuses_and_stops_its_worker_thread(
        metrics: Metrics, stage: Stage) -> None:
    """From a probe: a local classifier out of time means guard is overloaded (four clients
    sending long texts at once), and under fail_open their prompts, and other clients', reached
    the model unread. It is refused (503 guard_overloaded) whatever on_error says. Its batch in
    the worker thread ends within a segment: the thread neither goes on reading texts nobody
    awaits nor holds a core from the next checks."""
    runner = ClassifierRunner(metrics)
    plodding = Plodding("plodding", each_s=0.002)
    with pytest.raises(Overloaded) as refused:
        await runner.run([configured(plodding, timeout_s=0.05, on_error="fail_open")],
                         segments(*["text"] * 200, stage=stage), stage)
    assert (refused.value.status, refused.value.code) == (503, "guard_overloaded")
    assert sample(metrics, "guard_classifier_fail_open_total", classifier="plodding") == 0
    assert sample(metrics, "guard_classifier_errors_total", classifier="plodding",
                  kind="timeout") == 1
    await asyncio.sleep(0.01)
    stopped_at = plodding.scanned
    await asyncio.sleep(0.2)
    assert 0 < plodding.scanned == stopped_at


async def test_a_prompt_of_many_texts_out_of_its_own_time_is_refused_as_too_large(
        metrics: Metrics, monkeypatch: pytest.MonkeyPatch) -> None:
    """More texts than MANY_SEGMENTS that the check thread spent its CPU on until the timeout
    are refused as too large to read in time (413), whatever on_error says. (A fifth of the
    timeout counts as its own here, so a loaded test machine's share of a core still does.)"""
    monkeypatch.setattr(runner_module, "OWN_SHARE", 0.2)
    runner = ClassifierRunner(metrics)
    plodding = configured(Plodding("plodding", each_s=0.005, busy=True), timeout_s=0.5,
                          on_error="fail_open")
    with pytest.raises(RequestError) as refused:
        await runner.run([plodding], segments(*["text"] * 300), Stage.PROMPT)
    assert (refused.value.status, refused.value.code) == (413, "prompt_too_large")
    assert "300 texts could not be inspected within 0.5 s" in str(refused.value)


async def test_a_check_waiting_in_its_thread_spends_nothing_of_its_own(metrics: Metrics) -> None:
    """From a probe: the check thread's time was counted on the wall clock, so a check waiting for
    the interpreter lock (the event loop reading four other clients' prompts) had spent "its own"
    time: 3 of 32 prompts of 300 texts, read in 0.04 s alone, were told to send fewer. CPU time is
    counted: a check that only waits out its timeout is refused as guard overloaded (503)."""
    runner = ClassifierRunner(metrics)
    waiting = configured(Plodding("waiting", each_s=0.002), timeout_s=0.2)
    with pytest.raises(Overloaded):
        await runner.run([waiting], segments(*["text"] * 300), Stage.PROMPT)


async def test_a_prompt_of_many_texts_kept_waiting_by_other_checks_is_told_to_retry(
        metrics: Metrics) -> None:
    """From a CI run: an agent's 1,001 texts, read in 0.5 s alone, were refused as too large
    (413 "send fewer") when the check thread was busy: a client told so truncates a conversation
    it could send again. Kept waiting by other requests' checks, it is refused as guard
    overloaded (503, to retry); the other request's checks go on."""
    runner = ClassifierRunner(metrics)
    busy = runner.run([configured(Plodding("busy", each_s=0.002), timeout_s=5)],
                      segments(*["text"] * 150), Stage.PROMPT)
    other = asyncio.ensure_future(busy)
    await asyncio.sleep(0.02)  # its checks hold the check thread for 0.3 s
    waiting = configured(Plodding("waiting", each_s=0.0001), timeout_s=0.1)
    with pytest.raises(Overloaded) as refused:
        await runner.run([waiting], segments(*["text"] * 300), Stage.PROMPT)
    assert (refused.value.status, refused.value.code) == (503, "guard_overloaded")
    assert len(await other) == 150


async def test_error_fail_open_is_dropped_and_counted(metrics: Metrics) -> None:
    """A fail_open classifier that raises contributes no verdicts and is counted as a fail-open."""
    runner = ClassifierRunner(metrics)
    broken = configured(Echo("broken", error=ClassifierError("down")))
    fine = configured(Echo("fine"))
    out = await runner.run([broken, fine], segments("bad"), Stage.PROMPT)
    assert [v.classifier for v in out] == ["fine"]
    assert sample(metrics, "guard_classifier_errors_total", classifier="broken", kind="error") == 1
    assert sample(metrics, "guard_classifier_fail_open_total", classifier="broken") == 1


async def test_unexpected_exception_never_escapes(metrics: Metrics) -> None:
    """Even a bare RuntimeError inside a classifier is handled by on_error."""
    runner = ClassifierRunner(metrics)
    broken = configured(Echo("b", error=RuntimeError("boom")), on_error="fail_closed")
    out = await runner.run([broken], segments("x"), Stage.COMPLETION)
    assert out[0].labels == {"classifier_error"}


async def test_cache_serves_repeated_segments(metrics: Metrics) -> None:
    """Segments seen before are answered from the cache; only new ones reach the classifier."""
    runner = ClassifierRunner(metrics, VerdictCache(100))
    echo = Echo("e")
    c = configured(echo)
    await runner.run([c], segments("bad one", "fine"), Stage.PROMPT)
    out = await runner.run([c], segments("bad one", "fine", "bad two"), Stage.PROMPT)
    assert echo.seen == 3
    assert [(v.segment, v.fired) for v in out] == [(0, True), (1, False), (2, True)]
    assert sample(metrics, "guard_classifier_cache_total", classifier="e", result="hit") == 2
    assert sample(metrics, "guard_classifier_cache_total", classifier="e", result="miss") == 3


async def test_cache_can_be_turned_off_per_classifier(metrics: Metrics) -> None:
    """cache: false classifies every segment every time."""
    runner = ClassifierRunner(metrics, VerdictCache(100))
    echo = Echo("e")
    c = configured(echo, cache=False)
    await runner.run([c], segments("x"), Stage.PROMPT)
    await runner.run([c], segments("x"), Stage.PROMPT)
    assert echo.seen == 2


async def test_cache_keys_include_stage_and_role(metrics: Metrics) -> None:
    """The same text at another stage is classified again (verdicts may depend on it)."""
    runner = ClassifierRunner(metrics, VerdictCache(100))
    echo = Echo("e")
    c = configured(echo)
    await runner.run([c], segments("x"), Stage.PROMPT)
    await runner.run([c], segments("x", stage=Stage.COMPLETION), Stage.COMPLETION)
    assert echo.seen == 2


async def test_failures_are_not_cached(metrics: Metrics) -> None:
    """A classifier error is not remembered: the next request asks again."""
    runner = ClassifierRunner(metrics, VerdictCache(100))
    echo = Echo("e", error=ClassifierError("x"))
    c = configured(echo)
    await runner.run([c], segments("x"), Stage.PROMPT)
    echo.error = None
    out = await runner.run([c], segments("bad"), Stage.PROMPT)
    assert out[0].fired and echo.seen == 2


async def test_a_classifier_reading_turns_gets_the_ones_before_and_the_cache_keys_on_them(
    metrics: Metrics,
) -> None:
    """A classifier that reads a message with the ones before it sees them; the same message after
    other turns is classified again, while a conversation's own history still hits."""
    runner = ClassifierRunner(metrics, VerdictCache(100))
    joined, alone = Joined("j", turns=1), Echo("e")
    cs = [configured(joined), configured(alone)]
    out = await runner.run(cs, segments("ba", "d"), Stage.PROMPT)
    assert [(v.classifier, v.segment, v.fired) for v in out] == [
        ("j", 0, False), ("j", 1, True), ("e", 0, False), ("e", 1, False)]
    out = await runner.run(cs, segments("fine", "d"), Stage.PROMPT)  # "d" after another turn
    assert [v.fired for v in out] == [False, False, False, False]
    assert joined.seen == 4
    out = await runner.run(cs, segments("ba", "d", "ok"), Stage.PROMPT)  # history: hits
    assert joined.seen == 5 and [v.fired for v in out[:3]] == [False, True, False]


def test_only_prompt_turns_of_the_roles_read_are_joined() -> None:
    """Context holds the texts of the same role just before, as many as asked; completions are
    choices, never joined; without a classifier reading turns the segments are left as they are."""
    turns = [configured(Joined("j", turns=2))]
    segs = [Segment(t, r, i, Stage.PROMPT)
            for i, (r, t) in enumerate([("user", "a"), ("assistant", "no"), ("user", "b"),
                                        ("user", "c"), ("user", "d")])]
    assert [s.context for s in in_context(turns, segs, Stage.PROMPT)] == [
        (), (), ("a",), ("a", "b"), ("b", "c")]
    plain = [configured(Echo("e"))]
    assert in_context(plain, segs, Stage.PROMPT) is segs
    answers = segments("x", "y", stage=Stage.COMPLETION)
    assert in_context(turns, answers, Stage.COMPLETION) is answers


@pytest.mark.parametrize("between", [
    ["", " ", "\u200b", "\n"] * 3,
    *([piece] * 9 for piece in ["\u3164", "\ufe0f", "\u034f", "\x00", "\u2800", "\u0301"]),
])
async def test_blank_texts_between_the_pieces_of_a_value_take_no_place(
        metrics: Metrics, between: list[str]) -> None:
    """From probes: nine empty or blank messages between two pieces of a key pushed the first
    out of the eight texts read with the second; so did nine each holding only a Hangul filler,
    a variation selector, a CGJ, a NUL, a Braille blank or a lone mark (what normalisation
    removes or reads as a space, though neither white space nor a format character: 20 of 20
    shapes passed). A blank text is not read with the ones after it, and a span reaching back
    masks the pieces, not the blanks."""
    runner = ClassifierRunner(metrics)
    secrets = build_classifier("secrets", {"type": "secrets"})
    key = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    texts = [f"it starts {key[:22]}", *between, f"{key[22:]} ends it"]
    split = [Segment(text, "user", i, Stage.PROMPT) for i, text in enumerate(texts)]
    out = await runner.run([secrets], split, Stage.PROMPT)
    last = len(texts) - 1
    assert [v.segment for v in out if v.fired] == [last]
    masked = reaching_back({last: out[last].spans}, split)
    assert {i: [split[i].text[max(0, s.start):s.end] for s in spans]
            for i, spans in masked.items()} == {0: [key[:22]], last: [key[22:]]}


async def test_documents_are_read_with_the_users_texts_by_the_joined_reading_only(
        metrics: Metrics) -> None:
    """A key cut between the user's text and a document (either first) is found where it ends,
    its span reaching back into the other: the joined reading reads a document's texts and the
    user's as one, in order (`JOINED_ROLES`). A classifier reading its role's turns (a trained
    model's `turns`) still reads only the user's: "ba", a document, then "d" is "bad" to it."""
    runner = ClassifierRunner(metrics, VerdictCache(100))
    secrets, model = build_classifier("secrets", {"type": "secrets"}), configured(Joined("j"))
    key = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    for first, then in (("user", "document"), ("document", "user")):
        split = [Segment(f"it starts {key[:22]}", first, 0, Stage.PROMPT),
                 Segment(f"{key[22:]} ends it", then, 1, Stage.PROMPT)]
        out = await runner.run([secrets, model], split, Stage.PROMPT)
        assert [(v.classifier, v.segment, v.fired) for v in out] == [
            ("secrets", 0, False), ("secrets", 1, True), ("j", 0, False), ("j", 1, False)]
        assert [s.start for s in out[1].spans] == [-22]
        masked = reaching_back({1: out[1].spans}, split)  # in both pieces
        assert [split[i].text[max(0, s.start):s.end] for i in (0, 1) for s in masked[i]] == [
            key[:22], key[22:]]
    turns = [Segment(t, r, i, Stage.PROMPT)
             for i, (r, t) in enumerate([("user", "ba"), ("document", "zz"), ("user", "d")])]
    out = await runner.run([secrets, model], turns, Stage.PROMPT)
    assert [(v.classifier, v.segment, v.fired) for v in out][3:] == [
        ("j", 0, False), ("j", 1, False), ("j", 2, True)]
    joined = readings([secrets, model], turns, Stage.PROMPT)
    assert [[s.context for s in read] for _, read in joined] == [
        [(), ("ba",), ("ba", "zz")], [(), (), ("ba",)]]


def test_shared_keys_tell_contexts_apart() -> None:
    """The Redis key of a segment without context is its text's; with context it differs, and
    no two contexts share one (texts are length-prefixed)."""
    cache = VerdictCache(10)

    def key(text: str, *context: str) -> str:
        return cache.shared_key("h", "prompt", Segment(text, "user", 0, Stage.PROMPT, context))

    assert key("c") == "guard:verdict:h:prompt:user:" + text_digest("c")
    assert len({key("c"), key("c", "ab"), key("c", "a", "b"), key("c", "b", "a")}) == 4


async def test_the_cache_keys_on_the_text_after_a_segment(metrics: Metrics) -> None:
    """An answer read before a suffix (`Segment.after`) is classified again for another suffix:
    a verdict on the answer alone is not one on it and what follows; the Redis key differs too."""
    runner = ClassifierRunner(metrics, VerdictCache(100))
    echo = Echo("e")
    c = configured(echo)
    for after in ("", "x", "x", "y"):
        await runner.run([c], [Segment("answer", "assistant", 0, Stage.COMPLETION, after=after)],
                         Stage.COMPLETION)
    assert echo.seen == 3
    cache = VerdictCache(10)
    assert len({cache.shared_key("h", "completion", Segment("a", "assistant", 0,
                                                            Stage.COMPLETION, after=after))
                for after in ("", "b")}) == 2


def test_lru_is_bounded() -> None:
    """The in-process cache keeps at most max_entries segments, evicting the least recently used."""
    cache = VerdictCache(2)

    def slot(text: str) -> Slot:
        return cache.slots("prompt", segments(text))[0]

    slot("a").verdicts["h"] = Verdict("x", 0)
    slot("b").verdicts["h"] = Verdict("x", 0)
    assert slot("a").verdicts  # touch a: b is now the oldest
    slot("c")
    assert len(cache) == 2
    assert slot("a").verdicts and not slot("b").verdicts


def test_lru_is_bounded_in_characters_too() -> None:
    """Long texts are evicted by their characters (turns included) before max_entries is reached;
    the newest stays even when it alone is over the budget."""
    cache = VerdictCache(100, max_chars=1000)
    for letter in "abcd":
        cache.slots("prompt", segments(letter * 300))
    assert len(cache) == 3 and cache.chars == 900
    cache.slots("prompt", [Segment("e" * 50, "user", 0, Stage.PROMPT, ("f" * 300,))])
    assert len(cache) == 3 and cache.chars == 950  # "b" went: "e" counts its turn
    cache.slots("prompt", segments("g" * 5000))
    assert len(cache) == 1 and cache.chars == 5000
    assert not cache.slots("prompt", segments("a" * 300))[0].verdicts


async def test_the_spans_a_verdict_keeps_count_against_max_chars(metrics: Metrics) -> None:
    """From a probe: the bound counted texts only, and a text dense with findings (60,000
    characters holding 4,200 e-mail addresses) cost 14.7 bytes of memory per character counted:
    at the default bound, a gigabyte. Each span kept counts SPAN_CHARS; a slot dropped while
    its request still fills it counts nothing more."""
    from guard.classify.registry import build_classifier

    text = " ".join(f"user{n}@example.com" for n in range(100))
    cache = VerdictCache(100, max_chars=len(text) + 100 * SPAN_CHARS)
    runner = ClassifierRunner(metrics, cache)
    pii = build_classifier("pii", {"type": "pii", "entities": ["email"]})
    [verdict] = await runner.run([pii], segments(text), Stage.PROMPT)
    assert len(verdict.spans) == 100
    assert cache.chars == len(text) + 100 * SPAN_CHARS and len(cache) == 1
    await runner.run([pii], segments("one more text"), Stage.PROMPT)
    assert len(cache) == 1 and cache.chars == len("one more text")  # the dense one went
    slot = cache.slots("prompt", segments("x" * 10))[0]
    cache.slots("prompt", segments("y" * (cache.max_chars - 5)))  # "x..." is dropped
    cache.keep(slot, "h", verdict)
    assert cache.chars == cache.max_chars - 5


async def test_cache_size_is_exported(metrics: Metrics) -> None:
    """The gauges follow what the in-process cache holds, evictions included."""
    runner = ClassifierRunner(metrics, VerdictCache(100, max_chars=10))
    echo = configured(Echo("a"))
    await runner.run([echo], segments("abcd", "efg"), Stage.PROMPT)
    assert sample(metrics, "guard_classifier_cache_texts") == 2
    assert sample(metrics, "guard_classifier_cache_chars") == 7
    await runner.run([echo], segments("hijkl"), Stage.PROMPT)
    assert sample(metrics, "guard_classifier_cache_texts") == 2  # "abcd" went
    assert sample(metrics, "guard_classifier_cache_chars") == 8


async def test_gated_classifier_runs_only_when_its_gate_opens(metrics: Metrics) -> None:
    """A gated classifier waits for its gate and runs, on every segment, only when the gate scored
    at least min_score on one of them; each check is counted as run or skipped."""
    runner = ClassifierRunner(metrics)
    heavy = Echo("heavy", needle="worse")
    gate = configured(Echo("gate"))
    gated = configured(heavy, gate={"classifier": "gate", "min_score": 0.5})
    out = await runner.run([gated, gate], segments("fine", "worse"), Stage.PROMPT)
    assert heavy.seen == 0 and [v.classifier for v in out] == ["gate", "gate"]
    assert sample(metrics, "guard_classifier_gated_total", classifier="heavy", result="skipped") == 1
    out = await runner.run([gated, gate], segments("worse", "bad"), Stage.PROMPT)
    assert heavy.seen == 2
    assert [(v.classifier, v.segment, v.fired) for v in out] == [
        ("gate", 0, False), ("gate", 1, True), ("heavy", 0, True), ("heavy", 1, False)]
    assert sample(metrics, "guard_classifier_gated_total", classifier="heavy", result="run") == 1


async def test_a_failed_gate_opens(metrics: Metrics) -> None:
    """A gate that fails open leaves no verdict: the gated classifier runs rather than skip."""
    runner = ClassifierRunner(metrics)
    heavy = Echo("heavy")
    broken = configured(Echo("gate", error=ClassifierError("down")))
    gated = configured(heavy, gate={"classifier": "gate", "min_score": 0.5})
    out = await runner.run([broken, gated], segments("bad"), Stage.PROMPT)
    assert heavy.seen == 1 and [v.classifier for v in out] == ["heavy"]


def _instances() -> list[ConfiguredClassifier]:
    """Three configs, one shared by two instance names, one not cached."""
    a, b, u = Echo("a"), Echo("b", needle="worse"), Echo("u", needle="x")
    shared = ConfiguredClassifier("a2", configured(Echo("a2")).spec, Echo("a2"), "hash-a")
    turns = Joined("t", turns=1, needle="fineworse")
    return [configured(a), configured(b), shared, configured(u, cache=False), configured(turns)]


_TEXTS = st.sampled_from(["bad", "worse", "fine", "x", "bad worse"])
_REQUESTS = st.lists(
    st.tuples(
        st.lists(st.tuples(st.sampled_from(["user", "assistant"]), _TEXTS), min_size=1,
                 max_size=6),
        st.permutations(range(5)).flatmap(lambda p: st.integers(1, 5).map(lambda n: p[:n])),
    ),
    min_size=1, max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(requests=_REQUESTS)
def test_the_cache_never_changes_a_verdict(requests: list[tuple[list[tuple[str, str]],
                                                                 list[int]]]) -> None:
    """Whatever the sequence of requests (history that grows, shifts or repeats a text at
    another position or after other turns; classifiers in another order, sharing a config, not
    cached or reading turns together), the runner
    answers with the cache exactly as without it, in the same order."""

    async def answers(cache: VerdictCache | None) -> list[list[tuple[object, ...]]]:
        runner = ClassifierRunner(Metrics(CollectorRegistry()), cache)
        instances = _instances()
        out = []
        for messages, chosen in requests:
            segs = [Segment(t, r, i, Stage.PROMPT) for i, (r, t) in enumerate(messages)]
            verdicts = await runner.run([instances[k] for k in chosen], segs, Stage.PROMPT)
            out.append([(v.classifier, v.segment, v.labels, v.score, v.spans) for v in verdicts])
        return out

    assert asyncio.run(answers(VerdictCache(100))) == asyncio.run(answers(None))


async def test_warm_up_loads_a_lazy_model_before_the_first_text(metrics: Metrics) -> None:
    """A classifier that loads its model on first use times out its first text and fails it open;
    warmed up first, it answers the first text in time. Classifiers without `classify_sync`
    (remote ones) are not called."""
    runner = ClassifierRunner(metrics)
    cold = configured(SlowStart("cold", load_s=0.4), timeout_s=0.2)
    assert await runner.run([cold], segments("bad"), Stage.PROMPT) == []  # failed open: no verdict
    warm, remote = configured(SlowStart("warm", load_s=0.4), timeout_s=0.2), Echo("remote")
    await warm_up([warm, configured(remote)])
    assert (await runner.run([warm], segments("bad"), Stage.PROMPT))[0].fired
    assert remote.seen == 0
