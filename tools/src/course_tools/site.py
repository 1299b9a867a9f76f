"""The course as a website (``make site``): a Jupyter Book built from the notebooks ``make course`` executed.

    python -m course_tools.site                                   # build/executed/ -> build/site/
    python -m course_tools.site --executed build/executed --out build/site --jupyter-book .venv-site/bin/jupyter-book

Nothing is executed again: the pages show the outputs stored in ``build/executed/`` (myst-nb's execution is off),
and no kernel is started. The build copies ``site/`` (``_config.yml`` and the home, kit and instructors pages) and
every executed lesson (``course_tools.paths.lessons``: a new lesson appears by itself, in its place) into a staging
folder (``build/site-src/``), writes there the table of contents and the generated tables (lessons with their time
estimates, the model kit from ``helpers.models``, the run-time and memory table of ``build/course-report.md``, the
README's "Running a workshop" section), and runs Jupyter Book 1 on it. ``build/site/`` is a plain folder of static
files: it works opened as files, served by ``python -m http.server``, zipped, or on GitHub Pages.

Why Jupyter Book 1 (Sphinx, myst-nb, sphinx-book-theme, from PyPI): it builds offline from pinned packages. Jupyter
Book 2 fetches its theme from the network at build time. Its pins conflict with the course's (markdown-it-py), so
its tools live in their own venv, ``.venv-site``, from ``requirements-site.txt``; the course venv never sees them.
The sources stay plain MyST markdown, a ``_config.yml`` and a generated ``_toc.yml``, which Jupyter Book 2 can take
over when its theme can be installed from a registry.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import paths
from helpers.errors import CourseError, run_cli

HIDE_TAGS = {"colab-setup": "remove-cell", "launch-row": "remove-cell"}  # the page has its own launch buttons
TIME = re.compile(r"\*\*Time:\*\*\s*([^.(\n]*)")
MINUTES = re.compile(r"(\d+)\s*min")
SITE_MARKERS = ("searchindex.js", ".nojekyll")  # a folder holding one of these is a site we built: safe to replace


def lesson_info(path: Path) -> dict[str, Any]:
    """Number, title, time estimate (from the opening cell's ``**Time:** ...``) and stored plots of one lesson."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    opening = nb.cells[0].source if nb.cells and nb.cells[0].cell_type == "markdown" else ""
    heading = next((line for line in opening.splitlines() if line.startswith("# ")), f"# {path.stem}")
    title = heading[2:].strip()
    found = TIME.search(opening)
    time_text = found.group(1).strip() if found else ""
    minutes = MINUTES.search(time_text)
    plots = sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
                for out in cell.get("outputs", []))
    return {"path": path, "stem": path.stem, "number": path.stem[:2], "title": title,
            "name": re.sub(r"^\d\d\s*[·.:-]\s*", "", title), "time": time_text,
            "minutes": int(minutes.group(1)) if minutes else None, "plots": plots}


def readme_descriptions(readme: Path) -> dict[str, str]:
    """What each lesson rebuilds, from the README's table of notebooks (``| 03 | `03_x` | time | text |``): its last
    column (the time column is the lesson's own estimate, which the site takes from the notebook)."""
    if not readme.is_file():
        return {}
    rows = {}
    for line in readme.read_text().splitlines():
        if found := re.match(r"^\|\s*\d\d\s*\|\s*`([^`]+)`\s*\|", line):
            rows[found.group(1)] = line.rstrip().rstrip("|").rsplit("|", 1)[-1].strip()
    return rows


def readme_section(readme: Path, heading: str) -> str | None:
    """The body of the README's ``## heading`` section (up to the next ``## ``), or None if there is none."""
    if not readme.is_file():
        return None
    text = readme.read_text()
    m = re.search(rf"^##\s+{re.escape(heading)}\s*$(.*?)(?=^##\s|\Z)", text, flags=re.M | re.S | re.I)
    return m.group(1).strip() if m else None


def absolute_links(markdown: str, repo_url: str, branch: str) -> str:
    """Relative links of a repository file (README) made absolute (GitHub), so none breaks on the site."""
    def fix(m: re.Match[str]) -> str:
        target = m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.I):  # http:, mailto:, ...
            return m.group(0)
        if target.startswith("#"):
            return f"{m.group(1)}({repo_url}/blob/{branch}/README.md{target})"
        return f"{m.group(1)}({repo_url}/blob/{branch}/{target.lstrip('./')})"
    return re.sub(r"(\]\s*)\(([^)\s]+)\)", fix, markdown)


# ---------------------------------------------------------------- generated pages


def lessons_table(lessons: list[dict[str, Any]], descriptions: dict[str, str]) -> str:
    lines = ["| # | lesson | what you rebuild | time |", "|---|---|---|---|"]
    for info in lessons:
        what = descriptions.get(info["stem"], "")
        lines.append(f"| {info['number']} | [{info['name']}](notebooks/{info['stem']}.ipynb) | {what} "
                     f"| {info['time'] or 'not stated'} |")
    known = [i["minutes"] for i in lessons if i["minutes"] is not None]
    if known:
        total = sum(known)
        note = "" if len(known) == len(lessons) else f" ({len(lessons) - len(known)} lesson(s) give no estimate)"
        lines.append(f"| | **all {len(lessons)} lessons** | | **about {total // 60} h {total % 60:02d} min**{note} |")
    return "\n".join(lines) + "\n"


def start_markdown(repo_url: str) -> str:
    return f"""You need Python 3.11, `make`, and access to PyPI. Then:

```bash
git clone {repo_url} && cd {repo_url.rstrip('/').rsplit('/', 1)[-1]} && make lab
```

`make lab` sets up everything that is missing (a venv with the pinned libraries, the offline model kit: about
4 minutes the first time on 2 CPU cores), then opens JupyterLab on your own copies of the notebooks. `make test` runs
every test, offline.
"""


def kit_markdown() -> str:
    """One summary table, then one section per model: what it is, where it came from, what it stands in for."""
    from helpers.models import MODELS

    lines = ["| name | what it is | built from (PyPI) |", "|---|---|---|"]
    for name, info in MODELS.items():
        lines.append(f"| [`{name}`](#kit-{name}) | {info.what} | `{info.package}=={info.version}` |")
    for name, info in MODELS.items():
        kind = "source distribution" if info.sdist else "wheel"
        origin = f"`{info.pin}`, the {kind} `{info.file}` (sha256 `{info.sha256}`)"
        lines += ["", f"(kit-{name})=", f"## `{name}`", "",
                  f"- **What it is:** {info.what}.",
                  f"- **Where it came from:** {origin}.",
                  f"- **What it stands in for:** {info.stands_in_for}.",
                  f"- **The Hub original** (`COURSE_MODELS=hub`): `{info.hub_id}`.",
                  f"- **License:** {info.license}.",
                  f"- **Load it:** `checkpoint(\"{name}\")`."]
    return "\n".join(lines) + "\n"


def workshop_markdown(readme: Path, repo_url: str, branch: str) -> str:
    section = readme_section(readme, "Running a workshop")
    link = f"[the README's *Running a workshop* section]({repo_url}/blob/{branch}/README.md#running-a-workshop)"
    folder = f"[`workshop/`]({repo_url}/tree/{branch}/workshop)"
    if section is None:
        return f"How to run the course for a class on one server: see {link} and the {folder} folder.\n"
    return absolute_links(section, repo_url, branch) + f"\n\n(From {link}.)\n"


def report_markdown(report: Path | None) -> str:
    if report is None or not report.is_file():
        return ("This site was built without `make course` (from the committed notebooks), so there is no table "
                "here: `make course` writes it to `build/course-report.md`, and `make site` shows it on this page.\n")
    return report.read_text()


def toc_yaml(lessons: list[dict[str, Any]]) -> str:
    chapters = "\n".join(f"      - file: notebooks/{info['stem']}" for info in lessons)
    return ("# Generated by course_tools.site from course_tools.paths.lessons(): do not edit.\n"
            "format: jb-book\nroot: index\nparts:\n"
            f"  - caption: Lessons\n    chapters:\n{chapters}\n"
            "  - caption: Reference\n    chapters:\n      - file: kit\n      - file: instructors\n")


# ---------------------------------------------------------------- staging and build


def lesson_links(markdown: str, on_site: set[str], repo_url: str, branch: str) -> str:
    """A lesson's relative links that the site cannot serve (a lesson not on it, ``../README.md``, a helper's source)
    made absolute (GitHub); links to lessons on the site and #anchors stay as they are."""
    import posixpath

    def fix(m: re.Match[str]) -> str:
        target = m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.I) or target.startswith("#"):
            return m.group(0)
        path = target.split("#")[0]
        if path in on_site:
            return m.group(0)
        where = posixpath.normpath(posixpath.join("notebooks", target))
        return f"{m.group(1)}({repo_url}/blob/{branch}/{where})"
    return re.sub(r"((?<!!)\[[^\]]*\]\s*)\(([^)\s]+)\)", fix, markdown)


def stage_notebook(src: Path, dst: Path, on_site: set[str] | None = None) -> None:
    """Copy an executed lesson, tagging the cells the site leaves out (the Colab set-up cell, the badge row), with
    the links the site cannot serve made absolute."""
    import nbformat

    from .launch import BRANCH, repo_url

    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and on_site is not None and "launch-row" not in cell.metadata.get("tags", []):
            cell.source = lesson_links(cell.source, on_site, repo_url(), BRANCH)
        tags = cell.metadata.get("tags", [])
        extra = [HIDE_TAGS[t] for t in tags if t in HIDE_TAGS and HIDE_TAGS[t] not in tags]
        if extra:
            cell.metadata["tags"] = [*tags, *dict.fromkeys(extra)]
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dst)


def stale(notebooks: Path, executed: Path) -> list[str]:
    """Why ``executed`` does not hold the current course: each lesson of ``notebooks`` whose executed copy is
    missing or older than the lesson. Empty: ``make course`` need not run again."""
    lessons = paths.lessons(notebooks)
    if not lessons:
        return [f"no lessons in {notebooks}"]
    found = []
    for path in lessons:
        done = executed / path.name
        if not done.is_file():
            found.append(f"{path.name} not executed")
        elif done.stat().st_mtime < path.stat().st_mtime:
            found.append(f"{path.name} changed since it was executed")
    return found


def stage(notebooks: Path, executed: Path, work: Path, report: Path | None, sources: Path,
          readme: Path) -> list[dict[str, Any]]:
    """Fill ``work`` with what Jupyter Book builds: site/ sources, the executed lessons, generated pages.

    The lessons are those of ``notebooks`` (``course_tools.paths.lessons``), in order, each from its executed copy; an
    executed notebook whose lesson is gone (renamed, renumbered) is left out."""
    from .launch import BRANCH, repo_url

    missing = [p.name for p in paths.lessons(notebooks) if not (executed / p.name).is_file()]
    if missing:
        raise CourseError(f"{', '.join(missing)} not executed in {executed}: run `make course` first "
                          "(`make site` does when it is needed).")
    lessons = [lesson_info(executed / p.name) for p in paths.lessons(notebooks)]
    if not lessons:
        raise CourseError(f"No lessons in {notebooks}.")
    if work.exists():
        shutil.rmtree(work / "notebooks", ignore_errors=True)
        shutil.rmtree(work / "_generated", ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    for item in sources.iterdir():
        if item.is_file():
            shutil.copy2(item, work / item.name)
    on_site = {f"{info['stem']}.ipynb" for info in lessons}
    for info in lessons:
        stage_notebook(info["path"], work / "notebooks" / f"{info['stem']}.ipynb", on_site)
    url = repo_url()
    config = (sources / "_config.yml").read_text()
    config += (f"\n# Added by course_tools.site from course_tools.launch (where the repository's address lives).\n"
               f"repository:\n  url: {json.dumps(url)}\n  path_to_book: \"\"\n  branch: {json.dumps(BRANCH)}\n")
    (work / "_config.yml").write_text(config)
    (work / "_toc.yml").write_text(toc_yaml(lessons))
    generated = work / "_generated"
    generated.mkdir()
    (generated / "lessons.md").write_text(lessons_table(lessons, readme_descriptions(readme)))
    (generated / "start.md").write_text(start_markdown(url))
    (generated / "kit.md").write_text(kit_markdown())
    (generated / "workshop.md").write_text(workshop_markdown(readme, url, BRANCH))
    (generated / "report.md").write_text(report_markdown(report))
    return lessons


def _replace_site(built: Path, out: Path) -> None:
    if out.exists():
        if any(out.iterdir()) and not any((out / m).exists() for m in SITE_MARKERS):
            raise CourseError(f"{out} exists and is not a site built by `make site`: remove it or choose --out.")
        shutil.rmtree(out)
    shutil.copytree(built, out)


def build(notebooks: Path, executed: Path, out: Path, work: Path, jupyter_book: str, report: Path | None = None,
          sources: Path | None = None, readme: Path | None = None) -> dict[str, Any]:
    root = paths.root()
    sources = sources or root / "site"
    readme = readme or root / "README.md"
    t0 = time.perf_counter()
    lessons = stage(notebooks, executed, work, report, sources, readme)
    cmd = [jupyter_book, "build", str(work), "--path-output", str(work), "--builder", "html", "--all", "-q"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    (work / "build.log").write_text(log)
    if proc.returncode != 0:
        tail = "\n".join(log.strip().splitlines()[-12:])
        raise CourseError(f"jupyter-book failed (exit {proc.returncode}); its last lines:\n{tail}")
    _replace_site(work / "_build" / "html", out)
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    return {"lessons": [i["stem"] for i in lessons], "seconds": round(time.perf_counter() - t0, 1),
            "warnings": warnings, "out": str(out)}


def default_jupyter_book() -> str:
    beside = Path(sys.executable).with_name("jupyter-book")
    return str(beside if beside.exists() else paths.root() / ".venv-site" / "bin" / "jupyter-book")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.site", description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=Path, default=None, help="the lessons (default: the course's)")
    parser.add_argument("--executed", type=Path, default=Path("build/executed"),
                        help="the executed notebooks (make course writes them)")
    parser.add_argument("--out", type=Path, default=Path("build/site"))
    parser.add_argument("--work", type=Path, default=Path("build/site-src"), help="staging folder")
    parser.add_argument("--report", type=Path, default=Path("build/course-report.md"))
    parser.add_argument("--jupyter-book", default=None,
                        help="default: the one beside this Python (run by .venv-site), else .venv-site's")
    parser.add_argument("--check", action="store_true",
                        help="only say whether the executed notebooks are up to date (exit 0) or not (exit 3)")
    args = parser.parse_args()
    notebooks = args.notebooks or paths.notebooks_dir()
    if args.check:
        why = stale(notebooks, args.executed)
        if why:
            print(f"[site] {args.executed} is not up to date ({'; '.join(why[:3])}"
                  f"{'; ...' if len(why) > 3 else ''}): running make course first.", file=sys.stderr)
        return 3 if why else 0
    jupyter_book = args.jupyter_book or default_jupyter_book()
    if not Path(jupyter_book).exists() and shutil.which(jupyter_book) is None:
        raise CourseError(f"{jupyter_book} not found: run `make site`, which installs the site's tools.")
    result = build(notebooks, args.executed, args.out, args.work, jupyter_book, args.report)
    for line in result["warnings"]:
        print(line, file=sys.stderr)
    print(f"[site] {len(result['lessons'])} lessons, built in {result['seconds']:.1f} s, "
          f"{len(result['warnings'])} warning(s): {result['out']}/index.html "
          f"(or: python -m http.server --directory {result['out']})")
    return 0


if __name__ == "__main__":
    run_cli(main)
