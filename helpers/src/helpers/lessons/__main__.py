"""python -m helpers.lessons [topic ...]: print the module each lesson's #@save cells make."""

import sys

from . import module_source, topics
from .. import paths

for topic in sys.argv[1:] or topics():
    print(f"# ======== helpers.lessons.{topic}\n{module_source(paths.lesson(topic))}")
