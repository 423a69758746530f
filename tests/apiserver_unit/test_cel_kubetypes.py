"""Kubernetes' quantity(), url(), ip() and cidr() CEL libraries, with the results kube's docs
("Common Expression Language in Kubernetes") give for their examples."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.cel import expressions


def run(text: str, **activation: Any) -> Any:
    value = expressions.evaluate(expressions.compiled(text), activation)
    return value


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("isQuantity('1.3G')", True),
        ("isQuantity('1.3Gi')", True),
        ("isQuantity('1,3G')", False),
        ("isQuantity('10000k')", True),
        ("isQuantity('200K')", False),
        ("isQuantity('Three')", False),
        ("isQuantity('Mi')", False),
        ("quantity('1.5G').isLessThan(quantity('2G'))", True),
        ("quantity('2Gi').isGreaterThan(quantity('2G'))", True),
        ("quantity('1000m') == quantity('1')", True),
        ("quantity('1.5G').add(quantity('500M')) == quantity('2G')", True),
        ("quantity('50k').add(20) == quantity('50020')", True),
        ("quantity('50k').sub(quantity('20k')) == quantity('30k')", True),
        ("quantity('50k').sub(20) == quantity('49980')", True),
        ("quantity('50M').asInteger()", 50_000_000),
        ("quantity('50.5M').isInteger()", True),
        ("quantity('50.5m').isInteger()", False),
        ("quantity('50.703k').asApproximateFloat()", 50703.0),
        ("quantity('-5k').sign()", -1),
        ("quantity('0').sign()", 0),
        ("quantity('200M').compareTo(quantity('0.2G'))", 0),
        ("quantity('2e3').compareTo(quantity('1Ki'))", 1),
        ("quantity('1u').compareTo(quantity('1n'))", 1),
    ],
)
def test_quantity(text: str, want: Any) -> None:
    assert run(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("isURL('https://example.com:80/path?query=val#fragment')", True),
        ("isURL('/absolute-path')", True),
        ("isURL('https://a:b:c/')", False),
        ("isURL('../relative-path')", False),
        ("url('/absolute-path').getScheme()", ""),
        ("url('https://example.com/').getScheme()", "https"),
        ("url('https://example.com:80/').getHost()", "example.com:80"),
        ("url('https://[::1]:80/').getHost()", "[::1]:80"),
        ("url('https://example.com:80/').getHostname()", "example.com"),
        ("url('https://[::1]:80/').getHostname()", "::1"),
        ("url('https://example.com:80/').getPort()", "80"),
        ("url('https://example.com/').getPort()", ""),
        ("url('https://example.com/path%20with%20spaces/').getEscapedPath()", "/path%20with%20spaces/"),
        ("url('https://example.com/?k=a&k=b&x=').getQuery()", {"k": ["a", "b"], "x": [""]}),
    ],
)
def test_url(text: str, want: Any) -> None:
    assert run(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("ip('127.0.0.1').family()", 4),
        ("ip('::1').family()", 6),
        ("ip('0.0.0.0').isUnspecified()", True),
        ("ip('127.0.0.1').isUnspecified()", False),
        ("ip('127.0.0.1').isLoopback()", True),
        ("ip('1.2.3.4').isLoopback()", False),
        ("ip('224.0.0.1').isLinkLocalMulticast()", True),
        ("ip('ff02::1').isLinkLocalMulticast()", True),
        ("ip('224.0.1.1').isLinkLocalMulticast()", False),
        ("ip('169.254.169.254').isLinkLocalUnicast()", True),
        ("ip('fe80::1').isLinkLocalUnicast()", True),
        ("ip('192.168.0.1').isLinkLocalUnicast()", False),
        ("ip('192.168.0.1').isGlobalUnicast()", True),
        ("ip('255.255.255.255').isGlobalUnicast()", False),
        ("ip('::1').isGlobalUnicast()", False),
        ("ip.isCanonical('127.0.0.1')", True),
        ("ip.isCanonical('2001:db8::abcd')", True),
        ("ip.isCanonical('2001:DB8::ABCD')", False),
        ("ip.isCanonical('2001:db8:0:0:0:0:0:abcd')", False),
        ("ip('127.0.0.1') == ip('127.0.0.1')", True),
        ("cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))", True),
        ("cidr('192.168.0.0/24').containsIP('192.168.1.1')", False),
        ("cidr('192.168.0.0/24').containsIP(ip('::1'))", False),
        ("cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/25'))", True),
        ("cidr('192.168.0.0/24').containsCIDR('192.168.0.0/23')", False),
        ("cidr('192.168.0.1/24').ip() == ip('192.168.0.1')", True),
        ("cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')", True),
        ("cidr('192.168.0.0/24').prefixLength()", 24),
        ("cidr('::1/128').ip().family()", 6),
    ],
)
def test_ip_and_cidr(text: str, want: Any) -> None:
    assert run(text) == want


@pytest.mark.parametrize(
    "text",
    [
        "quantity('200K')",
        "quantity('50.5m').asInteger()",
        "url('../relative')",
        "ip('::ffff:1.2.3.4')",
        "ip('127.0.0.01')",
        "ip('fe80::1%eth0')",
        "cidr('192.168.0.0/33')",
        "cidr('192.168.0.0/08')",
        "ip.isCanonical('nope')",
    ],
)
def test_invalid_arguments_are_evaluation_errors(text: str) -> None:
    with pytest.raises(expressions.EvalError):
        run(text)


def test_a_rule_over_a_schema_value() -> None:
    text = "quantity(self.memory).isLessThan(quantity('4Gi')) && cidr(self.range).containsIP(self.gateway)"
    assert expressions.undeclared(expressions.compiled(text), ("self",)) is None
    good = expressions.to_cel({"memory": "1Gi", "range": "10.0.0.0/8", "gateway": "10.0.0.1"})
    assert expressions.is_true(run(text, self=good))
    bad = expressions.to_cel({"memory": "8Gi", "range": "10.0.0.0/8", "gateway": "10.0.0.1"})
    assert expressions.is_false(run(text, self=bad))
