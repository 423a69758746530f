"""Unit tests of the pure parts of LIST paging: kube's continue token and the request's paging."""

from __future__ import annotations

import base64
import json

import pytest

from api.errors import ApiError
from apiserver.handlers.paging import (
    CONTINUE_EXPIRED,
    ContinueExpired,
    PageRequest,
    decode_continue,
    encode_continue,
    list_meta,
    page_request,
)

PREFIX = "/registry/pods/default/"


def _token(doc: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()


def test_token_is_kubes_shape_and_round_trips():
    token = encode_continue(PREFIX, PREFIX + "web-1", 42)
    assert "=" not in token
    assert json.loads(base64.urlsafe_b64decode(token + "==")) == {
        "v": "meta.k8s.io/v1",
        "rv": 42,
        "start": "web-1\u0000",
    }
    assert decode_continue(PREFIX, token) == (42, PREFIX + "web-1\0")
    # rv -1 (the inconsistent remainder a 410 hands out): read at the current revision
    assert decode_continue(PREFIX, encode_continue(PREFIX, PREFIX + "x", -1)) == (0, PREFIX + "x\0")


@pytest.mark.parametrize(
    "token, why",
    [
        ("%%%", "continue key is not valid"),
        (_token({"v": "meta.k8s.io/v2", "rv": 1, "start": "a"}), "not supported"),
        (_token({"v": "meta.k8s.io/v1", "rv": 0, "start": "a"}), "incorrect encoded start resourceVersion"),
        (_token({"v": "meta.k8s.io/v1", "rv": "5", "start": "a"}), "incorrect encoded start resourceVersion"),
        (_token({"v": "meta.k8s.io/v1", "rv": 5, "start": ""}), "encoded start key empty"),
        (_token({"v": "meta.k8s.io/v1", "rv": 5, "start": "../kube-system/x"}), "not valid"),
        (_token({"v": "meta.k8s.io/v1", "rv": 5, "start": "a\u0000b"}), "not valid"),
        (base64.urlsafe_b64encode(b"[1]").decode(), "not valid"),
    ],
)
def test_malformed_tokens_are_400(token, why):
    with pytest.raises(ApiError) as err:
        decode_continue(PREFIX, token)
    assert err.value.code == 400 and err.value.message.startswith("invalid continue token: ")
    assert why in err.value.message


def test_page_request():
    assert page_request({}, PREFIX) is None
    assert page_request({"limit": "0"}, PREFIX) is None
    assert page_request({"limit": "500"}, PREFIX) == PageRequest(500, "", 0)
    token = encode_continue(PREFIX, PREFIX + "b", 9)
    assert page_request({"limit": "2", "continue": token}, PREFIX) == PageRequest(2, PREFIX + "b\0", 9, token)
    for bad in ({"limit": "x"}, {"continue": token, "resourceVersion": "9"}):
        with pytest.raises(ApiError) as err:
            page_request(bad, PREFIX)
        assert err.value.code == 400


def test_list_metadata_and_the_expired_status():
    assert list_meta(7, None, None) == {"resourceVersion": "7"}
    assert list_meta(7, "t", 3) == {"resourceVersion": "7", "continue": "t", "remainingItemCount": 3}
    assert list_meta(7, "t", None) == {"resourceVersion": "7", "continue": "t"}
    status = ContinueExpired("next").status
    assert status["code"] == 410 and status["reason"] == "Expired" and status["message"] == CONTINUE_EXPIRED
    assert status["metadata"] == {"continue": "next"}
