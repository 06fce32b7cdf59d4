"""``index.html``: a self-contained front page of a result set (``data:`` URIs, no network)."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.report.compare import flatten


@dataclass(frozen=True)
class Section:
    """One table of the page: ``stem`` names its files (``table4`` -> table4.csv, table4.md)."""

    stem: str
    title: str
    table: pd.DataFrame
    notes: str = ""


_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em;
       color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .6em 0; font-size: 13px; } th { background: #f3f3f3; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, td:nth-child(2), th:first-child, th:nth-child(2) { text-align: left; }
.notes { color: #444; font-size: 12.5px; max-width: 1100px; }
figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #eee; }
.env td { text-align: left; } nav a { margin-right: 1em; } details { margin: .4em 0; }
pre { font-size: 12px; overflow-x: auto; background: #fafafa; padding: .5em; }
"""


def _inline(text: str) -> str:
    """Escaped text with the notes' Markdown emphasis (``**x**``) and code (```x```) kept."""
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


def notes_html(notes: str, seen: dict[str, str], stem: str) -> str:
    """Notes' paragraphs and ``- item`` lists; a paragraph ``seen`` before becomes a link there."""
    parts, earlier = [], []
    for block in filter(None, (b.strip() for b in notes.split("\n\n"))):
        if block in seen:
            earlier.append(seen[block])
            continue
        seen[block] = stem
        lines = block.splitlines()
        items = [line[2:] for line in lines if line.startswith("- ")]
        head = [line for line in lines if not line.startswith("- ")]
        if head:
            parts.append(f"<p>{_inline(' '.join(head))}</p>")
        if items:
            parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
    for first in dict.fromkeys(earlier):
        link = f'<a href="#{html.escape(first)}">{html.escape(first)}</a>'
        parts.append(f"<p>See also the notes under {link}.</p>")
    return f'<div class="notes">{"".join(parts)}</div>' if parts else ""


def summary_html(env: Mapping) -> str:
    flat = flatten(env)
    keys = {"device": "device", "gpu.name": "GPU", "cpu_model": "CPU", "torch": "torch"}
    keys |= {"run_id": "run", "wall_time_s": "wall time (s)"}
    facts = [(name, flat[k]) for k, name in keys.items() if flat.get(k) is not None]
    shown = " · ".join(f"{k}: <b>{html.escape(str(v))}</b>" for k, v in facts)
    return f'<p class="summary">{shown}</p>' if shown else ""


def environment_html(env: Mapping) -> str:
    text = {
        k: ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)
        for k, v in flatten(env).items()
    }
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in sorted(text.items())
    )
    return f'<table class="env">{cells}</table>'


def _link(target: str, text: str = "") -> str:
    return f'<a href="{html.escape(target)}">{html.escape(text or target)}</a>'


def table_html(section: Section, files: Sequence[str], seen: dict[str, str]) -> str:
    own = (f"{section.stem}.csv", f"{section.stem}_full.md", f"{section.stem}.md")
    links = " · ".join(_link(name) for name in own if name in files)
    table = section.table
    body = "<p>(no rows)</p>" if table.empty else table.to_html(index=False, border=0, na_rep="–")
    return (
        f'<h2 id="{html.escape(section.stem)}">{html.escape(section.title)}</h2>\n'
        f"{body}\n{notes_html(section.notes, seen, section.stem)}\n<p>Files: {links}</p>"
    )


def image_html(folder: Path, name: str) -> str:
    src, path = html.escape(name), folder / name
    if path.is_file():
        src = f"data:image/png;base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
    caption = f"<figcaption>{_link(name)}</figcaption>"
    return f'<figure><img src="{src}" alt="{html.escape(name)}">{caption}</figure>'


def text_html(folder: Path, name: str) -> str:
    path = folder / name
    if not path.is_file():
        return ""
    body = html.escape(path.read_text(encoding="utf-8"))
    summary = f'<details id="{html.escape(name)}"><summary>{_link(name)}</summary>'
    return f"{summary}<pre>{body}</pre></details>"


def render(
    folder: Path,
    env: Mapping,
    sections: Sequence[Section],
    files: Sequence[str],
    title: str = "gcpm-bench results",
) -> str:
    own = {f"{s.stem}{ext}" for s in sections for ext in (".md", "_full.md")}
    texts = [n for n in files if n.endswith(".md") and n not in own]
    seen: dict[str, str] = {}
    more = ["more"] if texts else []
    places = [*(s.stem for s in sections), "figures", *more, "files", "environment"]
    nav = "".join(_link(f"#{p}", "more tables" if p == "more" else p) for p in places)
    file_list = "".join(f"<li>{_link(n)}</li>" for n in files if n != "index.html")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            summary_html(env),
            f"<nav>{nav}</nav>",
            *(table_html(s, files, seen) for s in sections),
            '<h2 id="figures">Figures</h2>',
            *(image_html(folder, n) for n in files if n.endswith(".png")),
            '<h2 id="more">More tables</h2>' if texts else "",
            *(text_html(folder, n) for n in texts),
            f'<h2 id="files">Every file of this result set</h2><ul>{file_list}</ul>',
            f'<h2 id="environment">Environment</h2>{environment_html(env)}',
            "</body></html>",
            "",
        ]
    )
