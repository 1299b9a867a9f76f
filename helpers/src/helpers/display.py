"""A small table that shows as HTML in Jupyter and as aligned text elsewhere (nbval compares the text)."""

from __future__ import annotations

import html
from typing import Any, Sequence


class Table:
    """Rows of dicts with the same keys, displayed as a table.

    >>> Table([{"a": 1, "b": "x"}])
    a | b
    --+--
    1 | x
    """

    def __init__(self, rows: Sequence[dict[str, Any]], title: str | None = None) -> None:
        self.rows = [dict(r) for r in rows]
        self.columns: list[str] = list(self.rows[0]) if self.rows else []
        self.title = title

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.rows[i]

    def _cells(self) -> list[list[str]]:
        return [[str(r.get(c, "")) for c in self.columns] for r in self.rows]

    def __repr__(self) -> str:
        cells = self._cells()
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(self.columns)]
        line = lambda vals: " | ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()  # noqa: E731
        out = [line(self.columns), "-+-".join("-" * w for w in widths)] + [line(r) for r in cells]
        if self.title:
            out.insert(0, self.title)
        return "\n".join(out)

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:left'>{html.escape(v)}</td>" for v in row) + "</tr>"
            for row in self._cells()
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
