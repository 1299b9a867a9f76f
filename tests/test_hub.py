"""A class on the workshop's JupyterHub: the real ``jupyterhub`` and ``configurable-http-proxy`` on 127.0.0.1.

The hub (workshop/jupyterhub_config.py, started by course_tools.hub.LocalHub on free ports with a state folder in a
temporary directory) uses DummyAuthenticator with a password and SimpleLocalProcessSpawner with one home per learner
under the temporary folder (CI runs as root, with no other Unix users). The instructor's course is a temporary copy
of notebooks/ (so the test can update it mid-class); the kit is the already-built one, shared by every kernel and
never written. Everything goes through the hub's public port, as a learner's browser would: login form, the
learner's own token, the hub's REST API, the Jupyter server's contents, sessions and kernel (websocket) APIs.

The tests run in order on one hub, as a class would: six learners log in at once and run lesson 00 at once; they
cannot reach each other's files; the instructor updates the course; at the same moment one learner restarts, one
deletes notebooks and one's server is killed; the hub is stopped and nothing of it is left running. The fixture
stops everything even when a test fails (SIGTERM to the hub, then SIGKILL to every process group tagged with the
run; PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import psutil

from course_tools import paths, workspace
from course_tools.bench_hub import sizing, table
from course_tools.hub import WORKSPACE, LocalHub, learner_processes, proxy_command, sync_all
from helpers.errors import CourseError
from helpers.files import sha256
from hub_harness import Learner, kernel_pid, kit_mappings

ROOT = Path(__file__).resolve().parent.parent
LESSON = "00_setup_and_tour.ipynb"
NAMES = [f"learner{i}" for i in range(1, 7)]  # six learners at once
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
STATE: dict = {}

if not shutil.which("npm") and not proxy_command(install=False).exists() and not IN_CI:
    pytest.skip("hub test skipped: npm is not installed (apt-get install nodejs npm), and JupyterHub's proxy "
                "comes from npm", allow_module_level=True)


def run(coro):
    return asyncio.run(coro)


def kit_snapshot(kit: Path) -> dict[str, str]:
    """Every file of the kit by its content (a learner's kernel writing to the weights would change it)."""
    return {str(p.relative_to(kit)): sha256(p) for p in kit.rglob("*")
            if p.is_file() and "downloads" not in p.relative_to(kit).parts}


def test_sync_all_adds_new_files_and_keeps_every_learners_own(tmp_path):
    course, homes = tmp_path / "course", tmp_path / "home"
    course.mkdir()
    (course / "00_a.ipynb").write_text("course 00 v1")
    (course / "01_b.ipynb").write_text("course 01")
    for name in ("ana", "ben"):
        workspace.sync(course, homes / name / WORKSPACE)
    (homes / "ana" / WORKSPACE / "00_a.ipynb").write_text("ana's edit")
    (homes / "ben" / WORKSPACE / "01_b.ipynb").unlink()
    (homes / "carl").mkdir()  # a learner who never started a server: no workspace, left alone
    (course / "00_a.ipynb").write_text("course 00 v2")
    (course / "02_c.ipynb").write_text("course 02")
    if os.geteuid() == 0:
        os.chown(homes / "ben" / WORKSPACE, 4321, 4321)
    report = sync_all(course, homes)
    assert sorted(report) == ["ana", "ben"]
    assert (homes / "ana" / WORKSPACE / "00_a.ipynb").read_text() == "ana's edit"
    assert report["ana"]["added"] == ["02_c.ipynb"] and report["ana"]["updated_upstream"] == ["00_a.ipynb"]
    assert sorted(report["ben"]["added"]) == ["01_b.ipynb", "02_c.ipynb"]
    assert (homes / "ben" / WORKSPACE / "00_a.ipynb").read_text() == "course 00 v1"  # copied before the change
    assert not (homes / "carl" / WORKSPACE).exists()
    if os.geteuid() == 0:  # as root (TLJH), the new files belong to the learner, not to root
        assert (homes / "ben" / WORKSPACE / "02_c.ipynb").stat().st_uid == 4321
        assert (homes / "ana" / WORKSPACE / "02_c.ipynb").stat().st_uid == 0
    with pytest.raises(CourseError, match="--homes"):
        sync_all(course, tmp_path / "nowhere")


def test_the_readme_sizing_table_is_what_its_figures_give():
    """The README's sizing table comes from the figures it quotes (one learner's anonymous and file memory, the hub's,
    the lesson's CPU seconds) through bench_hub.sizing: a table edited by hand, or a formula changed without
    measuring again, fails here."""
    import re

    readme = (paths.root() / "README.md").read_text()
    section = readme[readme.index("**Sizing**"):readme.index("## The notebooks")]
    anon, files = map(float, re.search(r"of which (\d+) MB anonymous .*? and (\d+) MB file pages", section,
                                       re.S).groups())
    hub_mb = float(re.search(r"The hub, proxy and culler: (\d+) MB", section).group(1))
    cpu = float(re.search(r"The lesson costs ([\d.]+) CPU seconds", section).group(1))
    lesson = re.search(r"\d+ learners ran (\S+\.ipynb)", section).group(1)
    figures = {"marginal_bytes": anon * 1e6, "shared_bytes": files * 1e6, "hub_bytes": hub_mb * 1e6,
               "lesson_cpu_s": cpu, "lesson": lesson}
    rows = re.findall(r"^\| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", section, re.M)
    assert [int(r[0]) for r in rows] == [r["learners"] for r in sizing(figures)], rows
    keys = ("memory_gb", "learners_per_gb", "cores_burst", "learners_per_core")
    for printed, row in zip(rows, sizing(figures)):
        for key, text in zip(keys, printed[1:]):  # the quoted figures are rounded: one unit of the last digit, 1 %
            assert abs(float(text) - row[key]) <= 0.1 + 0.01 * row[key], (
                f"README, {row['learners']} learners, {key}: {text}; its figures give:\n"
                f"{table(figures, sizing(figures))}")


def test_kit_mappings_see_written_and_shared_writable_pages(tmp_path):
    """The kit check of the class test can fail: a written copy-on-write page and a shared writable map show."""
    import mmap

    path = tmp_path / "model.safetensors"
    path.write_bytes(b"\0" * 65536)
    with open(path, "rb") as ro, open(path, "r+b") as rw:
        private = mmap.mmap(ro.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        shared = mmap.mmap(rw.fileno(), 0, flags=mmap.MAP_SHARED)
        try:
            assert private[0] == 0 and shared[0] == 0
            clean = kit_mappings(os.getpid(), tmp_path)
            assert len(clean) == 2 and all(m["private_dirty"] == 0 for m in clean)
            private[0] = 1  # a lesson writing to its weights: the page is copied into private memory
            maps = kit_mappings(os.getpid(), tmp_path)
            assert [m["private_dirty"] >= 4096 for m in maps if m["perms"].endswith("p")] == [True]
            assert [m for m in maps if "w" in m["perms"] and "s" in m["perms"]], "a shared writable map not seen"
            assert path.read_bytes()[0] == 0  # the file itself never changes through the private map
        finally:
            private.close()
            shared.close()


@pytest.fixture(scope="module")
def hub(tmp_path_factory, kit):
    base = tmp_path_factory.mktemp("hub")
    course = base / "course"
    shutil.copytree(ROOT / "notebooks", course, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    before = kit_snapshot(kit)
    local = LocalHub(base / "state", course=course, kit=kit, threads=1, poll_interval=1)
    try:
        local.start()
        STATE.update(kit_before=before)
        yield local
    finally:
        local.stop()
        assert not local.processes(), "processes of the hub's run are still alive after stop()"


def note(nb: dict) -> str:
    """The text of the notebook's second cell, where each learner wrote their note (str or list of lines)."""
    source = nb["cells"][1]["source"]
    return source if isinstance(source, str) else "".join(source)


def learners(hub) -> list[Learner]:
    if "learners" not in STATE:
        STATE["learners"] = [Learner(hub, name) for name in NAMES]
    return STATE["learners"]


def home(hub, name: str) -> Path:
    return hub.state / "home" / name / WORKSPACE


def test_six_learners_run_a_lesson_at_once(hub, kit):
    class_ = learners(hub)

    async def one(learner: Learner):
        await learner.login()
        started = await learner.start_server()
        listing = await learner.read(WORKSPACE)
        nb, figures = await learner.run_notebook(f"{WORKSPACE}/{LESSON}")
        # the learner's edit: a note of their own at the top, saved through the contents API
        nb["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": f"My notes ({learner.name})",
                               "id": f"note-{learner.name}"})
        await learner.write_notebook(f"{WORKSPACE}/{LESSON}", nb)
        return started, listing, nb, figures

    async def everyone():
        return await asyncio.gather(*(one(learner) for learner in class_))

    results = run(everyone())
    course = sorted(p.name for p in hub.course.glob("[0-9][0-9]_*.ipynb"))
    for learner, (started, listing, nb, figures) in zip(class_, results):
        assert started > 0
        names = sorted(item["name"] for item in listing if item["name"].endswith(".ipynb"))
        assert names == course, f"{learner.name} got {names}, not the course's {course}"
        assert figures["errors"] == [], f"{learner.name}: cells with an error output: {figures['errors']}"
        code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(c["execution_count"] for c in code_cells), f"{learner.name}: a code cell did not run"
        stderr = [o["text"] for c in code_cells for o in c["outputs"] if o.get("name") == "stderr"]
        assert not any("❌" in text for text in stderr), f"{learner.name}: a course error was printed: {stderr}"
        stored = json.loads((hub.course / LESSON).read_text())
        stored_code = [c for c in stored["cells"] if c["cell_type"] == "code"]
        for ours, theirs in zip(code_cells, stored_code):  # every cell that shows something in the course did here
            assert bool(ours["outputs"]) == bool(theirs["outputs"]), f"{learner.name}: {ours['source'][:60]!r}"
        # their own copy, on their own disk: the note is in theirs and in nobody else's
        on_disk = json.loads((home(hub, learner.name) / LESSON).read_text())
        assert note(on_disk) == f"My notes ({learner.name})"
    STATE["start_s"] = [r[0] for r in results]
    STATE["lesson_s"] = [r[3]["seconds"] for r in results]

    # the kit: one folder for every kernel, mapped read-only, never written (we are root, so permissions cannot
    # show it: the kernels' memory maps and open files do)
    kit_real = str(kit.resolve())
    inodes = {}
    for learner in class_:
        pids = learner_processes(hub.run, learner.name)
        kernels = [p for p in pids if any("ipykernel" in part for part in psutil.Process(p).cmdline())]
        assert len(kernels) == 1 and kernels[0] == kernel_pid(hub, learner.name), f"{learner.name}: {kernels}"
        mapped = kit_mappings(kernels[0], kit)
        assert mapped, f"{learner.name}'s kernel maps no file of the kit {kit_real}"
        # copy-on-write maps (rw-p) of read-only files never reach the file; a shared writable one (rw-s) would
        assert not [m for m in mapped if "w" in m["perms"] and "s" in m["perms"]], f"{learner.name}: {mapped}"
        # and no page of the weights was written to (copied into the learner's private memory)
        assert sum(m["private_dirty"] for m in mapped) == 0, f"{learner.name} copied kit pages: {mapped}"
        inodes[learner.name] = {os.stat(m["path"]).st_ino for m in mapped if m["path"].endswith(".safetensors")}
        for opened in psutil.Process(kernels[0]).open_files():
            if opened.path.startswith(kit_real):
                assert opened.flags & os.O_ACCMODE == os.O_RDONLY, f"{learner.name}: {opened.path} is open for writing"
    shared = set.intersection(*inodes.values())
    assert shared, "the learners' kernels do not map the same safetensors files"
    assert kit_snapshot(kit) == STATE["kit_before"], "the kit changed while the class ran"
    print(f"\nstart s: {[round(s, 1) for s in STATE['start_s']]}; lesson s: {[round(s, 1) for s in STATE['lesson_s']]}")


def test_no_learner_reaches_another(hub):
    a, b = learners(hub)[:2]

    async def check():
        own, _ = await a.api("GET", a.files(WORKSPACE))
        assert own == 200, "a learner cannot read their own files: the checks below would prove nothing"
        for method, body in (("GET", None), ("PUT", {"type": "file", "format": "text", "content": "x"})):
            code, _ = await a.api(method, b.files(f"{WORKSPACE}/{LESSON}" if method == "GET" else "intruder.txt"),
                                  body)
            assert code in (403, 404), f"{a.name}'s token: {method} on {b.name}'s files gave HTTP {code}"
        code, _ = await a.api("POST", f"/user/{b.name}/api/sessions",
                              {"path": "x.ipynb", "type": "notebook", "name": "", "kernel": {"name": "python3"}})
        assert code in (403, 404), f"{a.name}'s token started a kernel in {b.name}'s server: HTTP {code}"
        for method, path in (("GET", f"/hub/api/users/{b.name}"), ("DELETE", f"/hub/api/users/{b.name}/server"),
                             ("POST", f"/hub/api/users/{b.name}/tokens")):
            code, _ = await a.api(method, path, {} if method == "POST" else None)
            assert code in (403, 404), f"{a.name}'s token: {method} {path} gave HTTP {code}"
        # a's login cookie on b's server: redirected to the hub's OAuth, which refuses a
        code, _, headers = await a.request("GET", b.files(WORKSPACE), cookies=a.cookies)
        hops = 0
        while code in (301, 302, 303) and hops < 5:
            location = headers["Location"]
            path = location.split("127.0.0.1:%d" % hub.port, 1)[-1]
            code, _, headers = await a.request("GET", path, cookies=a.cookies)
            hops += 1
        assert code in (403, 404), f"{a.name}'s cookie reached {b.name}'s files: HTTP {code} after {hops} redirects"

    run(check())
    assert not (home(hub, b.name).parent / "intruder.txt").exists()


def test_course_update_mid_class_keeps_edits(hub):
    # the instructor changes lesson 00 and adds a lesson while the servers run (as `git pull` would)
    lesson = json.loads((hub.course / LESSON).read_text())
    lesson["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "A new closing note", "id": "upd"})
    (hub.course / LESSON).write_text(json.dumps(lesson, indent=1))
    shutil.copyfile(hub.course / "01_pipelines.ipynb", hub.course / "12_update.ipynb")
    report = sync_all(hub.course, hub.state / "home")  # `python -m course_tools.hub sync-all`
    assert sorted(report) == NAMES
    for name, result in report.items():
        assert result["added"] == ["12_update.ipynb"], f"{name}: {result}"
        assert result["updated_upstream"] == [LESSON], f"{name}: the sync did not say the course has a newer 00"

    async def check():
        for learner in learners(hub):  # through their running servers, at once: no restart needed
            nb = await learner.read(f"{WORKSPACE}/{LESSON}")
            assert note(nb) == f"My notes ({learner.name})", f"{learner.name}'s edit was lost"
            assert "A new closing note" not in json.dumps(nb), "the update overwrote a learner's notebook"
            names = [item["name"] for item in await learner.read(WORKSPACE)]
            assert "12_update.ipynb" in names, f"{learner.name} did not get the new lesson"

    run(check())


def test_restart_delete_and_kill_recover(hub):
    """Three learners at once: one restarts (as after culling), one deleted two notebooks, one's server is killed."""
    restarter, deleter, victim = learners(hub)[:3]
    doomed = learner_processes(hub.run, victim.name)
    assert doomed, f"{victim.name} has no processes to kill"

    async def restart():  # the start syncs again and still keeps the edit
        await restarter.stop_server()
        await restarter.start_server()
        assert note(await restarter.read(f"{WORKSPACE}/{LESSON}")) == f"My notes ({restarter.name})"

    async def delete():
        for name in ("01_pipelines.ipynb", "02_tokenizers.ipynb"):
            code, _ = await deleter.api("DELETE", deleter.files(f"{WORKSPACE}/{name}"))
            assert code == 204
        assert "01_pipelines.ipynb" not in [item["name"] for item in await deleter.read(WORKSPACE)]
        await deleter.stop_server()
        await deleter.start_server()
        names = [item["name"] for item in await deleter.read(WORKSPACE)]
        assert {"01_pipelines.ipynb", "02_tokenizers.ipynb"} <= set(names), "deleted notebooks did not come back"
        assert note(await deleter.read(f"{WORKSPACE}/{LESSON}")) == f"My notes ({deleter.name})"

    async def kill():  # the server and its kernel, SIGKILL, as the out-of-memory killer would
        for pid in doomed:
            try:
                os.killpg(os.getpgid(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        await victim.wait_stopped(timeout=30)  # the hub notices (poll_interval 1 s here)
        await victim.start_server()
        nb = await victim.read(f"{WORKSPACE}/{LESSON}")
        assert note(nb) == f"My notes ({victim.name})", "the killed learner's work was lost"
        assert any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), "its saved outputs are gone"

    async def everyone():
        await asyncio.gather(restart(), delete(), kill())

    run(everyone())
    restored = json.loads((home(hub, deleter.name) / "02_tokenizers.ipynb").read_text())
    assert restored == json.loads((hub.course / "02_tokenizers.ipynb").read_text())
    assert not set(doomed) & set(learner_processes(hub.run, victim.name)), "a killed process is still alive"


def test_nothing_left_running(hub):
    assert len({pid for name in NAMES for pid in learner_processes(hub.run, name)}) >= len(NAMES)
    services = {env.get("JUPYTERHUB_SERVICE_NAME") for env in hub.processes().values()}
    assert "idle-culler" in services, "the idle culler is not running"
    # the class is over: the culler (the hub's own runs with --timeout=3600; this one with 2 s) stops every idle
    # server, and the learners' files stay
    culler = subprocess.Popen([sys.executable, "-m", "jupyterhub_idle_culler", f"--url={hub.url}/hub/api",
                               "--timeout=2", "--cull-every=2"], env={**os.environ, "JUPYTERHUB_API_TOKEN":
                              hub.service_token, "COURSE_HUB_RUN": hub.run}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and any(learner_processes(hub.run, name) for name in NAMES):
            time.sleep(1)
    finally:
        culler.kill()
        culler.wait(10)
    assert not [name for name in NAMES if learner_processes(hub.run, name)], "idle servers were not culled"
    assert all(note(json.loads((home(hub, name) / LESSON).read_text())) == f"My notes ({name})" for name in NAMES)
    leftover = hub.stop()
    assert not hub.processes(), f"still alive after stopping the hub: {sorted(hub.processes())}"
    assert hub.proc.returncode is not None
    # the hub stopped its servers (and they their kernels) itself on SIGTERM: nothing needed killing afterwards
    assert leftover == [], f"the hub left processes behind that had to be killed: {leftover}"
    with pytest.raises(ConnectionRefusedError):  # nothing listens on the hub's public port any more
        socket.create_connection(("127.0.0.1", hub.port), timeout=5).close()
