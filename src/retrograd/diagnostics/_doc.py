"""A tiny document model rendered three ways: terminal text, Markdown and HTML.

The explain report is built once as a list of blocks (headings, paragraphs, formulas,
tables, notes) and each renderer walks the same list, so the three formats always
show the same numbers in the same order.
"""

from __future__ import annotations

import html as _html
import textwrap

#: paragraphs of the text rendering are wrapped at this width (tables and formulas are not)
TEXT_WIDTH = 100


class Doc:
    """An ordered list of blocks with text, Markdown and HTML renderers."""

    def __init__(self, title):
        self.title = title
        self.blocks = []

    # ------------------------------------------------------------------ building
    def heading(self, text, level=2):
        self.blocks.append(("heading", level, text))

    def para(self, text):
        self.blocks.append(("para", text))

    def formula(self, text):
        self.blocks.append(("formula", text))

    def table(self, headers, rows, numeric=None):
        """``numeric``: per-column flags; numeric columns are right-aligned."""
        if numeric is None:
            numeric = [False] * len(headers)
        self.blocks.append(("table", list(headers), [list(map(str, r)) for r in rows],
                            list(numeric)))

    def note(self, text):
        self.blocks.append(("note", text))

    # ------------------------------------------------------------------ text
    def to_text(self):
        out = [self.title, "=" * len(self.title), ""]
        for b in self.blocks:
            kind = b[0]
            if kind == "heading":
                text = b[2]
                out += [text, ("-" if b[1] <= 2 else "·") * len(text), ""]
            elif kind == "para":
                out += textwrap.wrap(b[1], TEXT_WIDTH) + [""]
            elif kind == "formula":
                out += ["    " + b[1], ""]
            elif kind == "note":
                out += textwrap.wrap("Note: " + b[1], TEXT_WIDTH, subsequent_indent="  ") + [""]
            else:
                out += _text_table(*b[1:]) + [""]
        return "\n".join(out).rstrip() + "\n"

    # ------------------------------------------------------------------ markdown
    def to_markdown(self):
        out = [f"# {self.title}", ""]
        for b in self.blocks:
            kind = b[0]
            if kind == "heading":
                out += ["#" * (b[1] + 1) + " " + b[2], ""]
            elif kind == "para":
                out += [_md_escape(b[1]), ""]
            elif kind == "formula":
                out += ["    " + b[1], ""]
            elif kind == "note":
                out += ["> **Note.** " + _md_escape(b[1]), ""]
            else:
                headers, rows, numeric = b[1:]
                out.append("| " + " | ".join(_md_cell(h) for h in headers) + " |")
                out.append("|" + "|".join("---:" if n else ":---" for n in numeric) + "|")
                for r in rows:
                    out.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
                out.append("")
        return "\n".join(out).rstrip() + "\n"

    # ------------------------------------------------------------------ html
    def to_html(self, standalone=True):
        e = _html.escape
        out = [f"<h1>{e(self.title)}</h1>"]
        for b in self.blocks:
            kind = b[0]
            if kind == "heading":
                lv = min(b[1] + 1, 6)
                out.append(f"<h{lv}>{e(b[2])}</h{lv}>")
            elif kind == "para":
                out.append(f"<p>{e(b[1])}</p>")
            elif kind == "formula":
                out.append(f'<pre class="formula">{e(b[1])}</pre>')
            elif kind == "note":
                out.append(f'<p class="note"><strong>Note.</strong> {e(b[1])}</p>')
            else:
                headers, rows, numeric = b[1:]
                out.append("<table>")
                out.append("<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in headers)
                           + "</tr></thead>")
                out.append("<tbody>")
                for r in rows:
                    cells = "".join(
                        f'<td class="num">{e(c)}</td>' if n else f"<td>{e(c)}</td>"
                        for c, n in zip(r, numeric))
                    out.append(f"<tr>{cells}</tr>")
                out.append("</tbody></table>")
        body = "\n".join(out)
        if not standalone:
            return body
        return (
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{e(self.title)}</title>\n<style>\n{_CSS}</style>\n</head>\n<body>\n"
            f"{body}\n</body>\n</html>\n"
        )


_CSS = """body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.45; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.2rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-family: ui-monospace, monospace; }
pre.formula { background: #f7f7fb; padding: 0.4rem 0.8rem; border-left: 3px solid #88a; }
p.note { background: #fff8e0; padding: 0.4rem 0.8rem; border-left: 3px solid #da3; }
"""


def _text_table(headers, rows, numeric):
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))

    def line(cells):
        parts = []
        for c, w, n in zip(cells, widths, numeric):
            parts.append(c.rjust(w) if n else c.ljust(w))
        return "  " + "  ".join(parts).rstrip()

    return [line(headers), "  " + "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def _md_cell(c):
    return str(c).replace("|", "\\|")


def _md_escape(text):
    # a '*' would start emphasis; intraword '_' (net_h1) is literal in CommonMark already
    return text.replace("*", "\\*")
