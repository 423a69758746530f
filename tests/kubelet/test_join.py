"""Joining checks the server's CA against the token before any secret is sent."""

import hashlib

import pytest

from kubelet.join import NODE_NAME_HEADER, JoinError, join_config, parse_token

CA = b"-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n"
TOKEN = f"K10{hashlib.sha256(CA).hexdigest()}::node:s3cret"


def test_parse_token():
    t = parse_token(TOKEN + "\n")
    assert t.credential == "node:s3cret" and t.ca_hash == hashlib.sha256(CA).hexdigest()


@pytest.mark.parametrize(
    "bad", ["", "node:x", "K10abc::node:x", f"K10{'0' * 64}::admin:x", f"K10{'0' * 64}::node:"]
)
def test_bad_tokens_are_refused(bad):
    with pytest.raises(JoinError, match="invalid node token"):
        parse_token(bad)


def test_matching_ca_gives_a_node_client_config():
    cfg = join_config("https://10.0.0.1:6443/", TOKEN, "n1", ca_pem=CA)
    assert cfg.server == "https://10.0.0.1:6443" and cfg.token == "node:s3cret" and cfg.ca_data == CA
    assert cfg.extra_headers == {}  # a bootstrap credential: the node is its certificate
    hollow = join_config("https://10.0.0.1:6443/", TOKEN, "n1", ca_pem=CA, name_header=True)
    assert hollow.extra_headers == {NODE_NAME_HEADER: "n1"}


def test_other_ca_is_refused():
    with pytest.raises(JoinError, match="does not match the node token"):
        join_config("https://10.0.0.1:6443", TOKEN, "n1", ca_pem=CA + b"x")


def test_unreachable_server_is_one_clear_error():
    with pytest.raises(JoinError, match="cannot reach the server"):
        join_config("https://127.0.0.1:9", TOKEN, "n1")
