"""What the notebooks of 'Transformers, under the hood' import: the set-up call, the model kit, the lessons' own code
(``helpers.lessons``), the exercise checks, plots and tables. The README's "Repository layout" says which module does
what; the course's tooling (``course_tools``, in ``tools/``) is never imported from here.
"""

from .env import setup

__all__ = ["setup"]
__version__ = "0.1.0"
