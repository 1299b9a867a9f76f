"""The course as a website (make site): built offline from executed notebooks, then read in headless Chromium.

A small executed course (the first three lessons of notebooks/ that store a plot: they are committed with their
outputs, so no kernel is needed) is built by ``course_tools.site`` with the site's pinned tools (``.venv-site``, made by
the Makefile's own rule from ``requirements-site.txt``), with no network (a network namespace of its own where
``unshare`` allows it, and in any case proxies pointing at a dead local port) and with a ``python3`` kernel that
leaves a mark if anything starts it. Then the site is served by ``python -m http.server`` and opened in headless
Chromium (the browser test's, ``tests/test_browser.py``): home page, table of contents in order, next/previous,
plots, no error output, launch and download buttons, collapsed solutions, search, every link of every page, and
no request leaving the machine. Screenshots of the home page and one lesson go to ``build/site-test/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urldefrag, urlparse

import nbformat
import pytest

from course_tools import paths, site
from course_tools.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "site-test"
SITE_VENV = Path(os.environ.get("COURSE_SITE_VENV") or ROOT / ".venv-site")
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, every proxied request fails at once
N_LESSONS = 3


# ---------------------------------------------------------------- units (no browser, no Jupyter Book)


def test_every_lesson_states_its_time_and_title():
    for path in paths.lessons():
        info = site.lesson_info(path)
        assert info["minutes"] and info["time"].startswith("about"), f"{path.name}: no '**Time:** about N minutes'"
        assert info["title"].startswith(path.stem[:2]), f"{path.name}: title {info['title']!r}"


def test_time_estimate_and_title_are_read_from_the_opening_cell(tmp_path):
    from course_tools.notebooks import code, md, write

    write(tmp_path / "03_x.ipynb", [md("# 03 · By hand\n\nText.\n\n**Time:** about 45 minutes (each step is one)."),
                                   code("1")])
    write(tmp_path / "04_y.ipynb", [md("# 04 · No estimate"), code("1")])
    info, none = site.lesson_info(tmp_path / "03_x.ipynb"), site.lesson_info(tmp_path / "04_y.ipynb")
    assert (info["name"], info["time"], info["minutes"]) == ("By hand", "about 45 minutes", 45)
    assert (none["time"], none["minutes"]) == ("", None)
    table = site.lessons_table([info, none], {"03_x": "WordPiece by hand"})
    assert "| 03 | [By hand](notebooks/03_x.ipynb) | WordPiece by hand | about 45 minutes |" in table
    assert "| 04 | [No estimate](notebooks/04_y.ipynb) |  | not stated |" in table
    assert "about 0 h 45 min** (1 lesson(s) give no estimate)" in table


def test_toc_lists_every_lesson_in_course_order():
    lessons = [site.lesson_info(p) for p in paths.lessons()]
    toc = site.toc_yaml(lessons)
    files = re.findall(r"file: notebooks/(\S+)", toc)
    assert files == [p.stem for p in paths.lessons()] and files == sorted(files)


def test_stale_says_which_lessons_need_make_course(tmp_path):
    nbs, done = tmp_path / "notebooks", tmp_path / "executed"
    nbs.mkdir(), done.mkdir()
    for name in ("00_a.ipynb", "01_b.ipynb"):
        (nbs / name).write_text("{}")
    assert site.stale(nbs, done) == ["00_a.ipynb not executed", "01_b.ipynb not executed"]
    for name in ("00_a.ipynb", "01_b.ipynb"):
        (done / name).write_text("{}")
    assert site.stale(nbs, done) == []
    later = time.time() + 10
    os.utime(nbs / "01_b.ipynb", (later, later))
    assert site.stale(nbs, done) == ["01_b.ipynb changed since it was executed"]
    (done / "99_gone.ipynb").write_text("{}")  # an executed lesson that no longer exists is not the course's
    assert site.stale(nbs, done) == ["01_b.ipynb changed since it was executed"]


def test_readme_links_become_absolute():
    text = "See [the folder](workshop/README.md), [here](#start), [web](https://x.org/a) and [b](./b.txt)."
    out = site.absolute_links(text, "https://github.com/o/r", "main")
    assert out == ("See [the folder](https://github.com/o/r/blob/main/workshop/README.md), "
                   "[here](https://github.com/o/r/blob/main/README.md#start), [web](https://x.org/a) and "
                   "[b](https://github.com/o/r/blob/main/b.txt).")


def test_readme_section_is_read_up_to_the_next_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# T\n\n## Running a workshop\n\nOne server.\n\n### Before\n\nZip it.\n\n## Next\n\nNo.\n")
    assert site.readme_section(readme, "Running a workshop") == "One server.\n\n### Before\n\nZip it."
    assert site.readme_section(readme, "Missing") is None
    fallback = site.workshop_markdown(tmp_path / "none.md", "https://g/o/r", "main")
    assert "README's *Running a workshop* section" in fallback and "https://g/o/r/tree/main/workshop" in fallback


def test_lesson_links_the_site_cannot_serve_become_absolute():
    text = ("[next](02_b.ipynb), [gone](05_x.ipynb#top), [readme](../README.md), [here](#s), ![img](a.png), "
            "[web](https://x.org)")
    out = site.lesson_links(text, {"02_b.ipynb"}, "https://github.com/o/r", "main")
    assert out == ("[next](02_b.ipynb), [gone](https://github.com/o/r/blob/main/notebooks/05_x.ipynb#top), "
                   "[readme](https://github.com/o/r/blob/main/README.md), [here](#s), ![img](a.png), "
                   "[web](https://x.org)")


def test_make_site_runs_make_course_only_when_the_executed_notebooks_are_stale(tmp_path):
    """`make -n site` in a copy of the layout: the `course` recipe is in the plan only when build/executed is missing
    a lesson or older than it (make -n still runs the check line, because it calls $(MAKE))."""
    if shutil.which("make") is None:
        pytest.skip("no make")
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt", "requirements-instructor.txt",
                 "constraints.txt", "requirements-site.txt", "helpers", "tools", "site"):
        (tmp_path / name).symlink_to(ROOT / name)
    nbs, done = tmp_path / "notebooks", tmp_path / "build" / "executed"
    nbs.mkdir(), done.mkdir(parents=True)
    for path in paths.lessons()[:2]:
        shutil.copy(path, nbs / path.name)

    def plan() -> str:
        src = os.pathsep.join(str(ROOT / folder / "src") for folder in ("helpers", "tools"))
        env = {**os.environ, "COURSE_ROOT": str(tmp_path), "PYTHONPATH": src}
        proc = subprocess.run(["make", "-n", "site", f"PY={sys.executable}", f"SITE_VENV={SITE_VENV}"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        return proc.stdout + proc.stderr

    assert "course_tools.course" in plan(), "nothing executed yet: make site must run make course first"
    for path in nbs.iterdir():
        shutil.copy(path, done / path.name)
    out = plan()
    assert "course_tools.course" not in out, f"make site after make course would execute again:\n{out}"
    assert "course_tools.site" in out and "--out build/site" in out
    later = time.time() + 10
    os.utime(next(nbs.iterdir()), (later, later))
    assert "course_tools.course" in plan(), "a lesson changed after make course: make site must run it again"


def test_site_tools_are_pinned_apart_from_the_course():
    from test_pins import PIN, pins

    for line in (ROOT / "requirements-site.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert PIN.match(line), f"requirements-site.txt: not pinned with ==: {line}"
    site_pins = pins(ROOT / "requirements-site.txt")
    assert site_pins["jupyter-book"] == "1.0.4.post1" and "sphinx-mathjax-offline" in site_pins
    course = (ROOT / "requirements.txt").read_text()
    assert "jupyter-book" not in course and "sphinx" not in course, "the site's tools belong in .venv-site"


# ---------------------------------------------------------------- the build (offline, no kernel)


def _site_venv() -> Path:
    """The site's tools, installed by the Makefile's own rule (as `make site` does) unless already there."""
    jb = SITE_VENV / "bin" / "jupyter-book"
    if not jb.exists() or os.environ.get("COURSE_SITE_VENV") is None:
        proc = subprocess.run(["make", f"SITE_VENV={SITE_VENV}", f"{SITE_VENV}/.site-setup"], cwd=ROOT,
                              capture_output=True, text=True, timeout=1200)
        assert proc.returncode == 0, f"installing the site's tools failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    return jb


def _chosen_lessons() -> list[Path]:
    with_plots = [p for p in paths.lessons() if site.lesson_info(p)["plots"]]
    assert len(with_plots) >= N_LESSONS, "fewer than three lessons store a plot"
    return with_plots[:N_LESSONS]


def _offline_prefix() -> list[str]:
    """A network namespace with no network at all, where the kernel allows one (root, CI); else nothing."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n"]
    return []


def _fingerprint(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.ipynb"))}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Any]:
    """The site of three lessons, built offline (marks its tests `site`: not in `make test-fast`)."""
    jb = _site_venv()
    tmp = tmp_path_factory.mktemp("site")
    nbs, executed = tmp / "notebooks", tmp / "build" / "executed"
    nbs.mkdir(), executed.mkdir(parents=True)
    lessons = _chosen_lessons()
    for path in lessons:  # committed with the outputs their execution produced: an executed course as it is
        shutil.copy(path, nbs / path.name)
        shutil.copy(path, executed / path.name)
    from course_tools.course import report_markdown

    report = tmp / "build" / "course-report.md"  # the table make course writes, with this fixture's own numbers
    report.write_text(report_markdown([{"name": p.name, "seconds": 12.5, "peak_mib": 321.0, "parameters": {},
                                        "status": "ok"} for p in lessons], {}))
    # A python3 kernel that leaves a mark and fails: if the build started any kernel, the mark shows it.
    mark = tmp / "KERNEL-STARTED"
    spec = tmp / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": ["/bin/sh", "-c", f"touch {mark}; exit 1"],
                                                  "display_name": "Python 3", "language": "python"}))
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update({k: DEAD_PROXY for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                                         "all_proxy")})
    env.update(NO_PROXY="", no_proxy="", PIP_NO_INDEX="1", JUPYTER_PATH=str(tmp / "jupyter"),
               JUPYTER_DATA_DIR=str(tmp / "jupyter"), PYTHONPATH=str(ROOT / "helpers" / "src"))
    before = _fingerprint(executed)
    out = tmp / "build" / "site"
    prefix = _offline_prefix()
    cmd = [*prefix, sys.executable, "-m", "course_tools.site", "--notebooks", str(nbs), "--executed", str(executed),
           "--report", str(report), "--out", str(out), "--work", str(tmp / "build" / "site-src"),
           "--jupyter-book", str(jb)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, f"the site did not build offline:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return {"out": out, "lessons": lessons, "executed": executed, "before": before, "mark": mark,
            "offline": " ".join(prefix) or "dead proxies only", "seconds": seconds, "log": proc.stdout + proc.stderr}


def test_site_builds_offline_from_stored_outputs_without_a_kernel(built):
    out = built["out"]
    assert not built["mark"].exists(), "the build started a kernel: it must only read the stored outputs"
    assert _fingerprint(built["executed"]) == built["before"], "the build changed the executed notebooks"
    for path in built["lessons"]:
        assert (out / "notebooks" / f"{path.stem}.html").is_file()
        stored = nbformat.read(out / "_sources" / "notebooks" / path.name, as_version=4)  # the download
        assert stored.cells and any(c.get("outputs") for c in stored.cells if c.cell_type == "code")
    for name in ("index.html", "kit.html", "instructors.html", "search.html", "searchindex.js", ".nojekyll"):
        assert (out / name).is_file(), name
    assert "WARNING" not in built["log"], built["log"]
    print(f"site built in {built['seconds']:.1f} s ({built['offline']}, {DEAD_PROXY} as every proxy)")


# ---------------------------------------------------------------- in the browser


@pytest.fixture(scope="module")
def served(built) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory",
                             str(built["out"])], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def browser(built) -> Iterator[dict[str, Any]]:
    from test_browser import CHROMIUM, CHROMIUM_FLAGS, _missing  # the browser test's Chromium, launched its way

    problem = _missing()
    if problem:
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    outside: list[str] = []

    def only_local(route: Any) -> None:  # the site must need nothing from the internet
        url = route.request.url
        if urlparse(url).scheme in ("file", "data", "blob", "about") or urlparse(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        context.route("**/*", only_local)
        try:
            yield {"context": context, "outside": outside}
        finally:
            context.close()
            chromium.close()


def _page(browser: dict[str, Any], url: str) -> Any:
    page = browser["context"].new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(url)
    page.wait_for_load_state("load")
    page.errors = errors
    return page


def _plain(text: str) -> str:
    """Markdown title as the page shows it: no backticks or emphasis, Sphinx's curly quotes made straight."""
    return re.sub(r"[`*]", "", text).replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"').strip()


def _expected(built) -> list[dict[str, Any]]:
    return [site.lesson_info(p) for p in built["lessons"]]


def test_home_page(built, served, browser):
    page = _page(browser, f"{served}/index.html")
    try:
        assert page.title().startswith("Transformers, under the hood")
        body = page.locator("article").inner_text()
        assert "make lab" in body and "git clone" in body
        rows = page.locator("article table").first.locator("tbody tr")
        for info, i in zip(_expected(built), range(N_LESSONS)):
            cells = rows.nth(i).locator("td").all_inner_texts()
            cells = [_plain(c) for c in cells]
            assert cells[0] == info["number"] and cells[1] == _plain(info["name"]) and cells[-1] == info["time"], cells
        assert "about" in rows.nth(N_LESSONS).inner_text()  # the total
        assert not page.errors, page.errors
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "home.png"))
    finally:
        page.close()
    assert not browser["outside"], f"the site asked the internet for {browser['outside'][:5]}"


def test_kit_and_instructors_pages(built, served, browser):
    from helpers.models import MODELS

    page = _page(browser, f"{served}/kit.html")
    try:
        text = page.locator("article").inner_text().replace("\u2019", "'")  # Sphinx's smart quotes
        for name, info in MODELS.items():
            assert info.stands_in_for in text and f"{info.package}=={info.version}" in text, name
        assert "dequantised" in text  # the generator comes from a 4-bit GGUF, and the page says so
        page.goto(f"{served}/instructors.html")
        text = page.locator("article").inner_text()
        for path in built["lessons"]:  # the run-time and memory table make course wrote
            assert re.search(rf"{re.escape(path.name)}\s+12\.5 s\s+321 MiB", text), text
        assert "Running a workshop" in text and "make site" in text
        assert not page.errors, page.errors
    finally:
        page.close()


def test_toc_and_next_links_go_through_every_lesson_in_order(built, served, browser):
    expected = [f"notebooks/{i['stem']}.html" for i in _expected(built)]
    page = _page(browser, f"{served}/index.html")
    try:
        toc = page.eval_on_selector_all("nav.bd-docs-nav a.reference.internal", "els => els.map(e => e.href)")
        rel = [urlparse(u).path.lstrip("/") for u in toc]
        assert [r for r in rel if r.startswith("notebooks/")] == expected, rel
        assert rel == ["index.html", *expected, "kit.html", "instructors.html"], rel
        titles = page.eval_on_selector_all("nav.bd-docs-nav a.reference.internal", "els => els.map(e => e.innerText)")
        assert [_plain(t) for t in titles[1:N_LESSONS + 1]] == [_plain(i["title"]) for i in _expected(built)], titles
        visited = ["index.html"]
        while page.locator("a.right-next").count():
            page.locator("a.right-next").first.click()
            page.wait_for_load_state("load")
            visited.append(urlparse(page.url).path.lstrip("/"))
        assert visited == ["index.html", *expected, "kit.html", "instructors.html"], visited
        back = [visited[-1]]
        while page.locator("a.left-prev").count():
            page.locator("a.left-prev").first.click()
            page.wait_for_load_state("load")
            back.append(urlparse(page.url).path.lstrip("/"))
        assert back == visited[::-1], back
    finally:
        page.close()


def test_each_lesson_shows_its_plots_buttons_and_no_error(built, served, browser):
    from course_tools.launch import BRANCH, REPO

    for n, info in enumerate(_expected(built)):
        page = _page(browser, f"{served}/notebooks/{info['stem']}.html")
        try:
            page.evaluate("() => Promise.all([...document.images].map(i => i.decode().catch(() => null)))")
            sizes = page.eval_on_selector_all(".cell_output img", "els => els.map(e => [e.naturalWidth, "
                                                                   "e.naturalHeight])")
            shown = [s for s in sizes if s[0] > 0 and s[1] > 0]
            assert len(shown) >= info["plots"] >= 1, f"{info['stem']}: {len(shown)} plots shown of {info['plots']}"
            assert page.locator(".output.traceback, .output.error, .output.stderr").count() == 0, info["stem"]
            text = page.locator("article").inner_text()
            assert "Traceback (most recent call last)" not in text and "Colab only" not in text, info["stem"]
            links = page.eval_on_selector_all("a", "els => els.map(e => e.href)")
            colab = f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/notebooks/{info['stem']}.ipynb"
            binder = f"https://mybinder.org/v2/gh/{REPO}/{BRANCH}?urlpath=lab/tree/notebooks/{info['stem']}.ipynb"
            assert colab in links and binder in links, f"{info['stem']}: launch buttons {links}"
            download = f"{served}/_sources/notebooks/{info['stem']}.ipynb"
            assert download in links, f"{info['stem']}: no download of the notebook"
            got = page.request.get(download)
            assert got.ok and json.loads(got.body())["cells"], download
            details = page.locator("article details")
            for i in range(details.count()):  # exercise solutions: collapsed until the reader opens them
                one = details.nth(i)
                assert one.get_attribute("open") is None
                code = one.locator("pre")
                assert code.count() == 0 or not code.first.is_visible(), f"{info['stem']}: a solution is open"
            if details.count():
                details.first.locator("summary").click()
                assert details.first.locator("pre").first.is_visible(), "a solution does not open on click"
            assert not page.errors, page.errors
            if n == 0:
                page.locator(".cell_output img").first.scroll_into_view_if_needed()
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / "lesson.png"))
        finally:
            page.close()
    assert not browser["outside"], f"the site asked the internet for {browser['outside'][:5]}"


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{3,}", text.lower()))


def test_search_finds_a_word_that_only_one_lesson_has(built, served, browser):
    pages = ["index.html", "kit.html", "instructors.html", *[f"notebooks/{i['stem']}.html" for i in _expected(built)]]
    texts = {}
    for rel in pages:
        page = _page(browser, f"{served}/{rel}")
        texts[rel] = page.locator("article").inner_text()
        page.close()
    target = f"notebooks/{_expected(built)[1]['stem']}.html"
    others = set().union(*(_words(t) for rel, t in texts.items() if rel != target))
    stems = {w[:6] for w in others}  # the search stems words: keep clear of any word sharing a stem-like prefix
    word = next((w for w in sorted(_words(texts[target]), key=lambda w: (-len(w), w))
                 if w.isalpha() and len(w) >= 8 and w[:6] not in stems), None)
    assert word, f"no word of {target} is absent from the other pages"
    page = _page(browser, f"{served}/search.html?q={word}")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=20_000)
        hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
        found = sorted({urlparse(h).path.lstrip("/") for h in hits})
        assert found == [target], f"searching {word!r}: {found}"
    finally:
        page.close()
    # and the other way round: a word on every lesson finds them all
    page = _page(browser, f"{served}/search.html?q=objectives")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=20_000)
        hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
        found = {urlparse(h).path.lstrip("/") for h in hits}
        assert {f"notebooks/{i['stem']}.html" for i in _expected(built)} <= found, found
    finally:
        page.close()


def test_no_internal_link_is_broken(built, served, browser):
    """Every page reachable from the home page, every link, image, stylesheet and script on it: the file exists and
    the #fragment names an element of the page it points to."""
    ids: dict[str, set[str]] = {}
    links: dict[str, set[str]] = {}
    queue, seen = deque([f"{served}/index.html"]), {f"{served}/index.html"}
    page = browser["context"].new_page()
    bad: list[str] = []
    try:
        while queue:
            url = queue.popleft()
            if not urlparse(url).path.endswith((".html", "/")):  # an image, a script, a notebook download
                got = page.request.get(url)
                if not got.ok:
                    bad.append(f"{url}: {got.status}")
                continue
            response = page.goto(url)
            if response is None or not response.ok:
                bad.append(f"{url}: {response.status if response else 'no response'}")
                continue
            ids[url] = set(page.eval_on_selector_all("[id], a[name]", "els => els.map(e => e.id || e.name)"))
            found = page.eval_on_selector_all("a[href], link[href], img[src], script[src]",
                                              "els => els.map(e => e.href || e.src)")
            links[url] = {u for u in found if u.startswith(served)}
            for target in links[url]:
                base = urldefrag(target)[0]
                if base not in seen:
                    seen.add(base)
                    queue.append(base)
        for url, targets in links.items():
            for target in targets:
                base, fragment = urldefrag(target)
                if fragment and base in ids and fragment not in ids[base]:
                    bad.append(f"{url} -> {target}: no #{fragment} there")
    finally:
        page.close()
    assert len(ids) >= N_LESSONS + 3, sorted(ids)
    assert not bad, "\n".join(bad[:20])
    assert not browser["outside"], f"the site asked the internet for {browser['outside'][:5]}"


def test_site_works_opened_as_files(built, browser):
    """No server at all: index.html opened from the folder, the styles and the table of contents are there, the
    next link works, and search works (Sphinx loads its index as a script)."""
    out = built["out"]
    page = _page(browser, (out / "index.html").as_uri())
    try:
        assert page.locator("nav.bd-docs-nav a.reference.internal").count() == N_LESSONS + 3  # home, lessons, 2
        colour = page.evaluate("() => getComputedStyle(document.querySelector('nav.bd-docs-nav')).display")
        assert colour != "inline", "no stylesheet: the theme's CSS did not load from the folder"
        page.locator("a.right-next").first.click()
        page.wait_for_load_state("load")
        assert page.url.endswith(f"notebooks/{built['lessons'][0].stem}.html")
        page.goto((out / "search.html").as_uri() + "?q=objectives")
        page.wait_for_selector("#search-results ul.search li", timeout=20_000)
    finally:
        page.close()
