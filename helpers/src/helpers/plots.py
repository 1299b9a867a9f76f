"""Figures for the lessons. Each function builds one figure and returns it; the notebook calls ``plt.show()``.

Engineers append functions here (one figure each, no global state); keep imports inside the functions.
"""

from __future__ import annotations

from typing import Any, Sequence


# ---------------------------------------------------------------- notebook 09: generation by hand


def leak_vs_shift(shifts: Sequence[float], leaked: Sequence[float], fixed: Sequence[float] | None = None) -> Any:
    """Probability the seed's top-k filter leaks to removed tokens, as every logit is shifted by a constant."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(list(shifts), [max(v, 1e-12) for v in leaked], "o-", color="tab:red", label="seed's filter (fills with 0)")
    if fixed is not None:
        ax.plot(list(shifts), [max(v, 1e-12) for v in fixed], "s--", color="tab:green",
                label="fixed filter (fills with -inf): 0, drawn at 1e-12")
    ax.set_yscale("log")
    ax.set_xlabel("constant added to every logit (softmax alone would not change)")
    ax.set_ylabel("probability on removed tokens")
    ax.set_title("Top-k with zeros leaks more as the logits go down")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def decode_step_times(no_cache: Sequence[float], cache: Sequence[float]) -> Any:
    """Per-step time and total time of a decode, without and with the KV cache (seconds in, milliseconds shown)."""
    import itertools

    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for series, label, color in ((no_cache, "without cache", "tab:red"), (cache, "with KV cache", "tab:blue")):
        steps = range(1, len(series) + 1)
        left.plot(steps, [1000 * s for s in series], ".-", color=color, label=label)
        right.plot(steps, list(itertools.accumulate(series)), ".-", color=color, label=label)
    left.set_xlabel("token number")
    left.set_ylabel("time for this token (ms)")
    left.set_title("Per token: growing vs flat")
    right.set_xlabel("tokens generated")
    right.set_ylabel("total time (s)")
    right.set_title("Total: quadratic vs linear")
    for ax in (left, right):
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def kv_cache_per_step(fed: Sequence[int], cached: Sequence[int], bytes_per_position: float) -> Any:
    """Keys and values per decoding step, with the KV cache and without it (notebook 09). ``fed[s]``: positions fed
    to step ``s`` with the cache (the prompt, then 1); ``cached[s]``: positions in the cache after step ``s``, which is
    also how many positions step ``s`` computes without a cache. Left: computed in the step; right: kept after it."""
    import matplotlib.pyplot as plt

    steps = list(range(1, len(fed) + 1))
    kb = bytes_per_position / 1e3
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(steps, [n * kb for n in cached], "o-", color="tab:red", label="without cache: every position again")
    left.plot(steps, [n * kb for n in fed], "s-", color="tab:blue", label="with KV cache: the prompt, then 1")
    right.plot(steps, [0] * len(steps), "o-", color="tab:red", label="without cache: nothing kept")
    right.plot(steps, [n * kb for n in cached], "s-", color="tab:blue", label="with KV cache: one position more")
    left.set_title("Keys and values computed in the step", fontsize=10)
    right.set_title("Keys and values kept after the step (the cache)", fontsize=10)
    for ax in (left, right):
        ax.set_xlabel("decoding step")
        ax.set_ylabel("kB, all layers")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- notebooks 07 and 08: logits to labels, generate()


def class_probabilities(probs: Any, class_names: Sequence[str], texts: Sequence[str]) -> Any:
    """One horizontal bar chart per text: the probability of each class, the predicted one in colour (notebook 07)."""
    import textwrap

    import matplotlib.pyplot as plt

    rows = [[float(p) for p in row] for row in probs]
    fig, axes = plt.subplots(1, len(rows), figsize=(5 * len(rows), 2.6), squeeze=False)
    for ax, row, text in zip(axes[0], rows, texts):
        best = max(range(len(row)), key=row.__getitem__)
        colors = ["tab:blue" if i == best else "lightgray" for i in range(len(row))]
        ax.barh(list(class_names), row, color=colors)
        for y, p in enumerate(row):
            inside = p > 0.8  # a long bar: write its value inside, in white
            ax.text(p - 0.02 if inside else p + 0.02, y, f"{p:.4f}", va="center", ha="right" if inside else "left",
                    color="white" if inside else "black", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_xlabel("probability (softmax of the logits)")
        ax.set_title("\n".join(textwrap.wrap(repr(text), 40)), fontsize=9)
    fig.tight_layout()
    return fig


def temperature_bars(probs_by_temperature: dict, labels: Sequence[str], title: str = "") -> Any:
    """Grouped bars: the same tokens' probabilities at several temperatures (notebook 07)."""
    import matplotlib.pyplot as plt

    temps = list(probs_by_temperature)
    width = 0.8 / len(temps)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    for j, t in enumerate(temps):
        values = [float(p) for p in probs_by_temperature[t]]
        ax.bar([i + (j - (len(temps) - 1) / 2) * width for i in range(len(values))], values, width,
               label=f"temperature {t:g}")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(list(labels), rotation=45, ha="right", fontsize=9)
    ax.set_ylabel("probability")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def next_token_cutoffs(sorted_probs: Any, labels: Sequence[str], n_top_k: int, n_top_p: int, top_p: float,
                       show: int = 60, ranks: int = 150) -> Any:
    """Left: the ``show`` most likely next tokens (log scale), those top-k keeps in colour. Right: the cumulative
    probability by rank, with the ranks where top-k and top-p cut (notebook 08). ``sorted_probs`` is sorted, largest
    first; the counts kept are computed by the notebook and only drawn here."""
    import matplotlib.pyplot as plt

    p = [float(v) for v in sorted_probs[: max(show, ranks)]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4), gridspec_kw={"width_ratios": [3, 2]})
    colors = ["tab:blue" if i < n_top_k else "lightgray" for i in range(show)]
    left.bar(range(show), p[:show], color=colors)
    left.set_yscale("log")
    left.set_xticks(range(show))
    left.set_xticklabels(list(labels[:show]), rotation=90, fontsize=6)
    left.set_xlim(-0.7, show - 0.3)
    left.set_ylabel("probability (log scale)")
    left.set_title(f"The {show} most likely next tokens: top-k = {n_top_k} keeps the blue ones", fontsize=10)
    cumulative, total = [], 0.0
    for v in p[:ranks]:
        total += v
        cumulative.append(total)
    right.plot(range(1, len(cumulative) + 1), cumulative, color="tab:orange", label="cumulative probability")
    right.axhline(top_p, color="gray", linestyle="--", linewidth=1)
    right.axvline(n_top_k, color="tab:blue", linewidth=1, label=f"top-k keeps {n_top_k}")
    right.axvline(n_top_p, color="tab:red", linewidth=1, label=f"top-p = {top_p:g} keeps {n_top_p}")
    right.set_xlim(0, len(cumulative))
    right.set_ylim(0, 1.02)
    right.set_xlabel("rank of the token (1 = most likely)")
    right.set_ylabel("cumulative probability")
    right.set_title("Top-p keeps tokens until their total reaches top_p", fontsize=10)
    right.grid(True, alpha=0.3)
    right.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def kept_tokens(original: Sequence[float], renormalised: Sequence[float], labels: Sequence[str], title: str) -> Any:
    """The kept tokens after sampling filters: renormalised probability (bars) next to the probability before filtering
    (outlined bars); notebook 08's sampler widget draws this for its slider values."""
    import matplotlib.pyplot as plt

    n = len(labels)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    xs = list(range(n))
    ax.bar([x - 0.2 for x in xs], [float(v) for v in renormalised], 0.4, color="tab:blue",
           label="after the filters, renormalised (what is sampled)")
    ax.bar([x + 0.2 for x in xs], [float(v) for v in original], 0.4, facecolor="none", edgecolor="tab:gray",
           label="before (temperature 1, no filter)")
    ax.set_xticks(xs)
    ax.set_xticklabels(list(labels), rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("probability")
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- notebook 05: the encoder by hand


def weights_heatmaps(panels: dict[str, Any], tokens: Sequence[str], title: str = "") -> Any:
    """Attention weights as heatmaps side by side, one panel per entry of ``panels`` (title -> (query, key) matrix),
    on one 0-1 colour scale. Small matrices (up to 6 tokens) carry their numbers in the cells."""
    import matplotlib.pyplot as plt
    import numpy as np

    n = len(tokens)
    side = 0.5 * n + 1.6 if n <= 6 else 0.25 * n + 1.8
    fig, axes = plt.subplots(1, len(panels), figsize=(side * len(panels) + 1.0, side), squeeze=False,
                             layout="constrained")
    for ax, (name, weights) in zip(axes[0], panels.items()):
        w = np.asarray(weights, dtype=float)
        image = ax.imshow(w, cmap="Blues", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(n))
        ax.set_xticklabels(tokens, rotation=60 if n > 6 else 0, ha="right" if n > 6 else "center", fontsize=8)
        ax.set_yticks(range(n))
        ax.set_yticklabels(tokens, fontsize=8)
        ax.set_xlabel("key (attended to)")
        ax.set_ylabel("query")
        ax.set_title(name, fontsize=10)
        if n <= 6:
            for i in range(n):
                for j in range(n):
                    ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if w[i, j] > 0.6 else "black")
    fig.colorbar(image, ax=list(axes[0]), fraction=0.04, pad=0.03)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


# ---------------------------------------------------------------- notebook 04: the model body and its shapes


def hidden_state_axes(hidden: Any, tokens: Sequence[Sequence[str]], mask: Any) -> Any:
    """A (batch, sequence, hidden) tensor drawn with its three axes named: one panel per batch item (batch axis),
    one row per token (sequence axis), one column per feature (hidden axis). Every row uses the same colour scale;
    padded rows are outlined and hatched, not hidden, and a bar per row beside each panel gives the vector's length, so
    padded vectors show for what they are: not zero."""
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Rectangle

    hidden, mask = np.asarray(hidden, dtype=float), np.asarray(mask)
    batch, seq, dim = hidden.shape
    limit = float(np.percentile(np.abs(hidden), 99))
    norms = np.linalg.norm(hidden, axis=-1)
    fig, axes = plt.subplots(1, 2 * batch, figsize=(6.8 * batch, 0.28 * seq + 1.8), squeeze=False,
                             gridspec_kw={"width_ratios": [5, 1.2] * batch}, layout="constrained")
    for b in range(batch):
        ax, bars = axes[0][2 * b], axes[0][2 * b + 1]
        image = ax.imshow(hidden[b], aspect="auto", cmap="coolwarm", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_yticks(range(seq))
        ax.set_yticklabels([f"{i}: {t}" for i, t in enumerate(tokens[b])], fontsize=8)
        for i in np.flatnonzero(mask[b] == 0):  # outline and hatch padded rows, colours left visible
            ax.add_patch(Rectangle((-0.5, i - 0.5), dim, 1, fill=False, hatch="//", edgecolor="dimgray", linewidth=0.6))
        ax.set_title(f"batch axis: item {b} (padded rows hatched)", fontsize=9)
        ax.set_xlabel(f"hidden axis: {dim} features per token")
        if b == 0:
            ax.set_ylabel(f"sequence axis: {seq} positions")
        colours = ["tab:gray" if m == 0 else "tab:blue" for m in mask[b]]
        bars.barh(range(seq), norms[b], color=colours, height=0.8)
        bars.set_ylim(seq - 0.5, -0.5)
        bars.set_yticks([])
        bars.set_xlim(0, float(norms.max()) * 1.1)
        bars.set_xlabel("vector length", fontsize=8)
        bars.set_title("grey: padding", fontsize=8)
    fig.colorbar(image, ax=axes[0].tolist(), fraction=0.02, pad=0.01, label="feature value")
    fig.suptitle(f"last_hidden_state, shape (batch={batch}, sequence={seq}, hidden={dim})")
    return fig


def similarity_heatmap(similarity: Any, labels: Sequence[str], width: int = 38,
                       title: str = "Cosine similarity of mean-pooled sentence embeddings") -> Any:
    """A square matrix of cosine similarities with each value written in its cell."""
    import matplotlib.pyplot as plt
    import numpy as np

    sim = np.asarray(similarity, dtype=float)
    short = [s if len(s) <= width else s[: width - 1] + "…" for s in labels]
    fig, ax = plt.subplots(figsize=(1.0 * len(sim) + 4.5, 0.75 * len(sim) + 1.5))
    image = ax.imshow(sim, cmap="viridis", vmin=min(0.0, float(sim.min())), vmax=1.0)
    for i in range(len(sim)):
        for j in range(len(sim)):
            ax.text(j, i, f"{sim[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="black" if sim[i, j] > 0.6 else "white")
    ax.set_xticks(range(len(sim)))
    ax.set_xticklabels([str(i) for i in range(len(sim))])
    ax.set_yticks(range(len(sim)))
    ax.set_yticklabels([f"{s}  {i}" for i, s in enumerate(short)], fontsize=8)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.03)
    fig.tight_layout()
    return fig


def attention_heatmap(weights: Any, tokens: Sequence[str], layer: int, head: int) -> Any:
    """Attention weights of one head: row i is how token i spreads its attention over all tokens (rows sum to 1)."""
    import matplotlib.pyplot as plt
    import numpy as np

    w = np.asarray(weights, dtype=float)
    fig, ax = plt.subplots(figsize=(0.42 * len(tokens) + 2.6, 0.42 * len(tokens) + 1.4))
    image = ax.imshow(w, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(tokens)))
    ax.set_xticklabels(tokens, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(tokens)))
    ax.set_yticklabels(tokens, fontsize=8)
    ax.set_xlabel("attends to (key)")
    ax.set_ylabel("token (query)")
    ax.set_title(f"Attention weights, layer {layer}, head {head} (0-based)")
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.03)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- notebooks 01 and 02: pipelines, tokenizers


def pipeline_diagram(examples: Sequence[str] | None = None) -> Any:
    """The three stages of ``pipeline()``: preprocessing (tokenizer) -> model -> postprocessing.

    ``examples``, if given, are four short strings shown under the arrows and ends: the raw input, what the tokenizer
    gives, what the model gives, and the final output (compute them in the notebook; nothing is invented here).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    stages = [
        ("1. Preprocessing", "tokenizer", "text → tokens → ids\n+ attention mask", "#dbe9f6"),
        ("2. Model", "body + head", "ids → hidden states\n→ logits", "#fde3c8"),
        ("3. Postprocessing", "pipeline code", "logits → softmax\n→ label + score", "#dcefd8"),
    ]
    flows = ["raw text", "input_ids (tensor)", "logits (tensor)", "label, score"]
    fig, ax = plt.subplots(figsize=(11, 3.2 if examples else 2.9))
    ax.set_xlim(0, 11)
    ax.set_ylim(-0.35 if examples else 0.2, 2.45)
    ax.axis("off")
    width, gap, x0 = 2.3, 0.9, 1.45
    centers = []
    for i, (name, who, what, color) in enumerate(stages):
        x = x0 + i * (width + gap)
        ax.add_patch(FancyBboxPatch((x, 0.45), width, 1.55, boxstyle="round,pad=0.05", facecolor=color,
                                    edgecolor="#555555"))
        ax.text(x + width / 2, 1.72, name, ha="center", va="center", fontsize=11, fontweight="bold")
        ax.text(x + width / 2, 1.42, who, ha="center", va="center", fontsize=9, style="italic", color="#333333")
        ax.text(x + width / 2, 0.88, what, ha="center", va="center", fontsize=9)
        centers.append(x)
    # arrows: into stage 1, between stages, out of stage 3
    ends = [(0.15, x0 - 0.08)] + [(centers[i] + width + 0.08, centers[i + 1] - 0.08) for i in range(2)]
    ends.append((centers[2] + width + 0.08, 10.95))
    for i, (a, b) in enumerate(ends):
        ax.add_patch(FancyArrowPatch((a, 1.22), (b, 1.22), arrowstyle="-|>", mutation_scale=16, color="#333333"))
        ax.text((a + b) / 2, 2.2, flows[i], ha="center", va="center", fontsize=8.5, color="#222222")
        if examples:
            ax.text((a + b) / 2, 0.0, str(examples[i]), ha="center", va="center", fontsize=8,
                    family="monospace", color="#1f4e79",
                    bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "#9bbbd8"})
    ax.set_title("What pipeline() does", fontsize=12)
    fig.tight_layout()
    return fig


def token_boxes(tokens: Sequence[str], ids: Sequence[int], special: Sequence[bool] | None = None,
                title: str = "", per_row: int = 9) -> Any:
    """A sentence as coloured tokens, each with its id underneath; special tokens in grey.

    WordPiece continuations (``##...``) share the colour of the piece they continue, so a split word reads as one.
    """
    import matplotlib.pyplot as plt

    special = list(special) if special is not None else [False] * len(tokens)
    palette = ["#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5"]
    rows = max(1, -(-len(tokens) // per_row))
    fig, ax = plt.subplots(figsize=(min(per_row, len(tokens)) * 1.25 + 0.4, 1.25 * rows + 0.5))
    ax.set_xlim(0, min(per_row, len(tokens)) * 1.25 + 0.2)
    ax.set_ylim(-1.25 * (rows - 1) - 0.4, 0.85)
    ax.axis("off")
    colour = -1
    for i, (tok, tid) in enumerate(zip(tokens, ids)):
        if special[i]:
            face = "#d9d9d9"
        else:
            if not tok.startswith("##"):
                colour += 1
            face = palette[colour % len(palette)]
        x, y = (i % per_row) * 1.25 + 0.1, -(i // per_row) * 1.25
        ax.add_patch(plt.Rectangle((x, y), 1.15, 0.7, facecolor=face, edgecolor="#555555", linewidth=0.8))
        ax.text(x + 0.575, y + 0.35, repr(tok)[1:-1], ha="center", va="center", fontsize=10, family="monospace")
        ax.text(x + 0.575, y - 0.17, str(tid), ha="center", va="center", fontsize=9, color="#333333")
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- notebook 03: tokenizers by hand


def tokens_vs_merges(curves: dict[str, Sequence[int]], levels: dict[str, int] | None = None, title: str = "") -> Any:
    """How a corpus's token count falls as BPE merges are kept: ``curves[name][m]`` is the count with the first ``m``
    merges (``m = 0``: one token per byte). ``levels`` draws other tokenizers' counts as dashed lines, for scale."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(8.5, 3.8))
    for name, tokens in curves.items():
        ax.plot(range(1, len(tokens)), tokens[1:], label=f"{name}: {tokens[0]:,} bytes -> {tokens[-1]:,} tokens")
    for k, (name, count) in enumerate((levels or {}).items()):
        ax.axhline(count, linestyle="--", color=f"C{len(curves) + k}", linewidth=1, label=f"{name}: {count:,} tokens")
    ax.set_xscale("log")
    ax.set_xlabel("merges kept (the first m of the merge list; log scale)")
    ax.set_ylabel("tokens in the corpus")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y / 1e6:.1f}M" if y >= 1e6 else f"{y / 1e3:.0f}k"))
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    if title:
        ax.set_title(title, fontsize=11)


# ---------------------------------------------------------------- notebook 10: the decoder by hand


def rope_rotation(angles: Any, pairs: Sequence[int], scores: Any) -> Any:
    """What rotary position embeddings do. Left: where one pair of features of the same vector lands at positions
    0, 1, 2, ... (``angles``: (positions, pairs) in radians), for a few ``pairs`` (fast to slow). Right: ``scores``
    (query position x key position), the dot product of one rotated query and one rotated key: it depends only on
    the distance between the positions, so it is constant along each diagonal."""
    import matplotlib.pyplot as plt
    import numpy as np

    a = np.asarray(angles, dtype=float)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6))
    circle = np.linspace(0, 2 * np.pi, 200)
    left.plot(np.cos(circle), np.sin(circle), color="0.85", lw=1)
    for k, (pair, marker) in enumerate(zip(pairs, "os^D")):
        radius = 1.0 - 0.22 * k  # one ring per pair, so the dots do not overlap
        x, y = radius * np.cos(a[:, pair]), radius * np.sin(a[:, pair])
        left.plot(x, y, color="0.7", lw=0.6)
        points = left.scatter(x, y, c=np.arange(len(a)), cmap="viridis", marker=marker, s=28, zorder=3,
                              label=f"pair {pair}: {a[1, pair]:.3g} rad per position")
    left.set_aspect("equal")
    left.set_xlim(-1.15, 1.15)
    left.set_ylim(-1.15, 1.35)
    left.axis("off")
    left.legend(loc="upper center", fontsize=8, ncol=1, frameon=False, bbox_to_anchor=(0.5, 1.12))
    fig.colorbar(points, ax=left, fraction=0.04, pad=0.02, label="position")
    left.set_title("one feature pair of the same vector, rotated by position", fontsize=10, pad=38)
    image = right.imshow(np.asarray(scores, dtype=float), cmap="RdBu_r")
    right.set_xlabel("key position")
    right.set_ylabel("query position")
    right.set_title("rotated query · rotated key: a function of the distance only", fontsize=10)
    fig.colorbar(image, ax=right, fraction=0.04, pad=0.03)
    fig.tight_layout()
    return fig


def gqa_groups(kv_head_of: Sequence[int], head_dim: int) -> Any:
    """Grouped-query attention: query head ``h`` (top row) reads key/value head ``kv_head_of[h]`` (bottom row).
    ``kv_head_of`` is what the notebook computed (``repeat_kv`` applied to the key/value heads' numbers)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    groups = sorted(set(int(g) for g in kv_head_of))
    colors = plt.get_cmap("Set2")
    n_q = len(kv_head_of)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * n_q + 1), 2.8))
    width = n_q / len(groups)  # each kv head sits under the middle of the query heads it serves
    for h, g in enumerate(kv_head_of):
        ax.add_patch(FancyBboxPatch((h + 0.1, 2.0), 0.8, 0.6, boxstyle="round,pad=0.02", facecolor=colors(int(g)),
                                    edgecolor="#555555"))
        ax.text(h + 0.5, 2.3, f"q{h}", ha="center", va="center", fontsize=9)
        ax.plot([h + 0.5, (int(g) + 0.5) * width], [2.0, 0.75], color=colors(int(g)), lw=1.5)
    for g in groups:
        x = (g + 0.5) * width
        ax.add_patch(FancyBboxPatch((x - 0.9, 0.1), 1.8, 0.6, boxstyle="round,pad=0.02", facecolor=colors(g),
                                    edgecolor="#555555"))
        ax.text(x, 0.4, f"k{g}, v{g}", ha="center", va="center", fontsize=9)
    ax.text(-0.2, 2.3, f"{n_q} query heads\n(x {head_dim})", ha="right", va="center", fontsize=9)
    ax.text(-0.2, 0.4, f"{len(groups)} key/value\nheads (x {head_dim})", ha="right", va="center", fontsize=9)
    ax.set_xlim(-2.2, n_q + 0.1)
    ax.set_ylim(0, 2.75)
    ax.axis("off")
    ax.set_title("Grouped-query attention: each key/value head serves a group of neighbouring query heads",
                 fontsize=10)
    fig.tight_layout()
    return fig


def kv_cache_growth(steps: Sequence[tuple[int, int]], tokens: Sequence[str], bytes_per_token: float) -> Any:
    """The KV cache, step by step: ``steps[s] = (cached, fed)``, the positions already in the cache when step ``s``
    ran and how many it fed; ``tokens`` labels every position. Grey: read from the cache; orange: computed this
    step, then appended to the cache."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    total = max(c + f for c, f in steps)
    fig, ax = plt.subplots(figsize=(max(7.0, 0.62 * total + 2), 0.45 * len(steps) + 1.6))
    for row, (cached, fed) in enumerate(steps):
        y = len(steps) - 1 - row
        ax.barh(y, cached, left=0, color="#cfcfcf", edgecolor="white", height=0.8)
        ax.barh(y, fed, left=cached, color="tab:orange", edgecolor="white", height=0.8)
        ax.text(total + 0.2, y, f"cache {cached} -> {cached + fed} positions "
                                f"({(cached + fed) * bytes_per_token / 1e3:,.0f} kB)", va="center", fontsize=8)
    ax.set_yticks(range(len(steps)), [f"step {s}" for s in range(len(steps), 0, -1)])
    labels = [repr(t)[1:-1] for t in tokens[:total]]  # "\n" shown as \n
    if total <= 16:
        ax.set_xticks([i + 0.5 for i in range(total)], labels, fontsize=8)
    else:
        ax.set_xticks([i + 0.5 for i in range(total)], labels, fontsize=8, rotation=45, ha="right",
                      rotation_mode="anchor")
    ax.set_xlim(0, total + 6)
    ax.set_xlabel("position (token)")
    ax.legend(handles=[Patch(color="#cfcfcf", label="keys and values read from the cache"),
                       Patch(color="tab:orange", label="fed this step: computed, then appended")],
              loc="upper center", bbox_to_anchor=(0.4, -0.3), ncol=2, fontsize=8, frameon=False)
    ax.set_title("The KV cache growing: the prompt once, then one new token per step", fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- block diagrams (notebooks 05, 10 and later)


def _block_color(name: str) -> str:
    lower = name.lower()
    for words, color in ((("norm",), "#dcefd8"), (("attention", "q ", "k ", "v ", "softmax"), "#fde3c8"),
                         (("mlp", "feed-forward", "ffn", "gelu", "silu"), "#dbe9f6"), (("+", "add"), "#eeeeee")):
        if any(w in lower for w in words):
            return color
    return "#f5f0e1"


def block_stacks(stacks: dict[str, Sequence[tuple[str, str]]],
                 residuals: dict[str, Sequence[tuple[int, int]]] | None = None, title: str = "") -> Any:
    """Layers drawn as stacks of boxes, one stack per entry of ``stacks``, side by side, data flowing upwards.

    ``stacks[name]`` lists ``(block, detail)`` from bottom to top: the detail is a shape or a formula the notebook
    computed (``"(1, 8, 384)"``). ``residuals[name]`` lists ``(i, j)``: the input of block ``i`` is added to the
    output of block ``j`` (a skip connection, drawn on the right with a ⊕). Colours follow the block's kind:
    normalisation green, attention orange, feed-forward blue.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    residuals = residuals or {}
    tallest = max(len(blocks) for blocks in stacks.values())
    fig, axes = plt.subplots(1, len(stacks), figsize=(4.6 * len(stacks), 0.85 * tallest + 1.2), squeeze=False)
    for ax, (name, blocks) in zip(axes[0], stacks.items()):
        ax.set_xlim(0, 4.6)
        ax.set_ylim(-0.6, 0.85 * tallest + 0.2)
        ax.axis("off")
        ax.set_title(name, fontsize=11)
        ys = [0.85 * i for i in range(len(blocks))]
        for y, (block, detail) in zip(ys, blocks):
            ax.add_patch(FancyBboxPatch((0.4, y), 3.0, 0.55, boxstyle="round,pad=0.03", facecolor=_block_color(block),
                                        edgecolor="#555555"))
            ax.text(1.9, y + 0.36, block, ha="center", va="center", fontsize=min(9.0, 9.0 * 30 / max(len(block), 1)),
                    fontweight="bold")  # long names get a smaller font, so they stay inside the box
            ax.text(1.9, y + 0.13, detail, ha="center", va="center", fontsize=min(7.5, 7.5 * 40 / max(len(detail), 1)),
                    family="monospace")
        for y in [-0.55] + ys[:-1]:  # into each block from the one below (or from the input)
            ax.add_patch(FancyArrowPatch((1.9, y + 0.57 if y >= 0 else y), (1.9, y + 0.82 if y >= 0 else -0.03),
                                         arrowstyle="-|>", mutation_scale=10, color="#333333"))
        for k, (i, j) in enumerate(residuals.get(name, ())):
            x = 3.65 + 0.25 * k
            bottom, top = ys[i] - 0.12, ys[j] + 0.7
            ax.plot([1.9, x, x, 2.05], [bottom, bottom, top, top], color="#7a7a7a", lw=1.1)
            ax.text(1.9, top, "+", ha="center", va="center", fontsize=9, fontweight="bold", color="#444444",
                    bbox={"boxstyle": "circle,pad=0.15", "facecolor": "white", "edgecolor": "#444444"}, zorder=3)
    if title:
        fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig
