"""runtime.cjson answers what json.dumps / json.loads answer with their default arguments, errors included."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from runtime import cjson

VALUES: list[object] = [
    {"a": 1, "b": [1, 2.5, None, True, False], "c": 'é\u2028\n"x\\', "d": {}},
    [],
    "s",
    1,
    -0.0,
    1e300,
    float("inf"),
    float("nan"),
    {"k": {1: 2, 2.5: 3, False: 4, None: 5}},
    {"lone surrogate": "\ud800"},
    (1, 2),
]


@pytest.mark.parametrize("value", VALUES)
def test_dumps_is_json_dumps(value: object) -> None:
    assert cjson.dumps(value) == json.dumps(value)
    assert repr(cjson.loads(cjson.dumps(value))) == repr(json.loads(json.dumps(value)))


TEXTS: list[object] = [
    ' {"a": [1, 2, {"b": null}]} \n',
    "[1e5, -2, 3.25, NaN, Infinity, -Infinity]",
    b'{"a": 1}',
    bytearray(b"[1]"),
    '{"a": "\\ud83d\\ude00", "a": 2}',
    "\ufeff{}",
    b"\xef\xbb\xbf{}",
    '"\\u0000"',
    "",
    "  ",
    '{"a" 1}',
    "[1] x",
    "[1,]",
    '{"a":1}{}',
    "nul",
    "[1, 2",
    '"\x01"',
    b"\xff",
    5,
    None,
]


def _outcome(loads: object, text: object) -> tuple[str, str]:
    try:
        return "ok", repr(loads(text))  # type: ignore[operator]
    except Exception as e:  # the same type and message, JSONDecodeError positions included
        return type(e).__name__, str(e)


@pytest.mark.parametrize("text", TEXTS)
def test_loads_is_json_loads(text: object) -> None:
    assert _outcome(cjson.loads, text) == _outcome(json.loads, text)


def test_unserializable_and_circular_fail_as_in_json() -> None:
    circular: list[object] = []
    circular.append(circular)
    for bad in (object(), {"a": object()}, {(1, 2): 3}, circular):
        assert _outcome(cjson.dumps, bad) == _outcome(json.dumps, bad)
        assert _outcome(cjson.dumps, bad)[0] != "ok"


def test_importing_it_loads_neither_json_nor_re() -> None:
    code = "import sys, runtime.cjson; print(sorted({'json', 're', 'enum'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
