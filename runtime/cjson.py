"""`json.dumps(obj)` and `json.loads(text)` with their default arguments, from json's C accelerator.

The `json` package imports `re` (its decoder and encoder compile patterns at import), and `re`
imports `enum`: ~15 ms of a `kubelite runtime run --rm` (a 100 ms budget) before any work, for
reading and writing a few small record files. Both functions here call `_json` (the C module the
`json` package itself calls for these defaults) the way `json` does, so their output and results
are the same; what `json` answers differently on the rare paths (a BOM, UTF-16/32 bytes, invalid
text: the error is raised by `json` itself) goes to `json`. For any other option, use `json`.
"""

from __future__ import annotations

import _json

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from typing import Any

_WHITESPACE = " \t\n\r"  # json's WHITESPACE pattern: [ \t\n\r]*
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


def _not_serializable(o: object) -> Any:
    raise TypeError(
        f"Object of type {o.__class__.__name__} is not JSON serializable"
    )  # as JSONEncoder.default


class _Context:
    """The attributes `_json.make_scanner` reads (json.JSONDecoder's, with its defaults)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__


_scan_once = _json.make_scanner(_Context())  # type: ignore[arg-type]  # any object with these attributes


def dumps(obj: Any) -> str:
    """`json.dumps(obj)`: ASCII, `, ` and `: ` separators, circular references checked, NaN allowed."""
    if isinstance(obj, str):
        return _json.encode_basestring_ascii(obj)
    encode = _json.make_encoder(
        {}, _not_serializable, _json.encode_basestring_ascii, None, ": ", ", ", False, False, True
    )
    return "".join(encode(obj, 0))


def loads(text: str | bytes) -> Any:
    """`json.loads(text)`; what it would reject, or decode as other than UTF-8, is left to it."""
    if isinstance(text, (bytes, bytearray)):
        if text[:3] == b"\xef\xbb\xbf" or b"\x00" in text[:4]:
            return _json_loads(text)  # a BOM or UTF-16/32: json's detect_encoding
        text = text.decode("utf-8", "surrogatepass")
    elif not isinstance(text, str) or text.startswith("\ufeff"):
        return _json_loads(text)  # its TypeError, or its "Unexpected UTF-8 BOM" error
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        obj, end = _scan_once(text, start)  # a malformed document: json.JSONDecodeError from here
    except StopIteration:
        return _json_loads(text)  # json's "Expecting value" error, at the same position
    if text[end:].strip(_WHITESPACE):
        return _json_loads(text)  # its "Extra data" error
    return obj


def _json_loads(text: Any) -> Any:
    import json

    return json.loads(text)
