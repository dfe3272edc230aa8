"""Tables in the chapters: one function writes every Markdown table the pages display."""

from __future__ import annotations


def markdown_table(header: tuple[str, ...], rows: list[tuple]) -> str:
    """A Markdown table; floats are written with four significant digits (trailing zeros kept)."""
    def cell(value) -> str:
        return f"{value:#.4g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
