"""``index.html``: one self-contained front page for a result set.

The environment, the headline tables with their notes, every figure and a link to every other file
of the set, on one page that needs no network: figures are embedded as ``data:`` URIs (read from
the folder the page is written into, where the set's PNGs were written just before it), styles
are inline, links are relative. The page is written by :func:`write_index` as one more file of the
set (``bench.tables`` lists it last among its outputs).
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.report import files as io


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
table { border-collapse: collapse; margin: .6em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; }
td:first-child, td:nth-child(2), th:first-child, th:nth-child(2) { text-align: left; }
.notes { color: #444; font-size: 12.5px; max-width: 1100px; }
figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #eee; }
.env td { text-align: left; } nav a { margin-right: 1em; }
pre { font-size: 12px; overflow-x: auto; background: #fafafa; padding: .5em; }
details { margin: .4em 0; }
"""


def _inline(text: str) -> str:
    """Escaped text with the notes' Markdown emphasis (``**x**``) and code (```x```) kept."""
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


def notes_html(notes: str, seen: dict[str, str] | None = None, stem: str = "") -> str:
    """Paragraphs and ``- item`` lists of a table's notes as HTML. ``seen``: paragraph -> the
    section that showed it first; a paragraph shown already becomes a link to it (a page states a
    note once, not under every table)."""
    parts, earlier = [], []
    seen = {} if seen is None else seen
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


def _flat(record: Mapping, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for key in sorted(record):
        value = record[key]
        if isinstance(value, Mapping):
            rows += _flat(value, f"{prefix}{key}.")
        else:
            shown = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else value
            rows.append((f"{prefix}{key}", str(shown)))
    return rows


def summary_html(env: Mapping) -> str:
    """One line: where and when the set was measured (the full record is at the bottom)."""
    gpu = env.get("gpu", {}).get("name") if isinstance(env.get("gpu"), Mapping) else None
    facts = [
        ("device", env.get("device")),
        ("GPU", gpu),
        ("CPU", env.get("cpu_model")),
        ("torch", env.get("torch")),
        ("run", env.get("run_id")),
        ("wall time (s)", env.get("wall_time_s")),
    ]
    shown = " · ".join(f"{k}: <b>{html.escape(str(v))}</b>" for k, v in facts if v is not None)
    return f'<p class="summary">{shown}</p>' if shown else ""


def environment_html(env: Mapping) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in _flat(env)
    )
    return f'<table class="env">{cells}</table>'


def table_html(section: Section, files: Sequence[str], seen: dict[str, str] | None = None) -> str:
    links = " · ".join(
        f'<a href="{html.escape(name)}">{html.escape(name)}</a>'
        for name in (f"{section.stem}.csv", f"{section.stem}_full.md", f"{section.stem}.md")
        if name in files
    )
    body = (
        "<p>(no rows)</p>"
        if section.table.empty
        else section.table.to_html(index=False, border=0, na_rep="–", escape=True)
    )
    return (
        f'<h2 id="{html.escape(section.stem)}">{html.escape(section.title)}</h2>\n'
        f"{body}\n{notes_html(section.notes, seen, section.stem)}\n<p>Files: {links}</p>"
    )


def image_html(folder: Path, name: str) -> str:
    """The PNG embedded as a data URI when it is in ``folder`` already, else linked beside."""
    path = folder / name
    src = (
        f"data:image/png;base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
        if path.is_file()
        else html.escape(name)
    )
    return (
        f'<figure><img src="{src}" alt="{html.escape(name)}">'
        f'<figcaption><a href="{html.escape(name)}">{html.escape(name)}</a></figcaption>'
        f"</figure>"
    )


def text_html(folder: Path, name: str) -> str:
    """A Markdown file of the set that has no section of its own, shown as written, folded."""
    path = folder / name
    if not path.is_file():
        return ""
    body = html.escape(path.read_text(encoding="utf-8"))
    return (
        f'<details id="{html.escape(name)}"><summary><a href="{html.escape(name)}">'
        f"{html.escape(name)}</a></summary><pre>{body}</pre></details>"
    )


def render(
    folder: Path,
    env: Mapping,
    sections: Sequence[Section],
    files: Sequence[str],
    title: str = "gcpm-bench results",
) -> str:
    """The page for the set whose other files (``files``) are in, or going to, ``folder``."""
    images = [n for n in files if n.endswith(".png")]
    stems = {s.stem for s in sections}
    texts = [
        n
        for n in files
        if n.endswith(".md")
        and n.removesuffix(".md") not in stems
        and n.removesuffix("_full.md") not in stems
    ]
    others = [n for n in files if n != "index.html"]
    seen: dict[str, str] = {}
    nav = "".join(f'<a href="#{html.escape(s.stem)}">{html.escape(s.stem)}</a>' for s in sections)
    file_list = "".join(f'<li><a href="{html.escape(n)}">{html.escape(n)}</a></li>' for n in others)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            summary_html(env),
            (
                f'<nav>{nav}<a href="#figures">figures</a>'
                + ('<a href="#more">more tables</a>' if texts else "")
                + '<a href="#files">files</a><a href="#environment">environment</a></nav>'
            ),
            *(table_html(s, files, seen) for s in sections),
            '<h2 id="figures">Figures</h2>',
            *(image_html(folder, n) for n in images),
            '<h2 id="more">More tables</h2>' if texts else "",
            *(text_html(folder, n) for n in texts),
            f'<h2 id="files">Every file of this result set</h2><ul>{file_list}</ul>',
            f'<h2 id="environment">Environment</h2>{environment_html(env)}',
            "</body></html>",
            "",
        ]
    )


def write_index(
    path: Path, env: Mapping, sections: Sequence[Section], files: Sequence[str]
) -> Path:
    """Render the page for ``files`` (the set's other files) and write it atomically."""
    return io.write_text(path, render(Path(path).parent, env, sections, files))
