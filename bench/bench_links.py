"""Links in documents: how often the shipped packs flag a benign document that carries a link with a
query string, and how many of the planted instructions they still catch when it does.

    .venv/bin/python bench/bench_links.py [--rows N] [--no-write]

The first N benign and N prompt-injection rows of the dev split, each inside a tool result the way
`guard eval` sends a document (`eval.in_document`), with a link added after it: none, a plain URL
with a query string, a Markdown link to one, or an HTML `<a href>` whose query is written with
`&amp;` as HTML writes it; on ordinary sites, or on the documentation domains (`example.com`, ...)
that tutorials and API references link to, and attacks too. Links are drawn, seeded, from a few
hosts, paths and query parameters (search, paging, tracking, sign-in redirects). Per pack and per
form: the share of
benign documents flagged (any rule) and blocked (an enforced block), the share of injections
flagged, and which classifiers fired on the benign ones.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.report import write_section
from guard.classify.eval import in_document, read_rows
from guard.types import Action, GuardContext, Stage

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "safety" / "prompts_dev.jsonl"
PACKS = ("policies/default.yaml", "policies/strict.yaml")
FORMS = ("none", "plain", "markdown", "html")

# Addresses of ordinary sites, and of the documentation domains (RFC 2606) that tutorials, API
# references and templates link to; neither list is among training/tool_carriers.py's sites.
HOSTS = {"sites": ("www.nytimes.com", "stackoverflow.com", "docs.python.org", "github.com",
                   "www.reuters.com", "support.apple.com"),
         "example": ("docs.example.com", "www.example.org", "shop.example.net", "app.example.io",
                     "news.example.com")}
PATHS = ("/search", "/articles/2024/05/billing-update", "/view", "/login", "/share/file", "/watch",
         "/products/item", "/en/help/account")
# No credential-named parameter (`token=`, `session=`): a value there is the secrets classifier's.
PARAMS = (("q", ("billing+dashboard", "release+notes", "quarterly+report")), ("page", ("2", "3", "10")),
          ("utm_source", ("newsletter", "twitter")), ("utm_medium", ("email", "social")),
          ("utm_campaign", ("spring_launch", "q3")), ("ref", ("home", "sidebar")),
          ("redirect", ("%2Fdashboard", "https%3A%2F%2Fapp.io%2Fhome")), ("id", ("4821", "77")),
          ("lang", ("en", "en-US")), ("sort", ("date", "relevance")), ("v", ("dQw4w9WgXcQ",)))
TITLES = ("the full article", "read more", "the original post", "this page", "the product page")


def link(rng: random.Random, hosts: tuple[str, ...]) -> tuple[str, str]:
    """A URL on one of `hosts` with a query string of two to four parameters, and a title for it."""
    query = [f"{name}={rng.choice(values)}" for name, values in rng.sample(PARAMS, rng.randint(2, 4))]
    return f"https://{rng.choice(hosts)}{rng.choice(PATHS)}?{'&'.join(query)}", rng.choice(TITLES)


def with_link(text: str, form: str, hosts: tuple[str, ...], rng: random.Random) -> str:
    """`text` and, after it, a link on one of `hosts` written in `form` (FORMS)."""
    if form == "none":
        return text
    url, title = link(rng, hosts)
    if form == "plain":
        return f"{text}\nSource: {url}"
    if form == "markdown":
        return f"{text}\nSee [{title}]({url})."
    return f'{text}\n<p>See <a href="{url.replace("&", "&amp;")}">{title}</a>.</p>'


@dataclass
class Tally:
    """What one pack did with one form of link: benign documents flagged (any rule) and blocked,
    injections flagged, and the rule:classifier pairs that fired on the benign ones."""

    benign: int = 0
    flagged: int = 0
    blocked: int = 0
    attacks: int = 0
    caught: int = 0
    fired: Counter[str] = field(default_factory=Counter)


async def measure(pack: str, texts: dict[str, list[tuple[str, str]]]) -> dict[str, Tally]:
    """Per form of link (`texts`: label and text of each row), what `pack` did."""
    from guard.classify.runner import ClassifierRunner, warm_up
    from guard.observability.metrics import Metrics
    from guard.policy.store import PolicyStore

    metrics = Metrics()
    runner = ClassifierRunner(metrics)
    store = PolicyStore(ROOT / pack, runner, metrics)
    await warm_up(store.current.classifiers())
    ctx = GuardContext(request_id="bench", route="/v1/chat/completions", model="bench")
    out: dict[str, Tally] = {}
    try:
        for form, rows in texts.items():
            tally = out[form] = Tally()
            for label, text in rows:
                decision = await store.for_request(ctx).inspect(Stage.PROMPT, in_document(text))
                if label == "unsafe":
                    tally.attacks += 1
                    tally.caught += bool(decision.matches)
                    continue
                tally.benign += 1
                tally.flagged += bool(decision.matches)
                tally.blocked += decision.action is Action.BLOCK
                tally.fired.update({f"{m.rule}:{v.classifier}" for m in decision.matches
                                    for v in m.verdicts if v.fired})
    finally:
        await runner.aclose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1000, help="benign and injection rows each")
    parser.add_argument("--no-write", action="store_true", help="print only (no BENCHMARKS.md)")
    args = parser.parse_args()
    raw = read_rows(DATA)
    benign = [r["text"] for r in raw if r["kind"] == "benign"][: args.rows]
    attacks = [r["text"] for r in raw if r["kind"] == "prompt_injection"][: args.rows]
    texts: dict[str, list[tuple[str, str]]] = {"none": [("safe", t) for t in benign]
                                               + [("unsafe", t) for t in attacks]}
    for family, hosts in HOSTS.items():
        for form in FORMS[1:]:
            rng = random.Random(f"links:{family}:{form}")
            texts[f"{form} ({family})"] = [(label, with_link(t, form, hosts, rng))
                                          for label, t in texts["none"]]
    lines = [f"{'pack':<8} {'link':<20} {'benign flagged':>15} {'blocked':>8} {'injections flagged':>19}"
             "  fired on benign (rule:classifier)"]
    for pack in PACKS:
        for form, got in asyncio.run(measure(pack, texts)).items():
            top = ", ".join(f"{name} {n}" for name, n in got.fired.most_common(3)) or "-"
            lines.append(f"{Path(pack).stem:<8} {form:<20} {got.flagged / got.benign:>15.1%} "
                         f"{got.blocked / got.benign:>8.1%} {got.caught / got.attacks:>19.1%}  {top}")
    body = (f"{len(benign)} benign and {len(attacks)} prompt-injection dev rows, each in a tool "
            "result (`eval.in_document`) with a link after it (none; a plain URL with a query "
            "string; a Markdown link; an HTML `<a href>` with `&amp;`), on ordinary sites or on "
            "the documentation domains (`example.com`, ...).\n\n```\n"
            + "\n".join(lines) + "\n```\n")
    print(body)
    if not args.no_write:
        write_section("Links in documents", "make bench  (bench/bench_links.py: 1,000 rows of each)", body)


if __name__ == "__main__":
    main()
