"""A workshop's JupyterHub: the learners' server command, course updates, and a hub on 127.0.0.1 to drive.

    python -m helpers.hub serve                 # what `make hub` runs: workshop/jupyterhub_config.py on 127.0.0.1
    python -m helpers.hub singleuser [ARGS]     # what the hub runs for each learner (Spawner.cmd)
    python -m helpers.hub sync-all --homes DIR  # instructor, mid-class: give every learner the new course files
    python -m helpers.hub_bench                 # what `make bench-hub` runs: a class measured on this machine

``singleuser`` copies the course's notebooks into ``~/transformers-course`` with :func:`helpers.workspace.sync` (a
notebook the learner has is never touched; a missing one, new or deleted, is copied in) and then becomes
``jupyterhub-singleuser``. The same command runs under The Littlest JupyterHub and in the Zero to JupyterHub image.

:class:`LocalHub` starts the real ``jupyterhub`` with ``workshop/jupyterhub_config.py`` on free 127.0.0.1 ports and
stops it, with every process it started, whatever happens; :class:`Learner` is one learner driving it through the
hub's REST API, the proxy and the Jupyter server's contents and kernel APIs (tests/test_hub.py, the bench).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
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
from urllib.parse import quote, urlencode

from . import paths, workspace
from helpers.errors import CourseError, run_cli

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

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def run_processes(run: str) -> dict[int, dict[str, str]]:
    """The live processes tagged with this run (hub, proxy, culler, learners' servers, their kernels)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            env = _environ(int(entry.name))
            if env.get(RUN_VAR) == run:
                try:
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                except OSError:
                    continue
                if state != "Z":
                    found[int(entry.name)] = env
    return found


def learner_processes(run: str, name: str) -> list[int]:
    """Pids of one learner's server and kernels (their environment names the learner)."""
    return sorted(pid for pid, env in run_processes(run).items() if env.get("JUPYTERHUB_USER") == name)


def kill_groups(pids: list[int], sig: int = signal.SIGKILL) -> None:
    for pid in pids:
        try:
            os.killpg(os.getpgid(pid), sig)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


def smaps(pid: int) -> dict[str, int]:
    """``/proc/<pid>/smaps_rollup`` in bytes (Rss, Pss, Pss_Anon, Pss_File, Shared_Clean, ...)."""
    out = {}
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        key, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[key.strip()] = int(parts[0]) * 1024
    return out


def kit_mappings(pid: int, kit: Path) -> list[dict[str, Any]]:
    """The process's memory maps of files under ``kit`` (from /proc/<pid>/smaps), in bytes: path, perms, Rss, Pss,
    Private_Dirty. A safetensors file is mapped copy-on-write (``rw-p``, opened read-only): its pages stay the page
    cache's, shared by every learner, until something writes to them; Private_Dirty counts the ones that were."""
    kit_path, out, current = str(Path(kit).resolve()), [], None
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split()
        if parts and "-" in parts[0] and len(parts) >= 5 and ":" not in parts[0]:
            current = None
            if len(parts) >= 6 and parts[5].startswith(kit_path):
                current = {"path": parts[5], "perms": parts[1], "inode": parts[4]}
                out.append(current)
        elif current is not None and len(parts) == 3 and parts[2] == "kB":
            current[parts[0].rstrip(":")] = int(parts[1]) * 1024
    return out


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


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
        self.port = port or _free_port()
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
            "COURSE_HUB_PORT": str(self.port), "COURSE_HUB_HUB_PORT": str(_free_port()),
            "COURSE_HUB_PROXY_API_PORT": str(_free_port()), "COURSE_HUB_PASSWORD": self.password,
            "COURSE_HUB_SERVICE_TOKEN": self.service_token, RUN_VAR: self.run,
            "COURSE_HUB_THREADS": str(self.threads), "COURSE_HUB_POLL_INTERVAL": str(self.poll_interval),
            "COURSE_HUB_PROXY_CMD": str(proxy_command()),
            "CONFIGPROXY_AUTH_TOKEN": secrets.token_hex(24),
        })
        src = str(Path(__file__).resolve().parents[1])  # this checkout's helpers, for the learners' servers too
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60) -> LocalHub:
        self.state.mkdir(parents=True, exist_ok=True)
        log = self.log.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], cwd=self.state,
                                     env=self.env(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=_die_with_parent)
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
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
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


# ---------------------------------------------------------------- one learner

class Learner:
    """One learner, through the hub's front door only (the proxy's port): login, token, server, files, kernels."""

    def __init__(self, hub: LocalHub, name: str):
        self.hub, self.name = hub, name
        self.token: str | None = None
        self.cookies: dict[str, str] = {}

    # -- HTTP
    async def request(self, method: str, path: str, body: Any = None, token: str | None = None,
                      cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                      form: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, Any, Any]:
        from tornado.httpclient import AsyncHTTPClient, HTTPClientError

        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"token {token}"
        if cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        data = None
        if form is not None:
            data = urlencode(form)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body)
            hdrs["Content-Type"] = "application/json"
        if data is None and method in ("POST", "PUT", "PATCH"):
            data = ""
        try:
            reply = await AsyncHTTPClient().fetch(self.hub.url + path, method=method, body=data, headers=hdrs,
                                                  follow_redirects=False, request_timeout=timeout,
                                                  allow_nonstandard_methods=True)
        except HTTPClientError as err:
            reply = err.response
            if reply is None:
                raise
        text = reply.body.decode(errors="replace") if reply.body else ""
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return reply.code, parsed, reply.headers

    async def admin(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        code, data, _ = await self.request(method, path, body, token=self.hub.service_token)
        return code, data

    async def login(self) -> None:
        """The login form, as a browser sends it: GET it for the _xsrf cookie, POST name and password."""
        code, _, headers = await self.request("GET", "/hub/login")
        cookies = _cookies(headers)
        form = {"username": self.name, "password": self.hub.password, "_xsrf": cookies.get("_xsrf", "")}
        code, _, headers = await self.request("POST", "/hub/login?next=", form=form, cookies=cookies)
        cookies.update(_cookies(headers))
        if code != 302 or "jupyterhub-hub-login" not in cookies:
            raise CourseError(f"{self.name} could not log in: HTTP {code}")
        self.cookies = cookies
        # a token of the learner's own, asked for with the learner's cookie (as the hub's token page does)
        code, data, _ = await self.request("POST", f"/hub/api/users/{self.name}/tokens",
                                           {"note": "course test", "expires_in": 3600}, cookies=self.cookies,
                                           headers={"X-XSRFToken": cookies.get("_xsrf", "")})
        if code not in (200, 201):
            raise CourseError(f"{self.name} could not get a token: HTTP {code} {data}")
        self.token = data["token"]

    async def api(self, method: str, path: str, body: Any = None, timeout: float = 60) -> tuple[int, Any]:
        code, data, _ = await self.request(method, path, body, token=self.token, timeout=timeout)
        return code, data

    # -- the learner's server
    async def start_server(self, timeout: float = 180) -> float:
        """Ask the hub for my server and wait until it answers through the proxy. Returns the seconds it took."""
        start = time.perf_counter()
        code, data = await self.api("POST", f"/hub/api/users/{self.name}/server")
        if code not in (201, 202, 400):  # 400: already running
            raise CourseError(f"{self.name}: the hub refused to start the server: HTTP {code} {data}")
        while time.perf_counter() - start < timeout:
            code, data = await self.api("GET", f"/hub/api/users/{self.name}")
            server = (data or {}).get("servers", {}).get("") if code == 200 else None
            if server and server.get("ready"):
                code, _ = await self.api("GET", f"/user/{self.name}/api/status")
                if code == 200:
                    return time.perf_counter() - start
            await asyncio.sleep(0.25)
        raise CourseError(f"{self.name}'s server did not start within {timeout:.0f} s")

    async def stop_server(self, timeout: float = 60) -> None:
        code, data = await self.api("DELETE", f"/hub/api/users/{self.name}/server")
        if code not in (202, 204):
            raise CourseError(f"{self.name}: the hub refused to stop the server: HTTP {code} {data}")
        await self.wait_stopped(timeout)

    async def wait_stopped(self, timeout: float = 60) -> None:
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            code, data = await self.api("GET", f"/hub/api/users/{self.name}")
            if code == 200 and not data.get("servers"):
                return
            await asyncio.sleep(0.25)
        raise CourseError(f"{self.name}'s server did not stop within {timeout:.0f} s")

    # -- the learner's files (Jupyter's contents API, through the proxy)
    def files(self, path: str = "") -> str:
        return f"/user/{self.name}/api/contents/{quote(path)}"

    async def read(self, path: str) -> Any:
        code, data = await self.api("GET", self.files(path))
        if code != 200:
            raise CourseError(f"{self.name}: GET {path}: HTTP {code}")
        return data["content"]

    async def write_notebook(self, path: str, nb: dict) -> None:
        code, data = await self.api("PUT", self.files(path), {"type": "notebook", "format": "json", "content": nb})
        if code not in (200, 201):
            raise CourseError(f"{self.name}: PUT {path}: HTTP {code} {data}")

    # -- running a notebook in my own kernel (Jupyter's kernel API over the websocket)
    async def run_notebook(self, path: str, timeout: float = 600) -> tuple[dict, dict[str, Any]]:
        """Execute every code cell of my copy of ``path`` in a new kernel of my server, in order, and save the
        notebook with its outputs. Returns (notebook, figures: kernel id, seconds, errors)."""
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        nb = await self.read(path)
        code, session = await self.api("POST", f"/user/{self.name}/api/sessions",
                                       {"path": path, "type": "notebook", "name": "", "kernel": {"name": "python3"}})
        if code != 201:
            raise CourseError(f"{self.name}: could not start a kernel: HTTP {code} {session}")
        kernel = session["kernel"]["id"]
        ws_url = (self.hub.url.replace("http", "ws", 1)
                  + f"/user/{self.name}/api/kernels/{kernel}/channels?session_id={uuid.uuid4().hex}")
        ws = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {self.token}"}),
                                     max_message_size=64 * 1024 * 1024)
        errors, start = [], time.perf_counter()
        try:
            for index, cell in enumerate(nb["cells"]):
                if cell["cell_type"] != "code":
                    continue
                source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                outputs, count = await _execute(ws, source, start + timeout)
                cell["outputs"], cell["execution_count"] = outputs, count
                errors += [(index, o.get("ename"), o.get("evalue")) for o in outputs if o["output_type"] == "error"]
        finally:
            ws.close()
        seconds = time.perf_counter() - start
        await self.write_notebook(path, nb)
        return nb, {"kernel": kernel, "seconds": seconds, "errors": errors, "session": session["id"]}

    async def shutdown_kernels(self) -> None:
        code, sessions = await self.api("GET", f"/user/{self.name}/api/sessions")
        for session in (sessions or []) if code == 200 else []:
            await self.api("DELETE", f"/user/{self.name}/api/sessions/{session['id']}")


def _cookies(headers: Any) -> dict[str, str]:
    out = {}
    for raw in headers.get_list("Set-Cookie"):
        name, _, rest = raw.partition("=")
        out[name.strip()] = rest.split(";", 1)[0]
    return out


async def _execute(ws: Any, code: str, deadline: float) -> tuple[list[dict], int | None]:
    """One execute_request on a kernel's websocket; the cell's outputs in nbformat's shape, and its count."""
    msg_id = uuid.uuid4().hex
    await ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "course", "session": msg_id,
                   "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": False},
    }))
    outputs: list[dict] = []
    count, replied, idle = None, False, False
    while not (replied and idle):
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise CourseError("the notebook did not finish in time")
        raw = await asyncio.wait_for(ws.read_message(), remaining)
        if raw is None:
            raise CourseError("the kernel's websocket closed in the middle of a cell")
        if isinstance(raw, bytes):  # binary frames carry buffers (widgets): not outputs
            continue
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["header"]["msg_type"], msg["content"]
        if msg["channel"] == "shell" and kind == "execute_reply":
            replied, count = True, content.get("execution_count")
        elif kind == "status":
            idle = content["execution_state"] == "idle"
        elif kind == "stream":
            if outputs and outputs[-1]["output_type"] == "stream" and outputs[-1]["name"] == content["name"]:
                outputs[-1]["text"] += content["text"]
            else:
                outputs.append({"output_type": "stream", "name": content["name"], "text": content["text"]})
        elif kind in ("display_data", "execute_result"):
            out = {"output_type": kind, "data": content["data"], "metadata": content.get("metadata", {})}
            if kind == "execute_result":
                out["execution_count"] = content.get("execution_count")
            outputs.append(out)
        elif kind == "error":
            outputs.append({"output_type": "error", "ename": content["ename"], "evalue": content["evalue"],
                            "traceback": content["traceback"]})
        elif kind == "clear_output":
            outputs.clear()
    return outputs, count


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
    parser = argparse.ArgumentParser(prog="python -m helpers.hub", description=__doc__.splitlines()[0])
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
