# The Littlest JupyterHub (one server, Unix users jupyter-<name>, systemd limits): the course's part of the hub's
# configuration. Copy to /opt/tljh/config/jupyterhub_config.d/course.py, then `sudo tljh-config reload`
# (workshop/README.md, "The Littlest JupyterHub"). Written for TLJH 1.x; not run in this repository's CI.
#
# Assumes the instructor did, as root:
#   git clone <this repository> /srv/course && cd /srv/course && make setup-instructor   # /srv/course/.venv
#   COURSE_CACHE=/srv/course-kit make models && chmod -R a+rX,go-w /srv/course /srv/course-kit
COURSE = "/srv/course"
KIT = "/srv/course-kit"  # owned by root, mode 755/644: every learner reads it, none can write it
THREADS = "1"  # torch threads per learner; tljh-config's limits.cpu caps the cores

c = get_config()  # noqa: F821 (JupyterHub defines get_config when it loads this file)

# The course's own Python (Python 3.11, the pinned libraries, jupyterhub-singleuser) instead of TLJH's user
# environment: the same command as workshop/jupyterhub_config.py. It syncs ~/transformers-course from the course
# (never overwriting a learner's notebook) and then starts the learner's JupyterLab.
c.Spawner.cmd = [f"{COURSE}/.venv/bin/python", "-m", "course_tools.hub", "singleuser"]
c.Spawner.default_url = "/lab/tree/transformers-course/00_setup_and_tour.ipynb"
c.Spawner.environment = {
    "COURSE_CACHE": KIT,
    "COURSE_NOTEBOOKS": f"{COURSE}/notebooks",
    "COURSE_MODELS": "local",
    "HF_HUB_OFFLINE": "1",
    "COURSE_THREADS": THREADS, "OMP_NUM_THREADS": THREADS, "MKL_NUM_THREADS": THREADS,
    "TOKENIZERS_PARALLELISM": "false", "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}
