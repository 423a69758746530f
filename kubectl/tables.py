"""Human-readable tables exactly as kubectl lays them out.

kubectl writes rows through Go's tabwriter (min width 6, padding 3, pad with spaces; the last
cell of a row is not aligned) with upper-cased headers, `<none>` for empty cells and ages from
`HumanDuration` (`45s`, `3m2s`, `2d`). The rows come from the server's `Table` answer when it
sends one (`table_rows`), or from the same printers run here (`object_rows`, `api.tables`) when it
sends a plain list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.humanize import format_labels
from api.resources import Resource

MIN_WIDTH = 6
PADDING = 3


def cell_text(value: Any) -> str:
    if value is None:
        return "<none>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    # kubectl cuts a cell at its first line break
    for stop in ("\n", "\r"):
        if stop in text:
            text = text.split(stop, 1)[0] + "..."
    return text


class TabWriter:
    """Aligns rows as Go's tabwriter with kubectl's settings; widths persist across flushes
    (RememberWidths), so the rows of a `get -w` stay under their header."""

    def __init__(self) -> None:
        self.widths: list[int] = []

    def format(self, rows: Sequence[Sequence[str]]) -> str:
        for row in rows:
            for i, cell in enumerate(row[:-1]):
                w = max(len(cell) + PADDING, MIN_WIDTH)
                if i >= len(self.widths):
                    self.widths.append(w)
                elif w > self.widths[i]:
                    self.widths[i] = w
        lines = []
        for row in rows:
            parts = [cell.ljust(self.widths[i]) for i, cell in enumerate(row[:-1])]
            parts.append(row[-1] if row else "")
            lines.append("".join(parts))
        return "".join(line + "\n" for line in lines)


def format_rows(rows: Sequence[Sequence[str]]) -> str:
    return TabWriter().format(rows)


class Rows:
    """One printable table: headers (upper-cased) and rows of text, plus the objects behind them."""

    def __init__(self, headers: list[str], rows: list[list[str]], objects: list[dict[str, Any]]) -> None:
        self.headers = headers
        self.rows = rows
        self.objects = objects

    def decorate(
        self,
        namespace_column: bool,
        show_labels: bool,
        kind_prefix: str = "",
        extra: list[tuple[str, list[str]]] | None = None,
    ) -> Rows:
        """Add NAMESPACE in front, LABELS at the end, `kind/` before names (as kubectl does)."""
        headers = list(self.headers)
        rows = [list(r) for r in self.rows]
        if kind_prefix and headers and headers[0] == "NAME":
            for r in rows:
                r[0] = f"{kind_prefix}/{r[0]}"
        for title, values in extra or []:
            headers.append(title)
            for r, v in zip(rows, values, strict=True):
                r.append(v)
        if show_labels:
            headers.append("LABELS")
            for r, o in zip(rows, self.objects, strict=True):
                r.append(format_labels((o.get("metadata") or {}).get("labels")))
        if namespace_column:
            headers.insert(0, "NAMESPACE")
            for r, o in zip(rows, self.objects, strict=True):
                r.insert(0, (o.get("metadata") or {}).get("namespace") or "")
        return Rows(headers, rows, self.objects)

    def text(self, headers: bool = True, writer: TabWriter | None = None) -> str:
        w = writer or TabWriter()
        return w.format(([self.headers] if headers else []) + self.rows)


def table_rows(table: dict[str, Any], wide: bool) -> Rows:
    """Rows from a server `Table` (meta.k8s.io/v1): priority>0 columns only with `-o wide`."""
    cols = table.get("columnDefinitions") or []
    keep = [i for i, c in enumerate(cols) if wide or not c.get("priority")]
    headers = [str(cols[i].get("name", "")).upper() for i in keep]
    rows, objects = [], []
    for row in table.get("rows") or []:
        cells = row.get("cells") or []
        rows.append([cell_text(cells[i]) if i < len(cells) else "<none>" for i in keep])
        objects.append(row.get("object") or {})
    return Rows(headers, rows, objects)


def object_rows(resource: Resource, objects: list[dict[str, Any]], wide: bool) -> Rows:
    """Rows for a server that answers a plain list (or a `-w` event's plain object): the same cells
    our server's `Table` would carry (`api.tables`), computed here."""
    from api.tables import to_table

    return table_rows(to_table(resource, objects, "", include_object="Object"), wide)


def go_tabwriter(lines: Sequence[str], minwidth: int = 0, padding: int = 2) -> str:
    """Go's text/tabwriter over tab-separated lines (kubectl describe: minwidth 0, padding 2).

    A column's width is set per block of consecutive lines that have a cell in that column (a
    cell is text ended by a tab); a line without that cell ends the block, so alignment resets
    at lines like `Containers:`. Trailing cells are written as they are.
    """
    cells = [line.split("\t") for line in lines]
    out: list[str] = []
    widths: list[int] = []

    def write(line0: int, line1: int) -> None:
        for i in range(line0, line1):
            parts = []
            for j, c in enumerate(cells[i]):
                parts.append(c.ljust(widths[j]) if j < len(widths) else c)
            out.append("".join(parts))

    def fmt(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(cells[this]) - 1:
                this += 1
                continue
            write(line0, this)
            line0 = this
            width = minwidth
            while this < line1 and column < len(cells[this]) - 1:
                width = max(width, len(cells[this][column]) + padding)
                this += 1
            widths.append(width)
            fmt(line0, this)
            widths.pop()
            line0 = this
        write(line0, line1)

    fmt(0, len(cells))
    return "".join(line + "\n" for line in out)
