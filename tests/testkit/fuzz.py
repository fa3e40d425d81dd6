"""Hostile records for the contract fuzz campaign (tests/heavy/test_contract_fuzz.py): hypothesis strategies that
write whole records as bytes, biased toward the edges of the event contract, and the reference verdict on a record
that Spark's validation must agree with.

Most records are valid events with one or two things changed, so that each rule is reached with everything else
right; the rest are records that are not one JSON object at all. Every record is spelled by `spelled`, which writes
JSON the way strangers' code may: any whitespace, escapes for any character, numbers in every JSON spelling.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache

from hypothesis import strategies as st

from jobs.transforms.validation import MAX_NESTING

EVENT_TYPES = ("page_view", "add_to_cart", "checkout_started", "order_placed", "order_refunded")
# Integers at and past every bound the contract or a 64-bit sum has.
EDGE_INTEGERS = (
    0, 1, -1, 2, 10**9 - 1, 10**9, 10**15 - 1, 10**15, 2**31 - 1, 2**31, 2**53 + 1, 2**62,
    2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**38, 10**40, -(10**40),
)  # fmt: skip
# Characters that line protocol, JSON, regular expressions, UTF-16 or terminals treat specially.
EDGE_CHARACTERS = (
    "\u0000\u0001\t\n\r\u001f\u007f\u0080\u0085\u00a0\u2028\u2029\ufeff\ufffd\uffff"
    " ,=\"'\\/|$^.*{}[]:m\u00e9\u0301\u4e2d\U0001f600\U0010ffff"
)
# Timestamps at the edges of the calendar and of every offset, most of them valid-looking.
YEARS = ("0000", "0001", "1677", "1969", "1970", "2026", "2262", "9999")
MONTHS = ("00", "01", "02", "11", "12", "13")
DAYS = ("00", "01", "28", "29", "30", "31", "32")
TIMES = ("00:00:00", "23:59:59", "23:59:60", "24:00:00", "12:60:00", "13:05:00")
FRACTIONS = ("", ".0", ".123", ".999999", ".123456789", ".1234567890", ".")
OFFSETS = ("Z", "z", "+00:00", "-00:00", "+05:30", "+14:00", "-12:00", "+23:59", "-23:59", "+24:00", "+0530", "")
# Base instants of the valid-looking events: the two days the campaign's gold is about, ingested on 2026-12-01.
FIRST_INSTANT = datetime(2026, 11, 23, tzinfo=UTC)
INGESTED_AT = datetime(2026, 12, 1, tzinfo=UTC)


@cache
def odd_text(max_size: int = 80) -> st.SearchStrategy[str]:
    """Text of edge characters and anything else Unicode holds (surrogates excepted: `spelled` writes those)."""
    return st.text(
        st.one_of(st.sampled_from(EDGE_CHARACTERS), st.characters(codec="utf-8")), min_size=0, max_size=max_size
    )


@cache
def plain_text(min_size: int = 1, max_size: int = 64) -> st.SearchStrategy[str]:
    return st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=min_size, max_size=max_size)


@cache
def edge_timestamps() -> st.SearchStrategy[str]:
    built = st.tuples(
        st.sampled_from(YEARS),
        st.sampled_from(MONTHS),
        st.sampled_from(DAYS),
        st.sampled_from(("T", "t", " ")),
        st.sampled_from(TIMES),
        st.sampled_from(FRACTIONS),
        st.sampled_from(OFFSETS),
    ).map(lambda parts: "-".join(parts[:3]) + "".join(parts[3:]))
    return st.one_of(built, odd_text(30))


@cache
def usual_timestamps() -> st.SearchStrategy[str]:
    """RFC 3339 instants within the campaign's two days, written with any offset and precision."""

    def write(seconds: int, micros: int, offset_minutes: int, precision: int) -> str:
        offset = timedelta(minutes=offset_minutes)
        local = (FIRST_INSTANT + timedelta(seconds=seconds, microseconds=micros)).astimezone(timezone(offset))
        fraction = f"{local.microsecond:06d}000"[:precision]
        sign = "+" if offset_minutes >= 0 else "-"
        zone = "Z" if offset_minutes == 0 else f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
        return local.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if precision else "") + zone

    return st.builds(
        write,
        st.integers(0, 2 * 86_400 - 1),
        st.integers(0, 999_999),
        st.integers(-23 * 60 - 59, 23 * 60 + 59),
        st.integers(0, 9),
    )


@cache
def json_values(depth: int = 3) -> st.SearchStrategy[object]:
    """Any JSON value, nested up to `depth` levels, with edge integers and odd text."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from(EDGE_INTEGERS),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        odd_text(),
    )
    if depth == 0:
        return scalars
    inner = json_values(depth - 1)
    return st.one_of(scalars, st.lists(inner, max_size=3), st.dictionaries(odd_text(12), inner, max_size=3))


def mostly(usual: st.SearchStrategy, edge: st.SearchStrategy, times: int = 5) -> st.SearchStrategy:
    """`usual` `times` as often as `edge`: a record breaks few rules at once, so that each rule is reached. (A
    strategy listed twice in `st.one_of` counts once.)"""
    return st.sampled_from((usual,) * times + (edge,)).flatmap(lambda chosen: chosen)


@cache
def items() -> st.SearchStrategy[list[dict]]:
    item = st.fixed_dictionaries(
        {
            "sku": st.one_of(plain_text(), odd_text()),
            "name": st.one_of(plain_text(), odd_text()),
            "quantity": mostly(st.integers(1, 5), st.sampled_from(EDGE_INTEGERS)),
            "unit_price_minor": mostly(st.integers(0, 10_000), st.sampled_from(EDGE_INTEGERS)),
        },
        optional={"colour": json_values(2)},
    )
    return st.lists(item, min_size=0, max_size=4)


# Strategies are built once: building one costs hypothesis more than drawing from it.
VERSIONS = st.sampled_from((1, 2))
EVENT_IDS = mostly(plain_text(), odd_text(70), 3)
MERCHANT_IDS = mostly(st.sampled_from(("m-1", "m-2", "m 3,=x", "\u00e9\U0001f600")), odd_text(70))
OCCURRED_ATS = mostly(usual_timestamps(), edge_timestamps())
OPTIONAL_TEXTS = st.one_of(st.none(), plain_text(), odd_text())
CURRENCIES = mostly(st.sampled_from(("EUR", "USD", "JPY", "KWD")), st.sampled_from(("eur", "EUR\n", "EURO", "")))
AMOUNTS = mostly(st.integers(1, 100_000), st.sampled_from(EDGE_INTEGERS))
SMALL_AMOUNTS = mostly(st.integers(0, 500), st.sampled_from(EDGE_INTEGERS))
CHANNELS = mostly(st.sampled_from(("web", "app", "pos")), st.sampled_from(("Web", "")))
CHANGE_COUNTS = st.integers(0, 2)
CHANGES = st.sampled_from(("remove", "replace", "add"))
NAMES = st.one_of(plain_text(), odd_text(12))
INDEXES = st.integers(0, 10**6)


def _pick(draw: st.DrawFn, choices: list | tuple):
    """One of `choices`, drawn without building a strategy for them."""
    return choices[draw(INDEXES) % len(choices)]


@st.composite
def valid_looking_events(draw: st.DrawFn) -> dict:
    """An event of a random type and version whose fields are valid most of the time."""
    version = draw(VERSIONS)
    event_type = draw(st.sampled_from(EVENT_TYPES))
    event: dict[str, object] = {
        "event_id": draw(EVENT_IDS),
        "event_type": event_type,
        "merchant_id": draw(MERCHANT_IDS),
        "occurred_at": draw(OCCURRED_ATS),
        "schema_version": version,
    }
    for optional in ("customer_id", "session_id", "url"):
        if draw(st.booleans()):
            event[optional] = draw(OPTIONAL_TEXTS)
    if event_type in ("order_placed", "order_refunded"):
        event["order_id"] = draw(plain_text())
        event["currency"] = draw(CURRENCIES)
        event["amount_minor"] = draw(AMOUNTS)
    if event_type == "order_placed" and draw(st.booleans()):
        event["items"] = draw(items())
    if version == 2 and draw(st.booleans()):
        event["channel"] = draw(CHANNELS)
    if version == 2 and event_type == "order_placed" and draw(st.booleans()):
        event["discount_minor"] = draw(SMALL_AMOUNTS)
        event["tax_minor"] = draw(SMALL_AMOUNTS)
    return event


@st.composite
def changed_events(draw: st.DrawFn) -> dict:
    """A valid-looking event with up to two fields removed, replaced by any JSON value, or added."""
    event = draw(valid_looking_events())
    for _ in range(draw(CHANGE_COUNTS)):
        change = draw(CHANGES)
        if change == "add" or not event:
            event[draw(NAMES)] = draw(json_values())
        elif change == "remove":
            del event[_pick(draw, sorted(event))]
        else:
            event[_pick(draw, sorted(event))] = draw(json_values())
    return event


# --- writing JSON as strangers do --------------------------------------------------------------------------------

WHITESPACE = st.sampled_from(("", "", "", " ", "\t", "\n", "\r\n", "  "))


def spelled_number(draw: st.DrawFn, number: int | float) -> str:
    """An integer in any JSON spelling (all but the first are not integers to the contract), a float as Python
    writes it."""
    if isinstance(number, float):
        return repr(number) if draw(ONE_IN_30) % 2 else f"{number:e}"
    way = draw(NUMBER_SPELLINGS)
    return {"e0": f"{number}e0", "E+0": f"{number}E+0", ".0": f"{number}.0", "0e-1": f"{number}0e-1"}.get(
        way, str(number)
    )


SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


STRING_WAYS = st.sampled_from(("raw",) * 60 + ("all", "all", "all", "slash", "lone"))
LONE_SURROGATE_ESCAPES = st.sampled_from(("\\ud800", "\\udc00", "\\uDBFF"))
# Most integers as integers; the rest with a fraction or exponent, which the JSON Schema spec counts as integers
# when the value is whole, and the contract does not (an integer is written as one).
NUMBER_SPELLINGS = st.sampled_from(("plain",) * 60 + ("e0", "E+0", ".0", "0e-1"))
ONE_IN_30 = st.integers(0, 30)
# Hypothesis draws 0 from an integer range far more often than 1 in its size: a rare event is sampled instead.
REPEATS_A_NAME = st.sampled_from((True,) + (False,) * 199)
DEPTHS = st.sampled_from((2, 100, 999, 1_001, 5_000))
JUNK = st.sampled_from((b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\x00"))


def _escaped(character: str) -> str:
    code = ord(character)
    if code > 0xFFFF:
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        return f"\\u{high:04x}\\u{low:04X}"
    return f"\\u{code:04x}"


def spelled_string(draw: st.DrawFn, text: str) -> str:
    r"""A JSON string written one of several ways: each character raw where JSON allows it, or every character as
    \uXXXX (surrogate pairs for astral ones), or with `/` escaped too; now and then with a lone surrogate escape."""
    way = draw(STRING_WAYS)
    if way == "all":
        return '"' + "".join(_escaped(character) for character in text) + '"'
    out = "".join(SHORT_ESCAPES.get(c) or (_escaped(c) if ord(c) < 0x20 else c) for c in text)
    if way == "slash":
        out = out.replace("/", "\\/")
    if way == "lone":
        at = len(out) // 2
        out = out[:at].rstrip("\\") + draw(LONE_SURROGATE_ESCAPES) + out[at:]
    return '"' + out + '"'


def spelled(draw: st.DrawFn, value: object) -> str:
    """`value` as JSON text written with random whitespace, escapes and number spellings; an object sometimes
    repeats a name (strict JSON parsers, and the contract, refuse that)."""
    space = draw(WHITESPACE)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return spelled_number(draw, value)
    if isinstance(value, str):
        return spelled_string(draw, value)
    if isinstance(value, list):
        return "[" + space + ("," + space).join(spelled(draw, item) for item in value) + space + "]"
    assert isinstance(value, dict)
    members = [spelled_string(draw, key) + space + ":" + space + spelled(draw, item) for key, item in value.items()]
    if members and draw(REPEATS_A_NAME):
        members.append(_pick(draw, members))
    return "{" + space + ("," + space).join(members) + space + "}"


@st.composite
def not_one_object(draw: st.DrawFn) -> bytes:
    """Records that are not exactly one JSON object: other values, two objects, cut short, trailing text, deep."""
    event = spelled(draw, draw(valid_looking_events()))
    depth = draw(DEPTHS)
    nested = '{"a":' * depth + "1" + "}" * depth
    text = _pick(
        draw,
        (
            "",
            " ",
            "null",
            "1",
            '"text"',
            "[" + event + "]",
            event + event,
            event + ",",
            event + " x",
            event[:-1],
            "\ufeff" + event,
            event.replace("}", ', "deep": ' + nested + "}", 1) if event.endswith("}") else event,
            nested,
            "NaN",
            event.replace("{", '{"nan": NaN, ', 1),
            event.replace("{", '{"big": 1e400, ', 1),
            event.replace("{", '{"tiny": 1e-400, ', 1),
            event.replace("{", '{"long": ' + "9" * 400 + ", ", 1),
        ),
    )
    return text.encode()


@st.composite
def bad_bytes(draw: st.DrawFn) -> bytes:
    """A valid-looking event with bytes that are not UTF-8 (or are UTF-8 for a NUL) put in or around it."""
    text = spelled(draw, draw(valid_looking_events())).encode()
    junk = draw(JUNK)
    at = draw(INDEXES) % (len(text) + 1)
    return text[:at] + junk + text[at:]


@st.composite
def spelled_changed_events(draw: st.DrawFn) -> bytes:
    return spelled(draw, draw(changed_events())).encode()


def records() -> st.SearchStrategy[bytes]:
    """Whole records as bytes: mostly events with a change, spelled any way; some not one object; some not UTF-8."""
    changed = spelled_changed_events()
    return mostly(changed, st.one_of(not_one_object(), bad_bytes()), 12)


# --- the reference verdict ---------------------------------------------------------------------------------------


class NotStrictJson(ValueError):
    """JSON text that RFC 8259's interoperable subset refuses: a repeated name, NaN, a number no double holds."""


def _strict_object(pairs: list[tuple[str, object]]) -> dict:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise NotStrictJson("a repeated name")
    return dict(pairs)


def _refuse_constant(name: str) -> object:
    raise NotStrictJson(name)


LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def parse_strictly(payload: bytes) -> object:
    """The JSON value of a record, or NotStrictJson/ValueError when the contract calls it malformed_json: not
    UTF-8, not one JSON text (trailing data included), a repeated name, NaN, a lone surrogate escape, or nested
    deeper than MAX_NESTING. Numbers with a fraction or an exponent are Decimals, which JSON Schema does not count as
    integers."""
    text = payload.decode("utf-8")  # UnicodeDecodeError is a ValueError
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))  # the stdlib parser recurses once per level; 5,000 are tried
    try:
        value = json.loads(text, object_pairs_hook=_strict_object, parse_float=Decimal, parse_constant=_refuse_constant)
    finally:
        sys.setrecursionlimit(limit)
    if _depth(value) > MAX_NESTING:
        raise NotStrictJson(f"nested deeper than {MAX_NESTING} levels")
    if _holds_lone_surrogate(value):
        raise NotStrictJson("a lone surrogate escape")
    return value


def _children(value: object) -> list:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    return list(value) if isinstance(value, list) else []


def _depth(value: object) -> int:
    """Nesting levels of arrays and objects (`{"a": []}` has 2), counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in _children(item))
    return deepest


def _holds_lone_surrogate(value: object) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and LONE_SURROGATE.search(item):
            return True
        pending.extend(_children(item))
    return False
