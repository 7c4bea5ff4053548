"""What the client was sent of a Responses stream's message parts, rewound to a mark."""

from __future__ import annotations

from guard.proxy.sent_parts import SentParts


def added(part: dict[str, str], item: int = 0, index: int = 0) -> dict[str, object]:
    return {"type": "response.content_part.added", "output_index": item,
            "content_index": index, "part": part}


def delta(text: str, kind: str = "output_text", item: int = 0, index: int = 0) -> dict[str, object]:
    return {"type": f"response.{kind}.delta", "output_index": item, "content_index": index,
            "delta": text}


def test_a_parts_text_is_what_was_sent_up_to_the_mark_rewound_to() -> None:
    """Pieces sent after a mark, and parts opened or closed after it, are forgotten on rewind:
    a kill switch's ending lists what the client was sent, not what was encoded and dropped."""
    parts = SentParts()
    parts.note(added({"type": "output_text", "text": ""}))
    parts.note(delta("Hello, "))
    mark = parts.mark()
    parts.note(delta("world"))
    parts.note({"type": "response.content_part.done", "output_index": 0, "content_index": 0,
                "part": {"type": "output_text", "text": "Hello, world"}})
    parts.note(added({"type": "refusal", "refusal": ""}, index=1))
    assert [p.get("text", p.get("refusal")) for p in parts.content(0)] == ["Hello, world", ""]
    parts.rewind(mark)
    assert parts.content(0) == [{"type": "output_text", "text": "Hello, "}]


def test_deltas_of_another_kind_or_item_are_not_joined_to_a_part() -> None:
    """A refusal delta is not added to an output_text part, nor one item's to another's; a part
    of a type guard does not list (a reasoning text) is left out."""
    parts = SentParts()
    parts.note(added({"type": "output_text", "text": "a"}))
    parts.note(added({"type": "reasoning_text", "text": ""}, item=1))
    parts.note(delta("x", kind="refusal"))
    parts.note(delta("y", item=1))
    parts.note(delta("b"))
    assert parts.content(0) == [{"type": "output_text", "text": "ab"}]
    assert parts.content(1) == []
