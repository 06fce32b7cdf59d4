"""The result set a user gets for their own model, and its ``index.html`` in a real browser.

One quick ``python -m bench.tables`` run on a model registered exactly as the README shows it
(the README's code block is executed), then: the model is in its dataset's table, labelled as
the user's; the page links every CSV, needs no network, and renders in headless Chromium with
every table and image present.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from bench import tables
from bench.report import html
from bench.report.paper_tables import USER_ROW
from tests.helpers import quick_tables_argv, stub_table3
from tests.tiny_models import TinyPose

README = Path(__file__).resolve().parents[3] / "README.md"
CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)


def _readme_registration() -> tuple[str, str]:
    """The README's "your own model" code block, and the model name it registers."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    block = next(b for b in blocks if "@register_model(" in b)
    return block, re.search(r'name="([^"]+)"', block).group(1)


@pytest.fixture(scope="module")
def result_set(tmp_path_factory) -> tuple[Path, str]:
    code, name = _readme_registration()
    # The README's MyNet is the reader's network; TinyPose keeps the same contract.
    exec(compile(code, str(README), "exec"), {"MyNet": lambda **kw: TinyPose()})  # noqa: S102
    out = tmp_path_factory.mktemp("results")
    with pytest.MonkeyPatch.context() as patch:
        stub_table3(patch)
        quick = ["--iters", "3", "--no-profile", "--runtimes", "none"]
        assert tables.main(quick_tables_argv(name, out, *quick)) == 0
    return out, name


def test_readme_model_joins_its_datasets_table(result_set):
    out, name = result_set
    t4 = pd.read_csv(out / "table4.csv")
    assert list(t4.model) == [name] and list(t4["method (paper row)"]) == [USER_ROW]
    assert t4["PCKh (paper)"].isna().all() and t4["speed-up (paper)"].isna().all()
    assert name not in (out / "table5.csv").read_text()  # a LIP model stays out of MPII's
    compact = (out / "table4.md").read_text()
    header = next(line for line in compact.splitlines() if line.startswith("| method"))
    assert header.count("|") - 1 <= 9 and name in compact and USER_ROW in compact
    assert "iters" in (out / "table4_full.md").read_text()  # every column stays in _full.md


def test_index_links_every_csv_and_needs_no_network(result_set):
    out, _ = result_set
    page = (out / "index.html").read_text(encoding="utf-8")
    for csv in out.glob("*.csv"):
        assert f'href="{csv.name}"' in page
    targets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert targets and not [t for t in targets if re.match(r"[a-z]+://", t)]
    assert all(
        (out / t).is_file() for t in targets if not t.startswith(("#", "data:"))
    )  # every relative link resolves
    assert page.count("data:image/png;base64,") == len(list(out.glob("*.png")))
    manifest = json.loads((out / "manifest.json").read_text())
    assert "index.html" in manifest["files"]  # written as part of the same result set


def test_a_note_repeated_under_tables_is_shown_once_per_page(result_set, tmp_path):
    out, _ = result_set
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count("Measured on ") == 1 and "See also the notes under" in page
    shared = "Measured on a machine.\n\nCV in %."
    sections = [
        html.Section("one", "One", pd.DataFrame({"a": [1]}), shared),
        html.Section("two", "Two", pd.DataFrame({"a": [2]}), shared + "\n\nOnly here."),
    ]
    text = html.render(tmp_path, {}, sections, [])
    assert text.count("Measured on a machine.") == 1 and text.count("Only here.") == 1
    assert '<a href="#one">one</a>' in text


_PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = [...document.images];
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    tables: document.querySelectorAll("table").length,
    rows: [...document.querySelectorAll("table")].map(t => t.rows.length),
    images: imgs.length,
    decoded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
    height: document.body.scrollHeight});
  document.body.appendChild(probe);
});
</script></body>"""


def _chromium(*args: str) -> subprocess.CompletedProcess:
    # No sandbox: CI containers run as root; no network: the page must not need it.
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH (Debian: apt-get install "
    "chromium); the page's static checks still run",
)
def test_index_renders_in_headless_chromium(result_set, tmp_path):
    out, _ = result_set
    page = (out / "index.html").read_text(encoding="utf-8")
    probed = out / "index-probe.html"  # beside it, so relative links resolve the same way
    probed.write_text(page.replace("</body>", _PROBE, 1), encoding="utf-8")
    try:
        done = _chromium("--virtual-time-budget=10000", "--dump-dom", probed.as_uri())
    finally:
        probed.unlink()
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, f"no probe in the rendered DOM; chromium said: {done.stderr[-500:]}"
    seen = json.loads(found.group(1).replace("&quot;", '"'))
    # Tables 4, 3, complexity, latency, env (Table 5 has no row in a LIP-only run), runtimes'
    assert seen["tables"] == page.count("<table") >= 5
    assert all(rows >= 2 for rows in seen["rows"])  # a header and at least one row each
    assert seen["images"] == seen["decoded"] == page.count("<img") >= 1
    shot = tmp_path / "index.png"
    _chromium("--window-size=1280,2400", f"--screenshot={shot}", (out / "index.html").as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
