"""A CRD schema's `format`s, checked as kube 1.33's apiextensions checks them (kube-openapi's
strfmt registry), in kube's words; unknown and numeric formats are not checked."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.crd import formats
from apiserver.crd.objects import validate

CASES: list[tuple[str, list[str], list[str]]] = [
    ("bsonobjectid", ["507f1f77bcf86cd799439011"], ["507f1f77bcf86cd79943901", "zz7f1f77bcf86cd799439011"]),
    (
        "uri",
        ["http://example.com/a?b=c", "/just/a/path", "mailto:a@b.c", "https://[::1]:8443/x"],
        ["not-a-url", "", "http://a b/", "http://h:port/", "/%zz"],
    ),
    (
        "email",
        ["a@b.c", "Jo <jo.x+tag@example.com>", '"odd name"@example.com'],
        ["not-an-email", "a@", "@b.c", "a b@c"],
    ),
    (
        "hostname",
        ["example.com", "localhost", "a.b.example", "xn--bcher-kva.de", "bücher.de"],
        ["-bad.com", "example.c0m", "a..b", "under_score.com", "a" * 64 + ".com"],
    ),
    ("ipv4", ["192.168.0.1", "010.1.1.1", "::ffff:1.2.3.4"], ["not-an-ip", "256.1.1.1", "1.2.3", "::1"]),
    (
        "ipv6",
        ["::1", "2001:db8::8a2e:370:7334", "::ffff:1.2.3.4"],
        ["1.2.3.4", "fe80::1%eth0", "2001:db8:::1", "gggg::1"],
    ),
    ("cidr", ["10.0.0.0/8", "2001:db8::/32", "010.0.0.0/8"], ["10.0.0.0", "10.0.0.0/33", "::/129", "x/8"]),
    (
        "mac",
        ["00:00:5e:00:53:01", "00-00-5e-00-53-01", "0000.5e00.5301", "02:00:5e:10:00:00:00:01"],
        ["00:00:5e:00:53", "00:00:5e-00:53:01", "zz:00:5e:00:53:01"],
    ),
    (
        "uuid",
        ["f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "F81D4FAE7DEC11D0A76500A0C91E6BF6"],
        ["f81d4fae-7dec-11d0-a765", "x81d4fae-7dec-11d0-a765-00a0c91e6bf6"],
    ),
    ("uuid3", ["f81d4fae-7dec-31d0-a765-00a0c91e6bf6"], ["f81d4fae-7dec-11d0-a765-00a0c91e6bf6"]),
    ("uuid4", ["f81d4fae-7dec-41d0-a765-00a0c91e6bf6"], ["f81d4fae-7dec-41d0-c765-00a0c91e6bf6"]),
    ("uuid5", ["f81d4fae-7dec-51d0-8765-00a0c91e6bf6"], ["f81d4fae-7dec-41d0-8765-00a0c91e6bf6"]),
    ("isbn", ["0321751043", "978-0321751041"], ["0321751044", "978-0321751042"]),
    ("isbn10", ["0-321-75104-3", "080442957X"], ["978-0321751041", "0321751044"]),
    ("isbn13", ["978-0321751041", "978 0 321 75104 1"], ["0321751043", "9780321751042"]),
    (
        "creditcard",
        ["4111111111111111", "4111-1111-1111-1111", "378282246310005"],
        ["4111111111111112", "1234"],
    ),
    ("ssn", ["123-45-6789", "123 45 6789"], ["123456789", "12-345-6789"]),
    ("hexcolor", ["#fff", "FFFFFF", "#a1B2c3"], ["#ffff", "#ggg", "fffffff"]),
    ("rgbcolor", ["rgb(255,255,255)", "rgb( 0 , 10 , 200 )"], ["rgb(256,0,0)", "rgba(1,2,3,4)", "#fff"]),
    ("byte", ["aGVsbG8=", "aGVsbG8h"], ["hello!", "aGVsbG8", ""]),
    ("password", ["anything at all", ""], []),
    ("date", ["2024-02-29", "2006-01-02"], ["2023-02-29", "2006-1-02", "2006-01-02T00:00:00Z"]),
    (
        "date-time",
        ["2014-12-15T19:30:20.000Z", "2014-12-15t19:30:20+01:00", "2014-12-15T19:30:20Z"],
        ["2014-12-15", "2014-12-15T24:00:00Z", "2014-12-15T19:30:20", "2014-12-15 19:30:20Z"],
    ),
    ("datetime", ["2014-12-15T19:30:20Z"], ["yesterday"]),
    (
        "duration",
        ["1h30m", "300ms", "-1.5h", "0", "3 days", "1 week", "22 ns"],
        ["1 fortnight", "h1", "", "1.5 days"],
    ),
]


def _schema(fmt: str, t: str | None = "string") -> dict[str, Any]:
    field: dict[str, Any] = {"format": fmt}
    if t:
        field["type"] = t
    return {"type": "object", "properties": {"spec": {"type": "object", "properties": {"v": field}}}}


@pytest.mark.parametrize(("fmt", "good", "bad"), CASES, ids=[c[0] for c in CASES])
def test_formats(fmt: str, good: list[str], bad: list[str]) -> None:
    for value in good:
        assert validate(_schema(fmt), {"spec": {"v": value}}) == [], (fmt, value)
    for value in bad:
        causes = validate(_schema(fmt), {"spec": {"v": value}})
        assert causes == [
            {
                "reason": "FieldValueInvalid",
                "field": "spec.v",
                "message": f'Invalid value: "{value}": spec.v in body must be of type {fmt}: "{value}"',
            }
        ], (fmt, value)


def test_gateway_address_in_kubes_words() -> None:
    schema = _schema("ipv4")
    schema["properties"]["spec"]["properties"] = {
        "addresses": {
            "type": "array",
            "items": {"type": "object", "properties": {"value": {"type": "string", "format": "ipv4"}}},
        }
    }
    causes = validate(schema, {"spec": {"addresses": [{"value": "not-an-ip"}]}})
    assert [c["message"] for c in causes] == [
        'Invalid value: "not-an-ip": spec.addresses[0].value in body must be of type ipv4: "not-an-ip"'
    ]
    assert causes[0]["field"] == "spec.addresses[0].value"


def test_unknown_and_numeric_formats_are_not_checked() -> None:
    assert validate(_schema("not-a-format"), {"spec": {"v": "anything"}}) == []
    assert validate(_schema("int32", "integer"), {"spec": {"v": 2**40}}) == []
    assert validate(_schema("float", "number"), {"spec": {"v": 1e300}}) == []
    assert validate(_schema("ipv4", "integer"), {"spec": {"v": 3}}) == []  # a string format on a number
    # an untyped (int-or-string) node checks its strings only
    schema = _schema("ipv4", None)
    schema["properties"]["spec"]["properties"]["v"]["x-kubernetes-int-or-string"] = True
    assert validate(schema, {"spec": {"v": 8080}}) == []
    assert validate(schema, {"spec": {"v": "x"}})[0]["field"] == "spec.v"


def test_format_names_lose_their_dashes() -> None:
    assert formats.checked("string", "date-time") == "datetime"
    assert formats.checked("string", "b-y-t-e") == "byte"
    assert formats.checked("string", "int32") is None
    assert formats.checked("integer", "int32") is None
    assert formats.format_error("ipv4", "1.2.3.4", "spec.v") is None
    assert formats.format_error("ipv4", 'a"b', "") == 'body in body must be of type ipv4: "a\\"b"'
