"""The course's tooling: what authors, instructors and CI run, never what a lesson imports.

See the README's "Repository layout" for which module does what. Nothing in ``helpers`` (the learner's package)
imports from here (tests/test_layout.py checks).
"""
