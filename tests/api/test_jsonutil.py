"""api.jsonutil's timestamps: now_str's text of the current second, made again when it moves."""

from __future__ import annotations

import datetime as dt

import pytest

from api import jsonutil


def test_now_str_is_the_current_second_as_metav1_time(monkeypatch: pytest.MonkeyPatch) -> None:
    at = [1_780_000_000.25]
    monkeypatch.setattr(jsonutil, "_clock", lambda: at[0])
    assert jsonutil.now_str() == "2026-05-28T20:26:40Z"
    at[0] = 1_780_000_000.99  # the same second: the same text
    assert jsonutil.now_str() == "2026-05-28T20:26:40Z"
    at[0] = 1_780_000_001.0
    assert jsonutil.now_str() == "2026-05-28T20:26:41Z"
    at[0] = 1_780_000_000.5  # a clock stepped back is followed, not ignored
    assert jsonutil.now_str() == "2026-05-28T20:26:40Z"


def test_now_str_agrees_with_format_time_of_now() -> None:
    for _ in range(3):  # a second boundary between the two reads is retried
        before = jsonutil.format_time(jsonutil.now())
        text = jsonutil.now_str()
        if text == before:
            break
    assert text == before
    assert jsonutil.parse_time(text) <= dt.datetime.now(dt.UTC)
