"""Interactive controls of the course (ipywidgets), built so that a saved notebook stays deterministic.

:func:`sampler` (notebook 08) puts sliders for temperature, top-k and top-p over one set of real next-token logits and
redraws which tokens survive and their renormalised probabilities. The filtering math is not here: the notebook passes
its own ``filter_fn`` in, so the widget shows exactly the code the lesson wrote.

Run headless (nbclient, papermill, nbval) there is no browser to draw a widget, and notebooks are committed without
widget state. So the call first draws a static figure for the starting values with the same drawing function, and the
widget's own text form is one fixed line. In JupyterLab the widget (CSS class ``course-sampler``) shows its chart as a
PNG image, replaced whenever a slider is released, and a one-line summary of what is kept.
"""

from __future__ import annotations

import io
from typing import Any, Callable

SAMPLER_CLASS = "course-sampler"


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()


def sampler_state(logits: Any, filter_fn: Callable[..., Any], temperature: float, top_k: int, top_p: float) -> dict:
    """What the sampler shows for one setting: the filtered logits, the kept token ids (most likely first) and the
    probabilities before (temperature 1, no filter) and after (filters, then softmax, which renormalises)."""
    import torch

    logits = torch.as_tensor(logits).detach().float().reshape(-1)
    filtered = filter_fn(logits, temperature, top_k, top_p)
    after = torch.softmax(filtered, dim=-1)
    before = torch.softmax(logits, dim=-1)
    kept = torch.isfinite(filtered).nonzero().flatten()
    kept = kept[torch.argsort(after[kept], descending=True, stable=True)]
    return {"filtered": filtered, "kept": kept, "after": after, "before": before}


def sampler_figure(logits: Any, decode: Callable[[int], str], filter_fn: Callable[..., Any], temperature: float,
                   top_k: int, top_p: float, show: int = 20) -> Any:
    """The sampler's chart for one setting: the ``show`` most likely kept tokens, after and before the filters."""
    from .plots import kept_tokens

    state = sampler_state(logits, filter_fn, temperature, top_k, top_p)
    ids = state["kept"][:show].tolist()
    vocab = state["before"].numel()
    shown = f"; the top {len(ids)} shown" if len(state["kept"]) > len(ids) else ""
    title = (f"temperature {temperature:g}, top-k {top_k if top_k else 'off'}, top-p {top_p:g}: "
             f"{len(state['kept']):,} of {vocab:,} tokens kept{shown}")
    return kept_tokens([state["before"][i] for i in ids], [state["after"][i] for i in ids],
                       [repr(decode(i)) for i in ids], title)


def _summary(state: dict, decode: Callable[[int], str]) -> str:
    best, n = int(state["kept"][0]), len(state["kept"])
    return (f"<b>{n:,}</b> token{'' if n == 1 else 's'} kept; most likely {decode(best)!r} with probability "
            f"<b>{float(state['after'][best]):.4f}</b> after the filters ({float(state['before'][best]):.4f} before)")


def _box_class() -> type:
    import ipywidgets as widgets

    class SamplerBox(widgets.VBox):
        """A VBox whose text form is one short fixed line (what a headless run stores; ipywidgets cuts text forms
        after 110 characters) instead of its children's state."""

        start: tuple = ()

        def __repr__(self) -> str:
            t, k, p = self.start
            return f"Sampler widget (temperature={t:g}, top-k={k}, top-p={p:g}); live in Jupyter, chart above"

    return SamplerBox


def sampler(logits: Any, decode: Callable[[int], str], filter_fn: Callable[..., Any], temperature: float = 0.7,
            top_k: int = 50, top_p: float = 0.9, show: int = 20) -> Any:
    """Sliders for temperature, top-k and top-p over ``logits`` (one position's next-token logits).

    ``filter_fn(logits, temperature, top_k, top_p)`` returns the logits with removed tokens set to -inf (top_k=0 and
    top_p=1.0 mean off, as in ``generate``); ``decode(token_id)`` gives a token's text. Draws the static figure for the
    starting values, then returns the widget (the notebook cell displays it).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    fig = sampler_figure(logits, decode, filter_fn, temperature, top_k, top_p, show)
    plt.show()
    plt.close(fig)

    style = {"description_width": "90px"}
    layout = widgets.Layout(width="480px")
    t_slider = widgets.FloatSlider(value=temperature, min=0.1, max=2.0, step=0.05, description="temperature",
                                   continuous_update=False, readout_format=".2f", style=style, layout=layout)
    k_slider = widgets.IntSlider(value=top_k, min=0, max=200, step=1, description="top-k", continuous_update=False,
                                 style=style, layout=layout)
    p_slider = widgets.FloatSlider(value=top_p, min=0.05, max=1.0, step=0.01, description="top-p",
                                   continuous_update=False, readout_format=".2f", style=style, layout=layout)
    note = widgets.HTML("top-k 0 and top-p 1.00 switch that filter off, as in <code>generate()</code>.")
    summary = widgets.HTML()
    image = widgets.Image(format="png")

    def redraw(change: Any = None) -> None:
        t, k, p = t_slider.value, k_slider.value, p_slider.value
        summary.value = _summary(sampler_state(logits, filter_fn, t, k, p), decode)
        image.value = _png(sampler_figure(logits, decode, filter_fn, t, k, p, show))

    for slider in (t_slider, k_slider, p_slider):
        slider.observe(redraw, names="value")
    redraw()
    box = _box_class()([t_slider, k_slider, p_slider, note, summary, image])
    box.start = (temperature, top_k, top_p)
    box.add_class(SAMPLER_CLASS)
    box.redraw = redraw
    return box
