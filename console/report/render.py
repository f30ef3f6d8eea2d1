"""A report document (console.report.doc) as Markdown and as one self-contained HTML page; pure text.

Every piece of text is escaped for its medium here, whatever its source: in HTML with
`html.escape`, in Markdown by backslash-escaping each character that could start markup, a link
or raw HTML. So a station's note such as `<script>` or `[x](javascript:..)` is shown as typed.
Charts arrive as finished SVG text (console.report.charts) and are the only markup passed through.
"""
from __future__ import annotations

import html
import re

from console.report.doc import Bullets, Chart, Doc, Heading, Para, Table

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~#!{}])")
_SPACE = re.compile(r"[\r\n\t\x0b\x0c]+")


def md(text: str) -> str:
    """Text that Markdown shows literally, on one line."""
    return _MD_SPECIAL.sub(r"\\\1", _SPACE.sub(" ", str(text)))


def markdown(doc: Doc, chart_paths: dict[str, str]) -> str:
    """`chart_paths`: chart name -> path of its SVG file relative to the Markdown file."""
    out = [f"# {md(doc.title)}", ""]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + md(b.text), ""]
        elif isinstance(b, Para):
            text = md(b.text)
            out += [f"**{text}**" if b.style == "strong" else f"*{text}*" if b.style == "note" else text, ""]
        elif isinstance(b, Table):
            out.append("| " + " | ".join(md(h) for h in b.head) + " |")
            out.append("|" + "---|" * len(b.head))
            out += ["| " + " | ".join(md(c) for c in row) + " |" for row in b.rows]
            out.append("")
        elif isinstance(b, Bullets):
            out += [f"- {md(item)}" for item in b.items] + [""]
        elif isinstance(b, Chart):
            path = chart_paths.get(b.name)
            # The path is ours (report folder, chart name, language); only the title is escaped.
            out += [f"![{md(b.title)}]({path})" if path else f"*{md(b.title)}*", ""]
    return "\n".join(out).rstrip() + "\n"


CSS = """
:root { --ink:#1d2330; --dim:#5b6472; --line:#d9dde3; --band:#f4f6f8; --accent:#1f5fa8; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.5;
  font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
    "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 12px; border-bottom: 3px solid var(--accent); padding-bottom: 8px; }
h2 { font-size: 20px; margin: 36px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 22px 0 6px; }
p { margin: 6px 0; } p.note { color: var(--dim); font-size: 13px; } p.strong { font-weight: 600; }
nav.toc { background: var(--band); padding: 8px 14px; border-radius: 6px; font-size: 14px; }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 16px; white-space: nowrap; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13px; max-width: 100%; display: block;
  overflow-x: auto; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; white-space: nowrap; }
tr:nth-child(even) td { background: #fafbfc; }
ul { margin: 4px 0 10px; padding-left: 22px; } li { margin: 2px 0; }
figure { margin: 14px 0 22px; } figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--dim); font-size: 13px; }
@media print { nav.toc { display: none; } h2 { break-before: auto; } }
"""


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def page(doc: Doc, svgs: dict[str, str]) -> str:
    """One HTML file with its style and charts inline: it opens anywhere, offline, and archives as it is."""
    lang_attr = "zh-CN" if doc.lang == "zh" else "en"
    body, toc, n = [], [], 0
    for b in doc.blocks:
        if isinstance(b, Heading):
            if b.level == 2:
                n += 1
                toc.append(f'<a href="#s{n}">{_esc(b.text)}</a>')
                body.append(f'<h2 id="s{n}">{_esc(b.text)}</h2>')
            else:
                body.append(f"<h{b.level}>{_esc(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            cls = f' class="{b.style}"' if b.style else ""
            body.append(f"<p{cls}>{_esc(b.text)}</p>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{_esc(h)}</th>" for h in b.head)
            rows = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in b.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(b, Bullets):
            body.append("<ul>" + "".join(f"<li>{_esc(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Chart):
            svg = svgs.get(b.name, "")
            body.append(f'<figure id="chart-{_esc(b.name)}">{svg}<figcaption>{_esc(b.title)}</figcaption></figure>')
    return ("<!DOCTYPE html>\n"
            f'<html lang="{lang_attr}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(doc.title)}</title><style>{CSS}</style></head>\n"
            f"<body><main><h1>{_esc(doc.title)}</h1>\n"
            f'<nav class="toc">{"".join(toc)}</nav>\n' + "\n".join(body) + "\n</main></body></html>\n")
