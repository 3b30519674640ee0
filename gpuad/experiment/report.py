"""The experiment's outputs: the terminal table, results.json and the two plots."""
import json
import os

from gpuad.checkpoint import format_bytes

COLUMNS = [("T", "length", "{}"), ("schedule", "schedule", "{}"),
           ("time (s)", "seconds", "{:.3f}"), ("vs StoreAll", "time_vs_storeall", "{:.2f}x"),
           ("peak memory", "peak_bytes", None), ("saved", "memory_saved", "{:.0%}"),
           ("step evals", "step_evaluations", "{}"), ("max |grad diff|", "grad_max_diff",
                                                        "{:.1e}")]


def table(rows):
    """Rows as an aligned text table."""
    cells = [[title for title, _, _ in COLUMNS]]
    for row in rows:
        line = []
        for _, key, fmt in COLUMNS:
            value = row[key]
            line.append(format_bytes(value) if fmt is None else fmt.format(value))
        if row.get("chosen"):
            line[1] += f" -> {row['chosen']}"
        cells.append(line)
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    out = []
    for k, r in enumerate(cells):
        out.append("  ".join(c.rjust(w) if i not in (1,) else c.ljust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def write_json(path, results):
    with open(path, "w") as f:
        json.dump(results, f, indent=2)


def _family(label):
    return label.split("(")[0]


PER_LENGTH = ("EveryK", "Budget", "Online")  # families whose parameter follows T


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_memory(path, rows, host):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    fixed = [r for r in rows if _family(r["schedule"]) not in PER_LENGTH]
    for label in dict.fromkeys(r["schedule"] for r in fixed):
        pts = sorted((r["length"], r["peak_bytes"]) for r in fixed if r["schedule"] == label)
        ax.plot(*zip(*pts), marker="o", label=label)
    for family in PER_LENGTH:
        pts = sorted((r["length"], r["peak_bytes"]) for r in rows
                     if _family(r["schedule"]) == family)
        if pts:
            ax.plot(*zip(*pts), marker="s", linestyle="--", label=f"{family} (chosen per T)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel(f"peak {'host' if host else 'device'} memory of one step (bytes)")
    ax.set_title("BPTT memory by checkpointing schedule (LSTM, adding problem)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_tradeoff(path, rows):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    markers = "osD^v<>p*h"
    lengths = sorted({r["length"] for r in rows})
    for k, label in enumerate(dict.fromkeys(
            r["schedule"] if _family(r["schedule"]) not in PER_LENGTH else _family(r["schedule"])
            for r in rows)):
        for j, length in enumerate(lengths):
            pts = [(100 * r["memory_saved"], 100 * (r["time_vs_storeall"] - 1)) for r in rows
                   if r["length"] == length and label in (r["schedule"], _family(r["schedule"]))]
            if pts:
                ax.scatter(*zip(*pts), color=f"C{k % 10}", marker=markers[j % len(markers)],
                           label=label if j == 0 else None, alpha=0.85)
    for j, length in enumerate(lengths):  # a legend entry per marker shape
        ax.scatter([], [], color="grey", marker=markers[j % len(markers)], label=f"T={length}")
    ax.set_xlabel("memory saved vs StoreAll (%)")
    ax.set_ylabel("time overhead vs StoreAll (%)")
    ax.set_title("Recomputation bought with memory (colour: schedule, shape: T)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_all(out_dir, results, host):
    os.makedirs(out_dir, exist_ok=True)
    paths = {"json": os.path.join(out_dir, "results.json"),
             "memory_plot": os.path.join(out_dir, "memory_vs_length.png"),
             "tradeoff_plot": os.path.join(out_dir, "time_vs_memory.png")}
    write_json(paths["json"], results)
    plot_memory(paths["memory_plot"], results["steps"], host)
    plot_tradeoff(paths["tradeoff_plot"], results["steps"])
    return paths
