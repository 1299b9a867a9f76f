# JupyterHub for a class of "Transformers, under the hood" on one machine: what `make hub` runs, and what
# tests/test_hub.py and `make bench-hub` start (python -m course_tools.hub serve sets the COURSE_HUB_* variables below).
#
# Every learner gets:
#   - their own server, started by JupyterHub, with their own home folder (here: COURSE_HUB_STATE/home/<name>);
#   - their own copy of the notebooks in ~/transformers-course, made at every server start by the course's
#     workspace sync (python -m course_tools.workspace): a notebook the learner has is never touched, a missing one
#     (new lesson, or one they deleted) is copied in (workshop/README.md says why this and not nbgitpuller);
#   - the one shared model kit (COURSE_CACHE), built once by the instructor and only read by every kernel;
#   - a thread budget (COURSE_HUB_THREADS per learner) so 30 kernels do not each start one thread per core;
#   - idle culling: a server nobody used for COURSE_HUB_CULL_TIMEOUT seconds is stopped (its files stay).
#
# Authentication here is JupyterHub's DummyAuthenticator with one shared password (COURSE_HUB_PASSWORD): fine on
# 127.0.0.1 for an instructor trying the hub, NOT for a class. The spawner is SimpleLocalProcessSpawner: every
# server runs as the hub's own Unix user, so learners are separated by the hub (tokens, cookies, the proxy), not by
# the operating system, and the memory limit is only advertised (MEM_LIMIT), not enforced. For a real class use
# The Littlest JupyterHub (workshop/tljh/: Unix users, systemd memory limits) or Zero to JupyterHub
# (workshop/z2jh/: one pod per learner, Kubernetes limits).
import os
import secrets
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub defines get_config when it loads this file)

env = os.environ.get
ROOT = Path(__file__).resolve().parent.parent
STATE = Path(env("COURSE_HUB_STATE") or ROOT / "build" / "hub").resolve()
STATE.mkdir(parents=True, exist_ok=True)
COURSE = Path(env("COURSE_NOTEBOOKS") or ROOT / "notebooks").resolve()  # the instructor's copy: git pull updates it
KIT = Path(env("COURSE_CACHE") or Path.home() / ".cache" / "transformers-course").expanduser().resolve()
THREADS = env("COURSE_HUB_THREADS", "1")
RUN = env("COURSE_HUB_RUN", "")  # a tag in every process of this hub's run (tests and the bench find them by it)

# ---- where the hub listens and keeps its state (127.0.0.1 only: nothing here is meant for a network)
c.JupyterHub.ip = env("COURSE_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(env("COURSE_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env("COURSE_HUB_HUB_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('COURSE_HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [env("COURSE_HUB_PROXY_CMD") or str(ROOT / "workshop" / "node_modules" / ".bin"
                                                                      / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every learner's server
c.JupyterHub.last_activity_interval = int(env("COURSE_HUB_ACTIVITY_INTERVAL", "300"))

# ---- who may log in
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = env("COURSE_HUB_PASSWORD") or secrets.token_urlsafe(12)
c.Authenticator.allow_all = True
c.Authenticator.admin_users = set(filter(None, env("COURSE_HUB_ADMINS", "instructor").split(",")))

# ---- each learner's server
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
# course_tools.hub singleuser: sync the learner's notebooks from COURSE (never overwriting one), then start
# jupyterhub-singleuser. The same command runs on TLJH and in Z2JH's image, so a learner sees the same thing.
c.Spawner.cmd = [sys.executable, "-m", "course_tools.hub", "singleuser"]
c.Spawner.args = ["--allow-root"] if os.geteuid() == 0 else []  # JupyterLab refuses root without it
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab/tree/transformers-course/00_setup_and_tour.ipynb"
c.Spawner.start_timeout = int(env("COURSE_HUB_START_TIMEOUT", "120"))
c.Spawner.http_timeout = int(env("COURSE_HUB_START_TIMEOUT", "120"))
c.Spawner.poll_interval = int(env("COURSE_HUB_POLL_INTERVAL", "30"))  # how soon a killed server is noticed
c.Spawner.mem_limit = env("COURSE_HUB_MEM_LIMIT", "2G")  # enforced by TLJH/Z2JH; here only shown (MEM_LIMIT)
c.Spawner.cpu_limit = float(env("COURSE_HUB_CPU_LIMIT", "1"))
c.Spawner.env_keep = ["PATH", "PYTHONPATH", "LANG", "LC_ALL", "VIRTUAL_ENV"]
c.Spawner.environment = {
    "COURSE_CACHE": str(KIT),  # one kit for everyone: every kernel maps the same safetensors files
    "COURSE_NOTEBOOKS": str(COURSE),
    "COURSE_MODELS": env("COURSE_MODELS", "local"),
    "HF_HUB_OFFLINE": "1" if env("COURSE_MODELS", "local") == "local" else "0",
    "COURSE_THREADS": THREADS, "OMP_NUM_THREADS": THREADS, "MKL_NUM_THREADS": THREADS,
    "TOKENIZERS_PARALLELISM": "false", "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "COURSE_HUB_RUN": RUN,
}

# ---- services: the idle culler, and (tests, bench) one admin service with a token
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                f"--timeout={env('COURSE_HUB_CULL_TIMEOUT', '3600')}", "--cull-every=60"],
    "environment": {"COURSE_HUB_RUN": RUN},
}]
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}]
if env("COURSE_HUB_SERVICE_TOKEN"):
    c.JupyterHub.services.append({"name": "course-admin", "api_token": env("COURSE_HUB_SERVICE_TOKEN")})
    c.JupyterHub.load_roles.append({"name": "admin", "services": ["course-admin"]})
