"""The incident review report: counts by rule, category, model and tenant over time, top rules,
shadow vs enforced, and the kill switch history, as Markdown or as one self-contained HTML page
(inline SVG charts, inline CSS, no scripts, no external assets)."""

from __future__ import annotations

import html
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from guard.incidents.terminal import escape_controls

TOP = 10
# Backslash-escaped in Markdown text: CommonMark takes a backslash before any of them as the
# character itself.
_MARKUP = re.compile(r"[\\`*_{}\[\]<>!|~&#]")
# What GitHub-flavoured Markdown makes a link of in text, escaped or not (an e-mail address, a
# `www.` name, a URL; GitHub links e-mail addresses in the rendered text, after escapes).
_LINKABLE = re.compile(r"www\.|://|@|mailto:|xmpp:", re.IGNORECASE)
_BACKTICKS = re.compile(r"`+")
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac")


@dataclass
class Summary:
    """What an incident review needs, counted once from a list of incidents."""

    since: float
    until: float
    bucket_s: int
    total: int = 0
    by: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    over_time: dict[str, dict[int, Counter[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Counter)))
    mode: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    switches: list[dict[str, Any]] = field(default_factory=list)
    events: Counter[str] = field(default_factory=Counter)


def summarise(incidents: Iterable[dict[str, Any]], since: float, until: float | None = None
              ) -> Summary:
    until = time.time() if until is None else until
    span = max(until - since, 1.0)
    bucket = next((b for b in (300, 900, 3600, 6 * 3600, 86400) if span / b <= 48), 7 * 86400)
    summary = Summary(since=since, until=until, bucket_s=bucket)
    for incident in incidents:
        kind = incident.get("kind", "decision")
        if kind != "decision":
            summary.events[kind] += 1
            if kind in ("killswitch", "breaker"):
                summary.switches.append(incident)
            continue
        summary.total += 1
        slot = int(float(incident["time"]) // bucket * bucket)
        keys = {"rule": list(incident.get("rules") or ()) or ["(none)"],
                "category": [incident.get("category") or "(none)"],
                "model": [incident.get("model") or "(none)"],
                "tenant": [incident.get("tenant") or "(none)"]}
        for dimension, values in keys.items():
            for value in values:
                summary.by[dimension][value] += 1
                summary.over_time[dimension][slot][value] += 1
        summary.mode[incident.get("mode", "enforce")] += 1
        summary.actions[f"{incident.get('action')} ({incident.get('mode', 'enforce')})"] += 1
    # in time order: pages from the journal come file by file, each worker's in turn
    summary.switches.sort(key=lambda event: float(event["time"]))
    return summary


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _switch_row(event: dict[str, Any]) -> list[str]:
    d = event.get("details") or {}
    return [_when(float(event["time"])), event.get("kind", ""), str(d.get("action", "")),
            str(d.get("scope", "")), str(d.get("mode", "")), str(d.get("actor", "")),
            str(d.get("reason", "")), str(d.get("id", ""))]


SWITCH_COLUMNS = ["time", "kind", "action", "scope", "mode", "actor", "reason", "switch"]


def markdown(s: Summary) -> str:
    events = ", ".join(f"{_md_text(k, cell=False)} {v}" for k, v in sorted(s.events.items()))
    out = [f"# Incident report: {_when(s.since)} to {_when(s.until)}", "",
           f"- decisions recorded: **{s.total}**",
           f"- enforced: {s.mode.get('enforce', 0)}, shadow: {s.mode.get('shadow', 0)}",
           f"- events: {events or 'none'}", ""]
    out += _md_table("Top rules", ["rule", "incidents"], s.by["rule"].most_common(TOP))
    out += _md_table("Shadow vs enforced", ["action (mode)", "incidents"],
                     s.actions.most_common())
    for dimension in ("category", "model", "tenant"):
        out += _md_table(f"By {dimension}", [dimension, "incidents"],
                         s.by[dimension].most_common(TOP))
    out += [f"## Over time (per {_duration(s.bucket_s)})", ""]
    top_rules = [r for r, _ in s.by["rule"].most_common(5)]
    rows = [(_when(slot), *(str(c.get(r, 0)) for r in top_rules))
            for slot, c in sorted(s.over_time["rule"].items())]
    out += _md_rows(["bucket start", *top_rules], rows)
    out += ["## Kill switch history", ""]
    out += (_md_rows(SWITCH_COLUMNS, [_switch_row(e) for e in s.switches])
            if s.switches else ["No kill switch changes.", ""])
    return "\n".join(out)


def _md_table(title: str, header: list[str], rows: Sequence[tuple[str, int]]) -> list[str]:
    body = _md_rows(header, [(k, str(v)) for k, v in rows]) if rows else ["None.", ""]
    return [f"## {title}", "", *body]


def _md_rows(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(map(_md_text, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(_md_text, row)) + " |" for row in rows]
    return [*lines, ""]


def _md_text(value: str, cell: bool = True) -> str:
    """`value` (a model name or tenant a client chose) as plain text in a Markdown table cell
    (or in a line of text: `cell=False`): each character Markdown or HTML reads as markup
    backslash-escaped (so `![x](url)` is no image, `<img ...>` no HTML and `a\\|b` no extra
    cell), line breaks as spaces, and other control characters as text. A value GFM would make
    a link of (`www.evil.example`, `http://x.example`, `a@evil.example`) is a code span: the
    GFM spec's autolink extension finds links in text nodes only, and a code span's content is
    literal text, escapes included."""
    text = escape_controls(" ".join(value.splitlines()))
    if not _LINKABLE.search(text):
        return _MARKUP.sub(r"\\\g<0>", text)
    fence = "`" * (max(map(len, _BACKTICKS.findall(text)), default=0) + 1)
    # GFM's table splits cells at a `|` not escaped, in code spans too, and drops the `\`;
    # the spaces inside the fences are dropped too, and let the value start or end with `.
    return f"{fence} {text.replace('|', chr(92) + '|') if cell else text} {fence}"


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count > 1 else ''}" if count > 1 else unit
    return f"{seconds} s"


# -- HTML ------------------------------------------------------------------------------------

CSS = """body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left}th{background:#f4f4f4}.grid{display:flex;flex-wrap:wrap;gap:2em}
.kpi{display:inline-block;margin-right:2em}.kpi b{font-size:1.6em;display:block}
svg text{font:11px system-ui,sans-serif}"""


def html_page(s: Summary) -> str:
    e = _html_text
    parts = [f"<!doctype html><html lang=en><meta charset=utf-8>"
             f"<title>guard incident report</title><style>{CSS}</style>",
             f"<h1>Incident report</h1><p>{e(_when(s.since))} to {e(_when(s.until))}</p>",
             "<div>",
             _kpi("decisions recorded", s.total), _kpi("enforced", s.mode.get("enforce", 0)),
             _kpi("shadow", s.mode.get("shadow", 0)),
             _kpi("kill switch / breaker events", len(s.switches)), "</div>"]
    parts.append(f"<h2>Incidents over time by rule (per {e(_duration(s.bucket_s))})</h2>")
    parts.append(stacked_bars(s, "rule"))
    parts.append("<div class=grid>")
    parts.append("<div><h2>Top rules</h2>" + hbars(s.by["rule"].most_common(TOP)) + "</div>")
    parts.append("<div><h2>Shadow vs enforced</h2>" + hbars(s.actions.most_common()) + "</div>")
    for dimension in ("category", "model", "tenant"):
        parts.append(f"<div><h2>By {dimension}</h2>"
                     + hbars(s.by[dimension].most_common(TOP)) + "</div>")
    parts.append("</div>")
    for dimension in ("category", "model", "tenant"):
        parts.append(f"<h2>{dimension.capitalize()} over time</h2>")
        parts.append(stacked_bars(s, dimension))
    parts.append("<h2>Kill switch history</h2>")
    if s.switches:
        parts.append(_html_table(SWITCH_COLUMNS, [_switch_row(x) for x in s.switches]))
    else:
        parts.append("<p>No kill switch changes.</p>")
    parts.append("</html>\n")
    return "\n".join(parts)


def _html_text(value: str) -> str:
    """A value as HTML text, its control characters written out (a page printed to a terminal
    runs none of them)."""
    return html.escape(escape_controls(value))


def _kpi(label: str, value: int) -> str:
    return f"<span class=kpi><b>{value}</b>{_html_text(label)}</span>"


def _html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    e = _html_text
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def hbars(rows: Sequence[tuple[str, int]], width: int = 420) -> str:
    """A horizontal bar chart as inline SVG."""
    if not rows:
        return "<p>None.</p>"
    e = _html_text
    peak = max(v for _, v in rows) or 1
    label_w, bar_w, row_h = 150, width - 200, 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{row_h * len(rows) + 4}" role="img">']
    for i, (label, value) in enumerate(rows):
        y = i * row_h + 2
        length = max(1, round(bar_w * value / peak))
        out.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">'
                   f"{e(label[:24])}</text>"
                   f'<rect x="{label_w}" y="{y + 3}" width="{length}" height="{row_h - 6}" '
                   f'fill="{PALETTE[0]}"><title>{e(label)}: {value}</title></rect>'
                   f'<text x="{label_w + length + 4}" y="{y + 14}">{value}</text>')
    out.append("</svg>")
    return "".join(out)


def stacked_bars(s: Summary, dimension: str, width: int = 1000, height: int = 220) -> str:
    """Incidents per time bucket, stacked by the top values of `dimension`, as inline SVG."""
    series = s.over_time[dimension]
    if not series:
        return "<p>No incidents in this period.</p>"
    e = _html_text
    top = [k for k, _ in s.by[dimension].most_common(len(PALETTE) - 1)]
    first = int(s.since // s.bucket_s * s.bucket_s)
    slots = list(range(first, int(s.until) + 1, s.bucket_s)) or [first]
    peak = max(sum(c.values()) for c in series.values()) or 1
    left, bottom, legend_h = 40, 20, 18
    plot_w, plot_h = width - left - 10, height - bottom - legend_h - 10
    step = plot_w / len(slots)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'role="img"><line x1="{left}" y1="{plot_h + legend_h}" x2="{width - 10}" '
           f'y2="{plot_h + legend_h}" stroke="#999"/>'
           f'<text x="{left - 4}" y="{legend_h + 10}" text-anchor="end">{peak}</text>']
    for i, slot in enumerate(slots):
        counts = series.get(slot, Counter())
        y = float(plot_h + legend_h)
        other = sum(v for k, v in counts.items() if k not in top)
        for colour, (name, value) in zip(PALETTE, [*((k, counts.get(k, 0)) for k in top),
                                                   ("other", other)], strict=False):
            if not value:
                continue
            h = plot_h * value / peak
            y -= h
            out.append(f'<rect x="{left + i * step + 1:.1f}" y="{y:.1f}" '
                       f'width="{max(step - 2, 1):.1f}" height="{h:.1f}" fill="{colour}">'
                       f"<title>{e(_when(slot))} {e(name)}: {value}</title></rect>")
    for i in (0, len(slots) - 1):
        out.append(f'<text x="{left + i * step:.1f}" y="{height - 4}">'
                   f"{e(_when(slots[i])[5:16])}</text>")
    x = left
    for colour, name in zip(PALETTE, [*top, "other"], strict=False):
        out.append(f'<rect x="{x}" y="2" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{x + 14}" y="11">{e(name[:20])}</text>')
        x += 24 + 7 * min(len(name), 20)
    out.append("</svg>")
    return "".join(out)
