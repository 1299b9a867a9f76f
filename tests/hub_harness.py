"""The hub test's harness: one learner driving the workshop hub through its front door, and what their processes
hold in memory. Used by tests/test_hub.py and ``make bench-hub`` (course_tools.bench_hub).

:class:`Learner` logs in with the login form, asks for a token of its own, starts and stops its server, reads and
writes files through the Jupyter server's contents API, and runs a notebook in a kernel of its own server over the
kernel's websocket (Jupyter's messaging protocol: one ``execute_request`` a cell). :func:`kit_mappings` and
:func:`memory` read a process's memory maps with psutil.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from course_tools.hub import LocalHub, learner_processes
from helpers.errors import CourseError


def kit_mappings(pid: int, kit: Path) -> list[dict[str, Any]]:
    """The process's memory maps of files under ``kit``, in bytes: path, perms, rss, pss, private_dirty. A safetensors
    file is mapped copy-on-write (``rw-p``, opened read-only): its pages stay the page cache's, shared by every
    learner, until something writes to them; private_dirty counts the ones that were."""
    import psutil

    kit_path = str(Path(kit).resolve())
    return [{"path": m.path, "perms": m.perms, "rss": m.rss, "pss": m.pss, "private_dirty": m.private_dirty}
            for m in psutil.Process(pid).memory_maps(grouped=False) if m.path.startswith(kit_path)]


def memory(pid: int) -> dict[str, int]:
    """A process's resident memory in bytes: rss, pss, and the anonymous part (its own alone; the rest of its pss is
    file pages: libraries, the kit's weights)."""
    import psutil

    proc = psutil.Process(pid)
    full = proc.memory_full_info()
    anonymous = sum(m.anonymous for m in proc.memory_maps(grouped=False))
    return {"rss": full.rss, "pss": full.pss, "anonymous": anonymous}


def kernel_pid(hub: LocalHub, name: str) -> int:
    """The pid of a learner's (one) kernel."""
    import psutil

    for pid in learner_processes(hub.run, name):
        if any("ipykernel" in part for part in psutil.Process(pid).cmdline()):
            return pid
    raise CourseError(f"{name} has no kernel running")


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


