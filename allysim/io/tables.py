"""Tables for papers: one table (caption, headers, rows, notes) as Markdown, LaTeX
(booktabs rules) or CSV.

>>> t = Table("Shares", ["profile", "share"], [["A/B", "41.2%"]], notes=["n = 10"])
>>> print(render(t, "markdown"))
**Shares**
<BLANKLINE>
| profile | share |
| :-- | --: |
| A/B | 41.2% |
<BLANKLINE>
n = 10
>>> print(render(t, "csv"), end="")
profile,share
A/B,41.2%
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

FORMATS = ("markdown", "latex", "csv")

_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
          "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
          "^": r"\textasciicircum{}"}


@dataclass(frozen=True)
class Table:
    """A table: caption, column headers, rows of cells (text), notes under it, and the
    alignment of each column (``l`` or ``r``; default: left for the first, right for
    the rest)."""

    caption: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    align: str = ""
    label: str = ""

    @property
    def alignment(self) -> str:
        return self.align or "l" + "r" * (len(self.headers) - 1)


def latex_escape(text: str) -> str:
    r"""Text with LaTeX's special characters escaped.

    >>> latex_escape("P(China=SEIZE) 41% a_b")
    'P(China=SEIZE) 41\\% a\\_b'
    """
    return "".join(_LATEX.get(c, c) for c in str(text))


def render(table: Table, fmt: str) -> str:
    """The table as ``markdown``, ``latex`` (booktabs) or ``csv`` text."""
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(table.headers)
        writer.writerows(table.rows)
        return buf.getvalue()
    if fmt == "markdown":
        def cells(row):
            return "| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |"
        rule = "| " + " | ".join(":--" if a == "l" else "--:" for a in table.alignment) + " |"
        lines = ([f"**{table.caption}**", ""] if table.caption else [])
        lines += [cells(table.headers), rule] + [cells(r) for r in table.rows]
        if table.notes:
            lines += [""] + list(table.notes)
        return "\n".join(lines)
    if fmt == "latex":
        lines = [r"\begin{table}[htbp]", r"\centering"]
        if table.caption:
            lines.append(r"\caption{" + latex_escape(table.caption) + "}")
        if table.label:
            lines.append(r"\label{" + table.label + "}")
        lines += [r"\begin{tabular}{" + table.alignment + "}", r"\toprule",
                  " & ".join(latex_escape(h) for h in table.headers) + r" \\", r"\midrule"]
        lines += [" & ".join(latex_escape(c) for c in row) + r" \\" for row in table.rows]
        lines += [r"\bottomrule", r"\end{tabular}"]
        if table.notes:
            lines += [r"\par\smallskip", r"\parbox{0.9\linewidth}{\footnotesize "
                      + " ".join(latex_escape(n) for n in table.notes) + "}"]
        lines.append(r"\end{table}")
        return "\n".join(lines)
    raise ValueError(f"render(): format {fmt!r}: expected one of {', '.join(FORMATS)}")
