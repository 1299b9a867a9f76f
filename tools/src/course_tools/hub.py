"""A workshop's JupyterHub: the learners' server command, course updates, and a hub on 127.0.0.1 to drive.

    python -m course_tools.hub serve                 # what `make hub` runs: workshop/jupyterhub_config.py on 127.0.0.1
    python -m course_tools.hub singleuser [ARGS]     # what the hub runs for each learner (Spawner.cmd)
    python -m course_tools.hub sync-all --homes DIR  # instructor, mid-class: give every learner the new course files

``singleuser`` copies the course's notebooks into ``~/transformers-course`` with :func:`course_tools.workspace.sync` (a
notebook the learner has is never touched; a missing one, new or deleted, is copied in) and then becomes
``jupyterhub-singleuser``. The same command runs under The Littlest JupyterHub and in the Zero to JupyterHub image.

:class:`LocalHub` starts the real ``jupyterhub`` with ``workshop/jupyterhub_config.py`` on free 127.0.0.1 ports and
stops it, with every process it started, whatever happens (``make hub``, the hub test and ``make bench-hub``, whose
learners, driving it through its REST API and their servers' kernels, live with the tests: tests/hub_harness.py).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from helpers.errors import CourseError, run_cli

from . import paths, workspace
from .processes import die_with_parent, free_port, kill_groups

WORKSPACE = "transformers-course"  # the learner's folder in their home
CONFIG = Path(__file__).resolve().parents[3] / "workshop" / "jupyterhub_config.py"
PROXY_PACKAGE = "configurable-http-proxy"
RUN_VAR = "COURSE_HUB_RUN"  # every process of one hub run carries this tag in its environment


# ---------------------------------------------------------------- inside a learner's server

def singleuser(argv: list[str]) -> None:
    """Sync the learner's notebooks from ``COURSE_NOTEBOOKS`` into ``COURSE_WORKSPACE`` (default
    ``~/transformers-course``), then exec ``jupyterhub-singleuser`` with ``argv``."""
    course = Path(os.environ.get("COURSE_NOTEBOOKS") or paths.notebooks_dir())
    target = Path(os.environ.get("COURSE_WORKSPACE") or Path.home() / WORKSPACE)  # Z2JH: on the home volume
    try:
        result = workspace.sync(course, target)
        print(f"[course] {target}: {len(result['added'])} file(s) copied from {course}, "
              f"{len(result['kept'])} of the learner's kept; newer in the course: {result['updated_upstream']}",
              file=sys.stderr, flush=True)
    except (CourseError, OSError) as exc:  # a server without its notebooks is better than no server
        print(f"[course] could not sync {target} from {course}: {exc}", file=sys.stderr, flush=True)
    os.execv(sys.executable, [sys.executable, "-m", "jupyterhub.singleuser", *argv])


def sync_all(course: Path, homes: Path) -> dict[str, dict[str, list[str]]]:
    """Sync every learner's workspace under ``homes`` (``homes/<learner>/transformers-course``) from ``course``.

    For an instructor who updated the course mid-class: new lessons appear in every learner's file browser at
    once; a notebook a learner has stays as it is. Run as root (TLJH), new files are given to the folder's owner.
    """
    if not homes.is_dir():
        raise CourseError(f"{homes} is not a folder: give the folder holding the learners' homes (--homes).")
    report = {}
    for home in sorted(p for p in homes.iterdir() if (p / WORKSPACE).is_dir()):
        target = home / WORKSPACE
        result = workspace.sync(course, target)
        owner = target.stat()
        if os.geteuid() == 0 and owner.st_uid != 0:
            for name in [*result["added"], workspace.RECORD]:
                path = target / name
                while path != target:
                    os.chown(path, owner.st_uid, owner.st_gid)
                    path = path.parent
        report[home.name] = result
    return report


# ---------------------------------------------------------------- the proxy from npm

def proxy_command(install: bool = True) -> Path:
    """``configurable-http-proxy`` from workshop/package.json (``npm ci`` into workshop/node_modules on first use)."""
    folder = CONFIG.parent
    exe = folder / "node_modules" / ".bin" / PROXY_PACKAGE
    if exe.exists() or not install:
        return exe
    npm = shutil.which("npm")
    if npm is None:
        raise CourseError("JupyterHub's proxy comes from npm, and npm is not installed: "
                          "apt-get install nodejs npm (Node 20 or newer), then run this again.")
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0 or not exe.exists():
        raise CourseError(f"npm ci --prefix {folder} failed: {done.stderr.strip()[-500:]}")
    return exe


# ---------------------------------------------------------------- processes of one run

def run_processes(run: str) -> dict[int, dict[str, str]]:
    """The live processes tagged with this run (hub, proxy, culler, learners' servers, their kernels): pid -> its
    environment."""
    import psutil

    found = {}
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            env = proc.environ()
            if env.get(RUN_VAR) == run and proc.status() != psutil.STATUS_ZOMBIE:
                found[proc.pid] = env
        except (psutil.Error, OSError):  # gone meanwhile, or not ours to read
            continue
    return found


def learner_processes(run: str, name: str) -> list[int]:
    """Pids of one learner's server and kernels (their environment names the learner)."""
    return sorted(pid for pid, env in run_processes(run).items() if env.get("JUPYTERHUB_USER") == name)


class LocalHub:
    """The real JupyterHub (workshop/jupyterhub_config.py) on free 127.0.0.1 ports, with a state folder of its own.

    Use as a context manager: on exit the hub gets SIGTERM (it stops the learners' servers), then every process
    tagged with this run that is still alive, whatever its process group, is killed.
    """

    def __init__(self, state: Path, course: Path | None = None, kit: Path | None = None, threads: int = 1,
                 poll_interval: int = 30, extra_env: dict[str, str] | None = None, port: int | None = None):
        self.state = Path(state).resolve()
        self.course = Path(course or paths.notebooks_dir()).resolve()
        self.kit = Path(kit or os.environ.get("COURSE_CACHE") or Path.home() / ".cache" / "transformers-course")
        self.run = uuid.uuid4().hex
        self.password = secrets.token_urlsafe(12)
        self.service_token = secrets.token_hex(24)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.threads = threads
        self.poll_interval = poll_interval
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.log = self.state / "jupyterhub.log"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "COURSE_HUB_STATE": str(self.state), "COURSE_NOTEBOOKS": str(self.course), "COURSE_CACHE": str(self.kit),
            "COURSE_HUB_PORT": str(self.port), "COURSE_HUB_HUB_PORT": str(free_port()),
            "COURSE_HUB_PROXY_API_PORT": str(free_port()), "COURSE_HUB_PASSWORD": self.password,
            "COURSE_HUB_SERVICE_TOKEN": self.service_token, RUN_VAR: self.run,
            "COURSE_HUB_THREADS": str(self.threads), "COURSE_HUB_POLL_INTERVAL": str(self.poll_interval),
            "COURSE_HUB_PROXY_CMD": str(proxy_command()),
            "CONFIGPROXY_AUTH_TOKEN": secrets.token_hex(24),
        })
        # this checkout's two packages (the learner's helpers, and this tooling for `singleuser`), for every server
        root = paths.root()
        src = [str(root / "helpers" / "src"), str(root / "tools" / "src")]
        env["PYTHONPATH"] = os.pathsep.join(p for p in (*src, env.get("PYTHONPATH", "")) if p)
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60) -> LocalHub:
        self.state.mkdir(parents=True, exist_ok=True)
        log = self.log.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], cwd=self.state,
                                     env=self.env(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=die_with_parent)
        log.close()
        deadline = time.monotonic() + timeout
        import urllib.request
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CourseError(f"jupyterhub exited with {self.proc.returncode}: see {self.log}\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api/", timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise CourseError(f"jupyterhub did not answer on {self.url} within {timeout:.0f} s: see {self.log}")

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def processes(self) -> dict[int, dict[str, str]]:
        return run_processes(self.run)

    def stop(self, grace: float = 20) -> list[int]:
        """Stop the hub (SIGTERM: it stops the servers), then kill whatever of this run is left. Returns the pids
        that had to be killed after the grace period."""
        deadline = time.monotonic() + grace
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        # The proxy and the services got the same SIGTERM and may still be exiting when the hub is gone (on a
        # loaded machine, seconds later): give them what is left of the grace period before calling them leftovers.
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.2)
        leftover = sorted(self.processes())
        for _ in range(50):
            pids = sorted(self.processes())
            if not pids:
                break
            kill_groups(pids)
            time.sleep(0.1)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        return leftover

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# ---------------------------------------------------------------- command line

def serve(args: argparse.Namespace) -> int:
    """``make hub``: the workshop's hub on 127.0.0.1 in the foreground until Ctrl-C."""
    state = Path(args.state).resolve()
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", args.port))
        except OSError:
            raise CourseError(f"port {args.port} on 127.0.0.1 is in use (another hub?): stop it, or choose another "
                              f"port: COURSE_HUB_PORT={args.port + 1} make hub") from None
    hub = LocalHub(state, port=args.port, threads=args.threads)
    hub.password = os.environ.get("COURSE_HUB_PASSWORD") or hub.password
    hub.extra_env = {"COURSE_HUB_SERVICE_TOKEN": ""}  # no admin service token for a hand-run hub
    print(f"JupyterHub for the course on {hub.url}/ : log in with any name (e.g. learner1; 'instructor' is admin) "
          f"and the password {hub.password}\n  learners' homes: {state / 'home'}; kit: {hub.kit}; log: {hub.log}\n"
          f"  Ctrl-C stops the hub and every learner's server.", flush=True)
    try:
        hub.start()
        while hub.proc.poll() is None:
            time.sleep(0.5)
        print(f"jupyterhub exited with {hub.proc.returncode}; the end of {hub.log}:\n{hub.tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping the hub and every learner's server ...", flush=True)
        return 0
    finally:
        hub.stop()


def main() -> int:
    if sys.argv[1:2] == ["singleuser"]:  # everything after it is jupyterhub-singleuser's own arguments
        singleuser(sys.argv[2:])
    parser = argparse.ArgumentParser(prog="python -m course_tools.hub", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sv = sub.add_parser("serve", help="the workshop hub on 127.0.0.1 (make hub)")
    sv.add_argument("--state", default=paths.root() / "build" / "hub", help="hub database, learners' homes, log")
    sv.add_argument("--port", type=int, default=int(os.environ.get("COURSE_HUB_PORT", "8000")))
    sv.add_argument("--threads", type=int, default=1, help="torch threads per learner's kernel")
    sa = sub.add_parser("sync-all", help="copy new course files into every learner's workspace (never overwrites)")
    sa.add_argument("--course", type=Path, default=Path(os.environ.get("COURSE_NOTEBOOKS") or paths.notebooks_dir()))
    sa.add_argument("--homes", type=Path, default=paths.root() / "build" / "hub" / "home")
    sub.add_parser("singleuser", help="(run by the hub) sync the notebooks, then start jupyterhub-singleuser")
    args = parser.parse_args()
    if args.cmd == "serve":
        proxy_command()
        return serve(args)
    if args.cmd == "sync-all":
        for name, result in sync_all(args.course, args.homes).items():
            print(f"{name}: {len(result['added'])} new file(s), {len(result['kept'])} kept as they are"
                  + (f"; newer in the course (theirs kept): {', '.join(result['updated_upstream'])}"
                     if result["updated_upstream"] else ""))
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    run_cli(main)
