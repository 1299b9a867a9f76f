"""A local Sphinx extension of the course website (``sphinx.local_extensions`` in _config.yml).

sphinx-thebe 0.3.1 registers its inline configuration script once per read phase, and Jupyter Book 1 ends up with two
identical ``const THEBE_JS_URL = ...`` scripts on every page: the second throws "Identifier 'THEBE_JS_URL' has already
been declared" in the browser. Each page keeps one copy of each script.
"""

from __future__ import annotations

from typing import Any


def _one_of_each_script(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    seen, kept = set(), []
    for script in context.get("script_files", []):
        # the same script may be registered with filename None and with "" (an inline body): both are one script
        key = (getattr(script, "filename", None) or "", repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app: Any) -> dict[str, Any]:
    # last (999): after every theme and extension has added its scripts to the page
    app.connect("html-page-context", _one_of_each_script, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
