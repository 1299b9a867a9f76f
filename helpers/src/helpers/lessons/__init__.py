"""The code the lessons teach, one module per lesson, written out from each notebook's ``#@save`` cells.

``notebooks/08_generate.ipynb`` -> ``helpers/lessons/generate.py``: later lessons, the exercise checks and the
benchmark write ``from helpers.lessons.generate import filter_logits`` and get the function exactly as the lesson
wrote it. The modules are generated (``make export``, ``course_tools.export``) and committed; edit the notebook, never
the module: ``tests/test_lessons.py`` and pre-commit fail while a module differs from its notebook.
"""
