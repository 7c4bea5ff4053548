"""Clean tool results and retrieved content full of addresses, for prompt_injection's train split.

Agents read bare URLs, search-result lists (title, address, snippet), Markdown with links, JSON from
APIs, file listings, logs, code and reference lists. The attacks the model was fitted on often carry
an address (an exfiltration sink, a download link, BIPIA's "www.example.com" replies, code that
imports `requests`), while its clean documents had almost none, so "http", "://" and "https" became
some of its strongest injection n-grams and a bare Wikipedia address scored above the threshold
(bench/BENCHMARKS.md, "prompt_injection: URLs and tool results"). These carriers, composed from the
hand-written pieces below, are the negatives that say an address is not an attack; `injected` puts
one attack of training/injections.py into the same carriers (positives), so that the carrier alone
is no cue either. Written apart from training/tool_results_checkset.jsonl (evaluation only), with
other sites, titles and sentences.
"""

from __future__ import annotations

import json
import random

from training.injections import Attacks

_SITES = [
    ("www.britannica.com", ["/place/Vienna", "/science/volcano", "/biography/Marie-Curie", "/topic/jazz"]),
    ("de.wikipedia.org", ["/wiki/Hamburg", "/wiki/Schwarzwald", "/wiki/Rhein"]),
    ("en.m.wikipedia.org", ["/wiki/Kyoto", "/wiki/Saturn", "/wiki/Baroque_music", "/wiki/Tide"]),
    ("www.theguardian.com", ["/world/2024/feb/19/floods-valencia", "/food/2023/nov/02/winter-soups"]),
    ("edition.cnn.com", ["/2024/01/08/weather/storm-forecast/index.html", "/travel/best-beaches"]),
    ("www.lemonde.fr", ["/en/economy/article/2024/03/14/wine-exports", "/en/culture/"]),
    ("gitlab.com", ["/inkscape/inkscape/-/issues/4521", "/gitlab-org/gitlab-runner/-/releases"]),
    ("bitbucket.org", ["/atlassian/python-bitbucket/src/master/", "/team/repo/pull-requests/17"]),
    ("developer.mozilla.org", ["/en-US/docs/Web/CSS/grid", "/en-US/docs/Web/API/Fetch_API/Using_Fetch"]),
    ("learn.microsoft.com", ["/en-us/dotnet/csharp/tour-of-csharp/", "/en-us/azure/storage/blobs/"]),
    ("nodejs.org", ["/api/fs.html#fspromisesreadfilepath-options", "/en/download"]),
    ("pkg.go.dev", ["/net/http", "/github.com/spf13/cobra"]),
    ("crates.io", ["/crates/serde", "/crates/tokio/1.37.0"]),
    ("www.npmjs.com", ["/package/lodash", "/package/date-fns?activeTab=versions"]),
    ("serverfault.com", ["/questions/48724/100-non-responsive-ssh", "/a/129711"]),
    ("superuser.com", ["/questions/1067221/windows-update-stuck", "/q/3341"]),
    ("www.tripadvisor.com", ["/Restaurant_Review-g187147-d718", "/Hotels-g60763-New_York_City"]),
    ("www.booking.com", ["/hotel/it/villa-flora.html?checkin=2024-06-02&checkout=2024-06-05"]),
    ("www.ebay.de", ["/itm/2946188301?hash=item4498", "/b/Fahrrader/177831"]),
    ("www.etsy.com", ["/listing/1189933721/ceramic-mug-handmade", "/shop/LinenAndOak"]),
    ("www.ncbi.nlm.nih.gov", ["/pmc/articles/PMC7152378/", "/books/NBK279388/"]),
    ("pubmed.ncbi.nlm.nih.gov", ["/31978945/", "/28416567/"]),
    ("www.jstor.org", ["/stable/1885505", "/stable/10.2307/2937843"]),
    ("link.springer.com", ["/article/10.1007/s10584-019-02464-z", "/book/10.1007/978-3-030-11486-6"]),
    ("onlinelibrary.wiley.com", ["/doi/10.1111/gcb.15321"]),
    ("www.sciencedirect.com", ["/science/article/pii/S0301479720301234"]),
    ("www.imdb.com", ["/title/tt0111161/", "/name/nm0000151/"]),
    ("open.spotify.com", ["/album/1ATL5GLyefJaxhQzSPVrLX", "/playlist/37i9dQZF1DX4sWSpwq3LiO"]),
    ("vimeo.com", ["/76979871", "/channels/staffpicks/512345"]),
    ("www.metoffice.gov.uk", ["/weather/forecast/gcpvj0v07", "/weather/warnings-and-advice"]),
    ("www.usa.gov", ["/passport", "/disability-benefits"]),
    ("www.service-public.fr", ["/particuliers/vosdroits/F1342"]),
    ("status.cloud.google.com", ["/incidents/xyz123", "/summary"]),
    ("www.recipetineats.com", ["/lasagna/", "/chicken-tikka-masala/"]),
    ("www.bbcgoodfood.com", ["/recipes/easy-banana-bread", "/howto/guide/how-to-poach-egg"]),
    ("medium.com", ["/@lena.k/why-we-rewrote-our-billing-service-9a1b2c", "/tag/productivity"]),
    ("dev.to", ["/ana_dev/ten-git-aliases-i-use-every-day-4k2p", "/t/webdev"]),
    ("www.ikea.com", ["/gb/en/p/billy-bookcase-white-00263850/"]),
    ("shop.northpeak.co", ["/products/trail-jacket?variant=4471", "/cart"]),
    ("intranet.holloway.local", ["/hr/leave-policy", "/it/printers"]),
    (
        "confluence.meridian-tech.io",
        ["/display/ENG/Release+checklist", "/pages/viewpage.action?pageId=88231"],
    ),
    ("jira.meridian-tech.io", ["/browse/PAY-2231", "/secure/Dashboard.jspa"]),
    ("files.riverbank-media.net", ["/press/2024/kit.zip", "/img/banner-spring.webp"]),
    ("api.coinbase.com", ["/v2/prices/BTC-EUR/spot"]),
    ("api.spacexdata.com", ["/v4/launches/latest"]),
    ("192.168.0.12:3000", ["/d/node-exporter?orgId=1", "/login"]),
    ("127.0.0.1:5000", ["/graphql", "/static/app.js"]),
    ("docs.docker.com", ["/compose/networking/", "/engine/reference/commandline/run/"]),
    ("www.postgresql.org", ["/docs/16/sql-createindex.html", "/download/"]),
    ("openstreetmap.org", ["/way/24981342", "/#map=15/48.2082/16.3738"]),
    # The documentation domains (RFC 2606), which tutorials, API references and templates link to:
    # the exfiltration sinks of training/injections.py and BIPIA's phishing links are all on them,
    # and without clean addresses there too a link to one read as an attack (bench/bench_links.py).
    ("www.example.com", ["/", "/docs/getting-started", "/pricing?plan=team&billing=yearly"]),
    ("api.example.org", ["/v1/orders?status=open&limit=20", "/v2/users/42"]),
    ("cdn.example.net", ["/assets/logo.svg", "/fonts/inter.woff2"]),
    ("portal.example.edu", ["/courses/biology-101", "/library/search?q=tides&format=book"]),
]
_QUERIES = [
    "",
    "",
    "",
    "?lang=en",
    "?page=2",
    "?utm_source=newsletter&utm_campaign=spring",
    "?id=8812&sort=new",
    "#section-3",
    "?s=09&t=Fm2kQ",
    "?ref=search",
    "?redirect=%2Faccount%2Forders&lang=en",
]
_TITLES = [
    "Vienna | History, Population & Facts",
    "How volcanoes form",
    "Marie Curie biography",
    "The story of jazz",
    "Hamburg",
    "Black Forest travel tips",
    "Kyoto in autumn: where to see the leaves",
    "Saturn's rings explained",
    "Floods hit Valencia after record rain",
    "Five winter soups to make this week",
    "Storm forecast for the weekend",
    "Wine exports fall for the second year",
    "Export to PDF loses fonts (#4521)",
    "GitLab Runner 16.10 released",
    "CSS grid layout",
    "Using the Fetch API",
    "A tour of the C# language",
    "Introduction to Blob storage",
    "fs.promises.readFile",
    "net/http package",
    "serde on crates.io",
    "lodash",
    "SSH session hangs after login",
    "Windows update stuck at 0%",
    "Trattoria da Enzo - reviews",
    "Villa Flora, Lake Como",
    "Ceramic mug, handmade",
    "Gut microbiome and sleep: a review",
    "Market structure and innovation",
    "Climate risk in alpine tourism",
    "The Shawshank Redemption (1994)",
    "Weekend forecast for Leeds",
    "Apply for a passport",
    "Classic lasagna",
    "Easy banana bread",
    "Why we rewrote our billing service",
    "Ten git aliases I use every day",
    "BILLY bookcase, white",
    "Leave policy 2024",
    "Release checklist",
    "PAY-2231: refund rounding error",
    "Docker Compose networking",
    "CREATE INDEX",
    "Trail jacket - Northpeak",
    "Incident: elevated error rates",
]
_SNIPPETS = [
    "Opening hours are 9:00 to 17:30 on weekdays; the gallery is closed on public holidays.",
    "The city sits on the Danube and has a population of just under two million.",
    "Most eruptions happen where tectonic plates pull apart or slide beneath one another.",
    "A simple guide with photos, timings and what to do if the sauce splits.",
    "Updated three weeks ago. 214 comments.",
    "Version 3.2 adds keyboard shortcuts and fixes the export crash on large files.",
    "Prices start at 89 euros a night including breakfast; free cancellation until 48 hours before arrival.",
    "The study followed 1,240 adults for two years and found a modest effect.",
    "Rated 4.6 out of 5 by 3,112 guests.",
    "Heavy rain is expected from Friday evening, with up to 40 mm on high ground.",
    "Returns are accepted within 30 days if the item is unused and in its original packaging.",
    "This page explains the required documents, fees and processing times.",
    "The answer with 412 votes suggests checking the MTU setting on the VPN interface.",
    "Accepted answer: the service needs a restart after the certificate is renewed.",
    "Official documentation for the current stable release.",
    "Free delivery on orders over 50 pounds; usually dispatched within two working days.",
    "The museum reopened in March after a two-year renovation of its east wing.",
    "Sign in to see your saved items and order history.",
    "Includes a downloadable timetable and a map of all stops.",
    "Published 12 March 2024 by the editorial team.",
    "Serves 6. Prep 25 minutes, cook 1 hour.",
    "Ships from Porto, Portugal. Made to order in 3-5 days.",
    "The release notes list 48 bug fixes and two breaking changes.",
    "Coverage includes live updates, maps and a timeline of events.",
]
_AUTHORS = [
    "García, M.",
    "Okonkwo, T.",
    "Lindqvist, H.",
    "Tanaka, Y.",
    "Moreau, C.",
    "Brennan, P.",
    "Kowalski, J.",
    "Haddad, R.",
    "Nguyen, L.",
    "Fischer, S.",
]
_JOURNALS = [
    "Nature Climate Change",
    "The Lancet",
    "Journal of Applied Ecology",
    "ACM Computing Surveys",
    "Economic Journal",
    "PLOS ONE",
    "Sleep Medicine Reviews",
    "Tourism Management",
]
_FILES = [
    "index.html",
    "main.go",
    "Cargo.toml",
    "notes-2024-04.md",
    "budget_q2.xlsx",
    "backup.tar.gz",
    "docker-compose.yml",
    "setup.cfg",
    "holiday-photos/",
    "invoices/",
    "vendor/",
    "migrations/0007_add_index.py",
    "LICENSE",
    "requirements-dev.txt",
    "app.log",
    "favicon.ico",
    "report-final-v3.pdf",
    "scripts/deploy.sh",
]
_LOG_MSGS = [
    "request completed",
    "cache miss",
    "retrying upload",
    "token refreshed",
    "job finished",
    "connection reset by peer",
    "redirect followed",
    "certificate expires in 21 days",
    "healthcheck ok",
]


def url(rng: random.Random) -> str:
    """An address of one of the sites, with or without scheme, query or fragment."""
    host, paths = rng.choice(_SITES)
    scheme = rng.choice(["https://", "https://", "https://", "http://", ""])
    if not scheme and not host.startswith("www."):
        scheme = "https://"
    path = rng.choice(paths)
    extra = rng.choice(_QUERIES)
    if "?" in path and extra.startswith("?"):
        extra = "&" + extra[1:]
    return scheme + host + path + extra


def _bare(rng: random.Random) -> str:
    n = rng.choice([1, 1, 1, 2, 3])
    return rng.choice(["\n", " ", ", "]).join(url(rng) for _ in range(n))


def _search(rng: random.Random) -> str:
    items = []
    for i in range(1, rng.randint(2, 5)):
        title, link, snippet = rng.choice(_TITLES), url(rng), rng.choice(_SNIPPETS)
        items.append(
            rng.choice(
                [
                    f"{i}. {title}\n{link}\n{snippet}",
                    f"[{i}] {title} - {link} - {snippet}",
                    f"Title: {title}\nURL: {link}\nDescription: {snippet}",
                    f"- {title} ({link})",
                    f"{title}\n{link.split('://')[-1]}\n{snippet}",
                ]
            )
        )
    head = rng.choice(
        ["", "Search results:\n", "Top results\n", f"About {rng.randint(2, 900)},000 results\n"]
    )
    return head + "\n".join(items)


# What a link is called when its title is not given: the deictic anchors of ordinary pages and
# answers ("see this article"), which phishing links are written with too.
_ANCHORS = ["here", "this article", "the docs", "the full story", "the release notes", "the announcement",
            "this guide", "the source", "the thread", "this link", "the write-up", "the listing"]


def _title(rng: random.Random) -> str:
    return rng.choice(_ANCHORS) if rng.random() < 0.3 else rng.choice(_TITLES)


def _markdown(rng: random.Random) -> str:
    links = [f"[{_title(rng)}]({url(rng)})" for _ in range(rng.randint(1, 4))]
    return rng.choice(
        [
            f"{rng.choice(_SNIPPETS)}\nSee {links[0]}.",
            "## Links\n\n" + "\n".join(f"- {x}" for x in links),
            f"{rng.choice(_SNIPPETS)} More in {links[0]}.",
            " | ".join(links),
            f"# Notes\n\n{rng.choice(_SNIPPETS)}\n\nSee also: " + ", ".join(links),
            f"![{rng.choice(_TITLES)}]({url(rng)}) {rng.choice(_SNIPPETS)}",
        ]
    )


def _json(rng: random.Random) -> str:
    kind = rng.randrange(6)
    obj: dict[str, object]
    if kind == 0:
        obj = {"title": rng.choice(_TITLES), "url": url(rng), "snippet": rng.choice(_SNIPPETS)}
    elif kind == 1:
        results = [{"name": rng.choice(_TITLES), "link": url(rng)} for _ in range(rng.randint(1, 3))]
        obj = {"results": results, "next_page": url(rng)}
    elif kind == 2:
        updated = f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T08:00:00Z"
        status = rng.choice(["active", "done", "queued"])
        obj = {"id": rng.randint(100, 99999), "status": status, "self": url(rng), "updated_at": updated}
    elif kind == 3:
        source = {"url": url(rng), "title": rng.choice(_TITLES)}
        obj = {"type": "document", "source": source, "content": rng.choice(_SNIPPETS)}
    elif kind == 4:
        obj = {"image": url(rng), "width": rng.choice([640, 1024, 1920]), "alt": rng.choice(_TITLES)}
    else:
        links = {"html": url(rng), "api": url(rng)}
        obj = {"ok": True, "data": {"links": links, "count": rng.randint(0, 50)}}
    return json.dumps(obj, ensure_ascii=False, indent=rng.choice([None, None, 2]))


def _listing(rng: random.Random) -> str:
    files = rng.sample(_FILES, rng.randint(3, 7))
    if rng.random() < 0.5:
        return "\n".join(f"{f}  {url(rng)}" if rng.random() < 0.4 else f for f in files)
    return f"Index of {url(rng)}\n" + "\n".join(f"{f}  {rng.randint(1, 900)}K" for f in files)


def _log(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(2, 5)):
        ts = (
            f"2024-04-{rng.randint(10, 28)} {rng.randint(10, 23)}:{rng.randint(10, 59)}:{rng.randint(10, 59)}"
        )
        level = rng.choice(["INFO", "DEBUG", "WARN", "ERROR"])
        lines.append(
            rng.choice(
                [
                    f"{ts} {level} {rng.choice(_LOG_MSGS)} url={url(rng)}",
                    f"[{ts}] {rng.choice(['GET', 'POST', 'HEAD'])} {url(rng)} -> "
                    f"{rng.choice([200, 301, 404, 503])}",
                    f"{ts} {level} {rng.choice(_LOG_MSGS)}",
                ]
            )
        )
    return "\n".join(lines)


def _code(rng: random.Random) -> str:
    u = url(rng)
    return rng.choice(
        [
            f'BASE_URL = "{u}"\nresp = httpx.get(BASE_URL, timeout=5)\ndata = resp.json()',
            f"curl -sSL '{u}' -o out.html",
            f'<link rel="stylesheet" href="{u}">\n<a href="{url(rng)}">{rng.choice(_TITLES)}</a>',
            f"// docs: {u}\nexport const endpoint = new URL('{url(rng)}');",
            f"wget {u}\ntar xzf backup.tar.gz",
            f"remote:\n  origin: {u}\n  mirror: {url(rng)}",
            f"# {rng.choice(_TITLES)}\n# see {u}\nimport urllib.request\n"
            f"html = urllib.request.urlopen('{url(rng)}').read()",
        ]
    )


def _html(rng: random.Random) -> str:
    """Links as a web page writes them: an `&` in a query string as `&amp;`."""
    links = [f'<a href="{url(rng).replace("&", "&amp;")}">{_title(rng)}</a>'
             for _ in range(rng.randint(1, 3))]
    return rng.choice(
        [
            f"<p>{rng.choice(_SNIPPETS)} Read more: {links[0]}.</p>",
            f"{rng.choice(_SNIPPETS)}\n<p>See {links[0]}.</p>",
            "<ul>\n" + "\n".join(f"  <li>{x}</li>" for x in links) + "\n</ul>",
            f"<p>{rng.choice(_SNIPPETS)}</p>\n<p>Sources: {', '.join(links)}</p>",
            f"{rng.choice(_SNIPPETS)} ({links[0]})",
        ]
    )


def _citation(rng: random.Random) -> str:
    refs = []
    for i in range(1, rng.randint(2, 4)):
        year = rng.randint(1998, 2024)
        refs.append(
            rng.choice(
                [
                    f"{i}. {rng.choice(_AUTHORS)} ({year}). {rng.choice(_TITLES)}. "
                    f"{rng.choice(_JOURNALS)}. {url(rng)}",
                    f"[{i}] {rng.choice(_TITLES)}, {rng.choice(_AUTHORS)}, {year}. Available at: {url(rng)} "
                    f"(accessed {rng.randint(1, 28)} May 2024)",
                    f"Source: {url(rng)}",
                ]
            )
        )
    head = rng.choice(["", "References\n", "Sources:\n", f"{rng.choice(_SNIPPETS)}\n\n"])
    return head + "\n".join(refs)


KINDS = (_bare, _search, _markdown, _html, _json, _listing, _log, _code, _citation)


def clean(rng: random.Random, count: int) -> list[str]:
    """`count` clean carriers, the kinds in turn."""
    return [KINDS[i % len(KINDS)](rng) for i in range(count)]


def injected(rng: random.Random, count: int, split: str = "train") -> list[str]:
    """`count` of the same carriers, each with one attack of `split`'s templates put in a line of its own."""
    attacks = Attacks(split)
    out = []
    for text in clean(rng, count):
        lines = text.split("\n")
        at = rng.randint(0, len(lines))
        out.append("\n".join([*lines[:at], attacks.any(rng), *lines[at:]]))
    return out
