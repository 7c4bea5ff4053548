"""The text of a Responses stream's message parts as the client was sent it, for an ending that
lists the items left open: a kill switch in refuse mode completes the response, and the SDKs'
stream helpers return that response's items, not what they read of the deltas before it."""

from __future__ import annotations

from typing import Any, cast

from guard.proxy.protocols.base import Json, small_index

# A message part's type -> the key its text is under, and the delta event adding to it.
PART_TEXT = {"output_text": "text", "refusal": "refusal"}
PART_DELTAS = {"response.output_text.delta": "text", "response.refusal.delta": "refusal"}
PART_EVENTS = ("response.content_part.added", "response.content_part.done")
# what an event's data holds when it is one of those (a stream passed untouched is read no more)
PART_SIGNS = ('"response.content_part.', '"response.output_text.delta"',
              '"response.refusal.delta"')
Key = tuple[int, int]  # (output_index, content_index)


def part_key(event: Json) -> Key | None:
    item, part = event.get("output_index"), event.get("content_index")
    if small_index(item) and small_index(part):
        return int(cast(float, item)), int(cast(float, part))
    return None


class SentParts:
    """Each message part the client was sent: as opened (or closed, whole), and the pieces of
    its text sent since. A piece list is only appended to, and a part closed gets a new one, so
    a `mark` (the lengths) rewinds it."""

    def __init__(self) -> None:
        self._parts: dict[Key, tuple[Json, list[str]]] = {}

    def note(self, event: Json) -> None:
        """See an event the client is sent."""
        kind = event.get("type")
        if kind not in PART_DELTAS and kind not in PART_EVENTS:
            return
        key = part_key(event)
        if key is None:
            return
        if kind in PART_EVENTS:
            part = event.get("part")
            if isinstance(part, dict) and part.get("type") in PART_TEXT:
                self._parts[key] = (part, [])
            return
        sent, delta = self._parts.get(key), event.get("delta")
        if sent is not None and PART_TEXT[sent[0]["type"]] == PART_DELTAS[kind] \
                and isinstance(delta, str):
            sent[1].append(delta)

    def content(self, output_index: int) -> list[Json]:
        """The parts of item `output_index` the client was sent, with their text so far."""
        return [{**part, PART_TEXT[part["type"]]: str(part.get(PART_TEXT[part["type"]]) or "")
                 + "".join(pieces)}
                for (item, _), (part, pieces) in sorted(self._parts.items())
                if item == output_index]

    def mark(self) -> Any:
        return {key: (part, pieces, len(pieces)) for key, (part, pieces) in self._parts.items()}

    def rewind(self, mark: Any) -> None:
        self._parts = {}
        for key, (part, pieces, length) in mark.items():
            del pieces[length:]
            self._parts[key] = (part, pieces)
