"""JupyterLab in a real browser: every notebook run through the UI, as a learner would.

Starts the venv's JupyterLab on 127.0.0.1 (a free port, a random token) on a temporary copy of the notebooks with
their outputs cleared, opens each notebook in headless Chromium (Debian's ``chromium``, driven by Playwright),
clicks Run > Run All Cells, waits for the kernel to go idle, and checks: every code cell ran, no error output, plots
shown as images, and, in notebook 08 (or wherever it appears), the sampler widget (CSS class ``course-sampler``)
with sliders "temperature", "top-k" and "top-p" that respond to a change. A screenshot of each notebook is saved in
``build/browser/`` and the time each took in ``build/browser/times.md``. The server is stopped at the end, whatever
happens (and if this process dies, the server gets SIGTERM from the kernel: PR_SET_PDEATHSIG).

Without Chromium (``apt-get install chromium``) the test is skipped with one line, except in CI (``CI=true``), where
it fails. Playwright's own browser download is never used.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import nbformat
import pytest

from course_tools import paths
from course_tools.processes import die_with_parent, free_port

pytestmark = pytest.mark.notebooks  # runs kernels: not in `make test-fast`

ROOT = paths.root()
NOTEBOOKS = paths.lessons()
SHOTS = ROOT / "build" / "browser"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SAMPLER = {"notebook": "08", "css": "course-sampler", "sliders": ("temperature", "top-k", "top-p")}
RUN_TIMEOUT_S = int(os.environ.get("COURSE_BROWSER_TIMEOUT", "600"))  # per notebook; each takes well under a minute


def _missing() -> str | None:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements.txt -c constraints.txt)"
    return None


if _missing() and not IN_CI:
    pytest.skip(f"browser test skipped: {_missing()}", allow_module_level=True)


# ---------------------------------------------------------------- the server


def _copy_notebooks(folder: Path) -> None:
    """Every file of notebooks/ (notebooks with their outputs and counts cleared, so all that shows comes from
    this run)."""
    for src in (ROOT / "notebooks").rglob("*"):
        rel = src.relative_to(ROOT / "notebooks")
        if not src.is_file() or any(p.startswith(".") for p in rel.parts):
            continue
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".ipynb":
            nb = nbformat.read(src, as_version=4)
            for cell in nb.cells:
                if cell.cell_type == "code":
                    cell.outputs, cell.execution_count = [], None
            nbformat.write(nb, folder / rel)
        else:
            shutil.copy(src, folder / rel)


def _lab_settings(folder: Path) -> None:
    """Render every cell (no virtual scrolling, so the test sees them all) and ask nothing about news."""
    settings = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                           "checkForUpdates": False},
    }
    for rel, values in settings.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(json.dumps(values))


class Lab:
    def __init__(self, root: Path, tmp: Path) -> None:
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "jupyterlab.log"
        _lab_settings(tmp / "settings")
        env = dict(os.environ)
        env.update(MPLBACKEND="module://matplotlib_inline.backend_inline",  # plots as images, as in `make lab`
                   JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
                   HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
        for key, value in (("COURSE_THREADS", "2"), ("OMP_NUM_THREADS", "2"), ("TRANSFORMERS_VERBOSITY", "error"),
                           ("TOKENIZERS_PARALLELISM", "false"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1")):
            env.setdefault(key, value)
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               "--port-retries=0", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
               "--allow-root", "--expose-app-in-browser", "--LabApp.extension_manager=readonly", "--LabApp.news_url=",
               f"--LabServerApp.user_settings_dir={tmp / 'settings'}",
               f"--LabServerApp.workspaces_dir={tmp / 'workspaces'}"]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=root,
                                     start_new_session=True, preexec_fn=die_with_parent)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not answer in {timeout:.0f} s: {self.log_tail()}")

    def api(self, method: str, path: str) -> Any:
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the server's process group (it shuts its kernels down), SIGKILL after 15 s."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
            except ProcessLookupError:
                pass
        try:  # kernels left in the group after the server has gone
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[tuple[Lab, Path]]:
    problem = _missing()
    if problem:
        pytest.fail(f"CI=true, so the browser test must run: {problem}")
    tmp = tmp_path_factory.mktemp("browser")
    root = tmp / "notebooks"
    root.mkdir()
    _copy_notebooks(root)
    server = Lab(root, tmp)
    try:
        server.wait_ready()
        yield server, root
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def times() -> Iterator[dict[str, float]]:
    out: dict[str, float] = {}
    yield out
    if out:
        SHOTS.mkdir(parents=True, exist_ok=True)
        rows = "\n".join(f"| {name} | {seconds:.1f} s |" for name, seconds in out.items())
        (SHOTS / "times.md").write_text(f"| notebook | open, run all, check |\n|---|---|\n{rows}\n")


# ---------------------------------------------------------------- what the page is asked

PANEL = "window.jupyterapp && window.jupyterapp.shell.currentWidget"
KERNEL_IDLE = f"""() => {{
  const panel = {PANEL};
  const kernel = panel && panel.sessionContext && panel.sessionContext.session &&
                 panel.sessionContext.session.kernel;
  return !!(kernel && kernel.status === 'idle' && panel.content && panel.content.widgets.length);
}}"""
# Done: every non-empty code cell has an execution count and the kernel is idle; or an error stopped the run.
RUN_FINISHED = f"""() => {{
  const panel = {PANEL};
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const code = panel.content.widgets.filter(w => w.model.type === 'code' &&
                                                 w.model.sharedModel.getSource().trim() !== '');
  const errored = code.some(w => w.model.outputs.toJSON().some(o => o.output_type === 'error'));
  const ran = code.every(w => typeof w.model.executionCount === 'number');
  return errored || (ran && kernel && kernel.status === 'idle');
}}"""
CELLS = f"""() => {{
  const panel = {PANEL};
  return panel.content.widgets.map((w, i) => ({{
    index: i,
    type: w.model.type,
    source: w.model.sharedModel.getSource(),
    tags: w.model.getMetadata('tags') || [],
    count: w.model.type === 'code' ? w.model.executionCount : null,
    outputs: w.model.type === 'code' ? w.model.outputs.toJSON().map(o => ({{
      type: o.output_type, name: o.name || null, mimes: Object.keys(o.data || {{}}),
      text: String(o.text || (o.data && o.data['text/plain']) || (o.ename ? o.ename + ': ' + o.evalue : ''))
              .slice(0, 400)}})) : [],
    images: [...w.node.querySelectorAll('.jp-OutputArea-output img')]
              .map(img => ({{width: img.naturalWidth, height: img.naturalHeight}})),
  }}));
}}"""
WATCH_KERNEL = f"""() => {{
  const kernel = {PANEL}.sessionContext.session.kernel;
  window.__courseStatuses = [];
  kernel.statusChanged.connect((_, status) => window.__courseStatuses.push(status));
}}"""


def _open(context: Any, lab: Lab, name: str) -> Any:
    page = context.new_page()
    page.goto(f"{lab.url}/lab/tree/{name}?reset&token={lab.token}")
    page.wait_for_function(KERNEL_IDLE, timeout=120_000, polling=250)
    return page


PENDING = f"""() => {{
  const panel = {PANEL};
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const pending = panel.content.widgets.map((w, i) => [i, w]).filter(([i, w]) => w.model.type === 'code' &&
      w.model.sharedModel.getSource().trim() !== '' && typeof w.model.executionCount !== 'number')
    .map(([i, w]) => i + ': ' + w.model.sharedModel.getSource().split('\\n')[0].slice(0, 80));
  return {{kernel: kernel ? kernel.status : 'none', pending}};
}}"""


def _run_all(page: Any) -> None:
    """Through the menus, as a learner would: Run > Run All Cells."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    try:
        page.wait_for_function(RUN_FINISHED, timeout=RUN_TIMEOUT_S * 1000, polling=500)
    except Exception as err:
        state = page.evaluate(PENDING)
        raise AssertionError(f"Run All Cells had not finished after {RUN_TIMEOUT_S} s: kernel {state['kernel']}, "
                             f"{len(state['pending'])} cell(s) not run: {state['pending'][:5]}") from err
    page.wait_for_timeout(500)  # let images decode and widgets render


def _reference(name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "notebooks" / name, as_version=4)


def _plot_cells(name: str) -> list[int]:
    """Cells that must show a plot: they call plt.show(), or their committed outputs hold an image."""
    out = []
    for i, cell in enumerate(_reference(name).cells):
        if cell.cell_type != "code":
            continue
        stored = any("image/png" in o.get("data", {}) for o in cell.outputs)
        if stored or "plt.show(" in cell.source:
            out.append(i)
    return out


def _problems(cells: list[dict[str, Any]], name: str) -> list[str]:
    found = []
    for cell in cells:
        if cell["type"] != "code" or not cell["source"].strip():
            continue
        where = f"{name} cell {cell['index']}"
        allowed = "raises-exception" in cell["tags"]
        if not isinstance(cell["count"], int):
            found.append(f"{where} did not run")
        for out in cell["outputs"]:
            if out["type"] == "error" and not allowed:
                found.append(f"{where}: error output {out['text']}")
            if out["type"] == "stream" and out["name"] == "stderr" and any(
                    word in out["text"] for word in ("Traceback", "Warning", "Error")):
                found.append(f"{where}: stderr {out['text'][:200]!r}")
    for i in _plot_cells(name):
        images = cells[i]["images"]
        if not any(img["width"] > 0 and img["height"] > 0 for img in images):
            found.append(f"{name} cell {i}: no plot image shown (outputs: {[o['mimes'] for o in cells[i]['outputs']]})")
    return found


def _check_sampler(page: Any, name: str) -> list[str]:
    """The sampler's sliders are there, and each responds: its readout changes and the kernel handles it."""
    sampler = page.locator(f".{SAMPLER['css']}")
    if sampler.count() == 0:
        return [f"{name}: no widget with CSS class {SAMPLER['css']!r} was rendered"]
    sampler = sampler.first
    sampler.scroll_into_view_if_needed()
    found = []
    for label in SAMPLER["sliders"]:
        slider = sampler.locator(".widget-slider", has=page.locator(".widget-label", has_text=label)).first
        if slider.count() == 0 or not slider.is_visible():
            found.append(f"{name}: no visible slider described {label!r} in the sampler")
            continue
        readout = slider.locator(".widget-readout")
        before = readout.inner_text()
        page.evaluate(WATCH_KERNEL)
        handle = slider.locator(".noUi-handle").first
        for key in ("ArrowRight", "ArrowLeft"):  # one of the two moves it, whatever the value is
            handle.focus()
            handle.press(key)
            page.wait_for_timeout(300)
            if readout.inner_text() != before:
                break
        after = readout.inner_text()
        if after == before:
            found.append(f"{name}: slider {label!r} did not move ({before})")
            continue
        try:  # the change reaches the kernel: it goes busy, then idle again
            page.wait_for_function("() => window.__courseStatuses.includes('busy') && "
                                   "window.__courseStatuses[window.__courseStatuses.length - 1] === 'idle'",
                                   timeout=120_000, polling=200)
        except Exception:
            found.append(f"{name}: moving {label!r} ({before} -> {after}) did not reach the kernel")
    errors = sampler.locator("[data-mime-type='application/vnd.jupyter.error']")
    if errors.count():
        found.append(f"{name}: the sampler shows an error: {errors.first.inner_text()[:300]}")
    return found


def _screenshot(page: Any, path: Path) -> None:
    """The sampler if there is one, else the first plot, else the end of the notebook."""
    for selector in (f".{SAMPLER['css']}", ".jp-OutputArea-output img", ".jp-Cell:last-child"):
        target = page.locator(selector)
        if target.count():
            target.first.scroll_into_view_if_needed()
            break
    page.wait_for_timeout(300)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{path.stem}.png"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_jupyterlab(path: Path, lab, browser, times):
    server, _ = lab
    t0 = time.perf_counter()
    page = _open(browser, server, path.name)
    try:
        _run_all(page)
        problems = _problems(page.evaluate(CELLS), path.name)
        if path.name.startswith(SAMPLER["notebook"] + "_") or page.locator(f".{SAMPLER['css']}").count():
            problems += _check_sampler(page, path.name)
            problems += _problems(page.evaluate(CELLS), path.name)  # nothing went wrong while it was used
        assert not problems, "\n".join(dict.fromkeys(problems))
    finally:
        times[path.name] = time.perf_counter() - t0
        try:
            _screenshot(page, path)  # also (above all) when something failed
        finally:
            page.close()
            server.shutdown_kernels()
