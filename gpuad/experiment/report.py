"""The experiment's outputs: the terminal table, results.json and the two plots."""
import json
import os

from gpuad.checkpoint import format_bytes

COLUMNS = [("T", "length", "{}"), ("schedule", "schedule", "{}"),
           ("time (s)", "seconds", "{:.3f}"), ("min-max (s)", None, None),
           ("vs StoreAll", "time_vs_storeall", "{:.2f}x"),
           ("peak memory", "peak_bytes", format_bytes), ("saved", "memory_saved", "{:.0%}"),
           ("step evals", "step_evaluations", "{}"),
           ("max |grad diff|", "grad_max_diff", "{:.1e}")]


def table(rows):
    """Rows as an aligned text table: the median time of the repeats and their range."""
    cells = [[title for title, _, _ in COLUMNS]]
    for row in rows:
        line = []
        for _, key, fmt in COLUMNS:
            if key is None:
                line.append(f"{row['seconds_min']:.3f}-{row['seconds_max']:.3f}")
            elif callable(fmt):
                line.append(fmt(row[key]))
            else:
                line.append(fmt.format(row[key]))
        if row.get("chosen"):
            line[1] += f" -> {short_name(row['chosen'])}"
        cells.append(line)
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    out = []
    for k, r in enumerate(cells):
        out.append("  ".join(c.rjust(w) if i != 1 else c.ljust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def short_name(chosen):
    """A schedule's repr up to its first argument: "Segments('1.55 MiB', carry=...)" reads
    "Segments('1.55 MiB')" in the table (results.json keeps the whole repr)."""
    head, _, rest = chosen.partition("(")
    first = rest.rstrip(")").split(", ")[0]
    return f"{head}({first})" if rest else head


def write_json(path, results):
    with open(path, "w") as f:
        json.dump(results, f, indent=2)


def _family(label):
    return label.split("(")[0]


PER_LENGTH = ("EveryK", "Budget", "Online")  # families whose parameter follows T


def _key(row):
    """What one colour stands for: a fixed schedule (Revolve(8)), or a family whose parameter
    follows T (EveryK, with k = sqrt(T))."""
    family = _family(row["schedule"])
    return family if family in PER_LENGTH else row["schedule"]


def colours(rows):
    """One colour per schedule, the same in both plots."""
    return {key: f"C{k % 10}" for k, key in enumerate(dict.fromkeys(map(_key, rows)))}


def legend_label(key, rows):
    if key == "EveryK":
        return "EveryK(k = sqrt T)"
    if key == "Online":
        return "Online(min(32, T/4) snapshots)"
    if key == "Budget":
        fraction = rows[0].get("budget_fraction")
        share = f"{fraction:.0%} of StoreAll's peak" if fraction else "a share of StoreAll"
        return f"Budget({share}): the plan it chose"
    return key


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _bytes_axis(axis):
    """A log axis of bytes with ticks at powers of two, labelled 256 KiB, 1 MiB, ..."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    axis.set_major_locator(LogLocator(base=2, numticks=30))
    axis.set_major_formatter(FuncFormatter(lambda v, _: _tick_bytes(v)))
    axis.set_minor_formatter(NullFormatter())


def _tick_bytes(n):
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n:g} B"


def plot_memory(path, rows, host):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    colour = colours(rows)
    for key in colour:
        pts = sorted((r["length"], r["peak_bytes"]) for r in rows if _key(r) == key)
        per_length = key in PER_LENGTH
        ax.plot(*zip(*pts), marker="s" if per_length else "o",
                linestyle="--" if per_length else "-", color=colour[key],
                label=legend_label(key, rows))
    budget = sorted((r["length"], r["budget_bytes"]) for r in rows if r.get("budget_bytes"))
    if budget:
        ax.plot(*zip(*budget), linestyle=":", color=colour["Budget"], alpha=0.7,
                label="the budget Budget was given")
    ax.set_xscale("log")
    ax.set_yscale("log", base=2)
    _bytes_axis(ax.yaxis)
    lengths = sorted({r["length"] for r in rows})
    ax.set_xticks(lengths, [str(t) for t in lengths])
    ax.set_xlabel("sequence length T")
    ax.set_ylabel(f"peak {'host' if host else 'device'} memory of one step")
    ax.set_title("Peak memory against sequence length, by schedule (LSTM, adding problem)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_tradeoff(path, rows):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    markers = "osD^v<>p*h"
    lengths = sorted({r["length"] for r in rows})
    colour = colours(rows)
    for key in colour:
        for j, length in enumerate(lengths):
            pts = [r for r in rows if r["length"] == length and _key(r) == key]
            if not pts:
                continue
            x = [r["peak_bytes"] for r in pts]
            y = [r["time_vs_storeall"] for r in pts]
            spread = [[r["time_vs_storeall"] - r.get("time_vs_storeall_min", 0) for r in pts],
                      [r.get("time_vs_storeall_max", 0) - r["time_vs_storeall"] for r in pts]]
            ax.errorbar(x, y, yerr=spread, fmt=markers[j % len(markers)], color=colour[key],
                        ecolor=colour[key], elinewidth=1, capsize=2, alpha=0.85,
                        label=legend_label(key, rows) if j == 0 else None)
    for j, length in enumerate(lengths):  # a legend entry per marker shape
        ax.scatter([], [], color="grey", marker=markers[j % len(markers)], label=f"T={length}")
    ax.axhline(1.0, color="grey", linewidth=0.8, alpha=0.6)
    ax.set_xscale("log", base=2)
    _bytes_axis(ax.xaxis)
    ax.set_xlabel("peak memory of one step (log scale)")
    ax.set_ylabel("time of one step / StoreAll's (median, bars: min-max)")
    ax.set_title("Time against peak memory, by schedule (colour: schedule, marker: T)")
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()  # the schedules first, then the markers
    order = sorted(range(len(labels)), key=lambda i: labels[i].startswith("T="))
    ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_all(out_dir, results, host):
    os.makedirs(out_dir, exist_ok=True)
    paths = {"json": os.path.join(out_dir, "results.json"),
             "memory_plot": os.path.join(out_dir, "memory_vs_length.png"),
             "tradeoff_plot": os.path.join(out_dir, "time_vs_memory.png")}
    write_json(paths["json"], results)
    rows = [dict(r, budget_fraction=results.get("budget_fraction")) for r in results["steps"]]
    plot_memory(paths["memory_plot"], rows, host)
    plot_tradeoff(paths["tradeoff_plot"], rows)
    return paths
