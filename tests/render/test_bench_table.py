"""The README's speed table is the one `metamorph bench --markdown` writes (its figures come from
the command, never typed by hand): the same caption, rows, columns and number formats."""

from __future__ import annotations

import re
from pathlib import Path

from installation.render.bench import MARKDOWN_END, MARKDOWN_START, Measurement, markdown

README = Path(__file__).parents[2] / "README.md"
CAPTION = re.compile(r"\*Measured by `metamorph bench --markdown` on \S+ with \d+ CPUs, .+, \d{4}-\d\d-\d\d\.\*")


def shape(line: str) -> str:
    """A table line with its figures replaced: what must agree between the README and the command."""
    return re.sub(r"\d+(\.\d+)?", "#", line)


def test_the_readme_speed_table_is_in_the_form_bench_writes() -> None:
    text = README.read_text(encoding="utf-8")
    assert text.count(MARKDOWN_START) == 1 and text.count(MARKDOWN_END) == 1
    table = text[text.index(MARKDOWN_START) : text.index(MARKDOWN_END) + len(MARKDOWN_END)].splitlines()
    assert CAPTION.fullmatch(table[1]), table[1]
    sizes = sorted(
        {tuple(map(int, size)) for size in re.findall(r"frame at (\d+)x(\d+), the full look", "\n".join(table))}
    )
    counts = [10_000, 100_000, 1_000_000]
    made = [Measurement(size, count, 40.0, 21.0, 55.5, 2600.0, 30.1) for size in sizes for count in counts]
    written = markdown(made, "Measured by `metamorph bench --markdown` on x86_64 with 2 CPUs, llvmpipe, 2026-12-04.")
    expected = written.splitlines()
    assert sizes and len(table) == len(expected)
    assert [shape(line) for i, line in enumerate(table) if i != 1] == [
        shape(line) for i, line in enumerate(expected) if i != 1
    ]
