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


def plot_memory(path, rows, host):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label in dict.fromkeys(r["schedule"] for r in rows):
        pts = sorted((r["length"], r["peak_bytes"]) for r in rows if r["schedule"] == label)
        if len(pts) == 1:
            ax.scatter(*zip(*pts), label=label)
        else:
            ax.plot(*zip(*pts), marker="o", label=label)
    for family in ("EveryK", "Budget", "Online"):  # their parameters change with T
        pts = sorted((r["length"], r["peak_bytes"]) for r in rows
                     if _family(r["schedule"]) == family)
        if len(pts) > 1 and len({r["schedule"] for r in rows
                                 if _family(r["schedule"]) == family}) > 1:
            ax.plot(*zip(*pts), marker="s", linestyle="--", label=f"{family} (per T)")
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
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    markers = "osD^v<>p*h"
    families = list(dict.fromkeys(_family(r["schedule"]) for r in rows))
    for length in sorted({r["length"] for r in rows}):
        for k, family in enumerate(families):
            pts = [(100 * r["memory_saved"], 100 * (r["time_vs_storeall"] - 1)) for r in rows
                   if r["length"] == length and _family(r["schedule"]) == family]
            if pts:
                ax.scatter(*zip(*pts), marker=markers[k % len(markers)],
                           label=f"{family}, T={length}", alpha=0.8)
    ax.set_xlabel("memory saved vs StoreAll (%)")
    ax.set_ylabel("time overhead vs StoreAll (%)")
    ax.set_title("Recomputation bought with memory")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=6, ncol=3)
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
