"""Whether a CronJob schedule parses, with the error robfig/cron's standard parser gives.

kube-apiserver validates `spec.schedule` with `cron.ParseStandard` and puts the parser's error
after the value: `spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum
(59): 61`. This module answers only "which error" (None when the schedule is good); computing
run times is the controller's business (controller/cronjob_schedule.py), which the API server
may not import. Grammar: five fields `minute hour dom month dow` or a descriptor (@yearly
@annually @monthly @weekly @daily @midnight @hourly, `@every <duration>`), an optional leading
`TZ=<zone>`/`CRON_TZ=<zone>`; each field a comma list of `*`, `?`, `n`, `a-b`, each with `/step`.
"""

from __future__ import annotations

import re
import zoneinfo

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_BOUNDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (0, 6, _DAYS),
)
_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_DURATION = re.compile(r"^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$")


def _go_list(fields: list[str]) -> str:
    return "[" + " ".join(fields) + "]"


def _atoi(text: str, expr: str) -> tuple[int | None, str | None]:
    if not re.fullmatch(r"[+-]?\d+", text):
        return None, f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
    n = int(text)
    if n < 0:
        return None, f"negative number ({n}) not allowed: {text}"
    return n, None


def _int_or_name(text: str, names: dict[str, int], expr: str) -> tuple[int | None, str | None]:
    if names and text.lower() in names:
        return names[text.lower()], None
    return _atoi(text, expr)


def _range_error(expr: str, low: int, high: int, names: dict[str, int]) -> str | None:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    if len(low_and_high) > 2:
        return f"too many hyphens: {expr}"
    if len(range_and_step) > 2:
        return f"too many slashes: {expr}"
    single = len(low_and_high) == 1
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
        single = False
    else:
        n, err = _int_or_name(low_and_high[0], names, expr)
        if err:
            return err
        assert n is not None
        start = end = n
        if len(low_and_high) == 2:
            m, err = _int_or_name(low_and_high[1], names, expr)
            if err:
                return err
            assert m is not None
            end = m
            single = False
    if len(range_and_step) == 2:
        step, err = _atoi(range_and_step[1], expr)
        if err:
            return err
        if single:  # `n/step` runs from n to the field's maximum
            end = high
        if step == 0:
            return f"step of range should be a positive number: {expr}"
    if start < low:
        return f"beginning of range ({start}) below minimum ({low}): {expr}"
    if end > high:
        return f"end of range ({end}) above maximum ({high}): {expr}"
    if start > end:
        return f"beginning of range ({start}) beyond end of range ({end}): {expr}"
    return None


def schedule_error(spec: str) -> str | None:
    """robfig/cron ParseStandard's error for `spec`, None when it parses."""
    if not spec:
        return "empty spec string"
    if spec.startswith(("TZ=", "CRON_TZ=")):
        zone, _, spec = spec.split("=", 1)[1].partition(" ")
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return f"provided bad location {zone}: unknown time zone {zone}"
        spec = spec.strip()
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return None
        if spec.startswith("@every "):
            duration = spec[len("@every ") :]
            if not _DURATION.match(duration):
                return f'failed to parse duration {spec}: time: invalid duration "{duration}"'
            return None
        return f"unrecognized descriptor: {spec}"
    fields = spec.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: {_go_list(fields)}"
    for text, (low, high, names) in zip(fields, _BOUNDS, strict=True):
        for expr in text.split(","):
            err = _range_error(expr, low, high, names)
            if err:
                return err
    return None
