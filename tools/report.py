#!/usr/bin/env python3
"""Writes the main job's report: report.md with one table per benchmark binary, the targets
from benchmarks/targets.txt marked met or missed, and a PNG chart of peer/tessera ratios per
binary (matplotlib from Debian's python3-matplotlib).

    report.py --results DIR --targets FILE --out DIR [--extra FILE.md ...]

DIR holds bench_<module>.json files (Google Benchmark JSON). --extra appends Markdown files
(the cache simulator's miss-ratio table, for example) under their own headings.
"""
import argparse
import datetime
import os
import platform
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_ratio  # noqa: E402  (the same parsing as the ratio table)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Linux {platform.release()}"


def groups_of(path):
    times = bench_ratio.load([path], "real_time")
    groups = {}
    for name, t in times.items():
        s = bench_ratio.split(name)
        if s:
            groups.setdefault(s[0], {})[s[1]] = t
    return groups


def fmt_ns(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def chart(module, groups, path):
    labels, ratios = [], []
    for key in sorted(groups):
        ours = groups[key].get("tessera")
        if not ours:
            continue
        for peer, t in sorted(groups[key].items()):
            if peer != "tessera":
                labels.append(f"{key} vs {peer}")
                ratios.append(t / ours)
    if not ratios:
        return False
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(ratios) + 1.2))
    colors = ["#2a7ab9" if r >= 1 else "#c0392b" for r in ratios]
    ax.barh(range(len(ratios)), ratios, color=colors)
    ax.set_yticks(range(len(ratios)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("peer time / tessera time (> 1: tessera faster; log scale)")
    ax.set_title(f"bench_{module}: medians, real time")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def checks(results, targets_file):
    if not targets_file or not os.path.exists(targets_file):
        return []
    targets = [ln.strip() for ln in open(targets_file) if ln.strip() and not ln.startswith("#")]
    if not targets:
        return []
    cmd = [sys.executable, os.path.join(os.path.dirname(__file__), "bench_ratio.py"), *results]
    for t in targets:
        cmd += ["--check", t]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"^CHECK (.+?): (ok|FAIL|MISSING)\s*(.*)$", line)
        if m:
            rows.append((m.group(1), {"ok": "met", "FAIL": "missed", "MISSING": "not measured"}[m.group(2)], m.group(3)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", required=True)
    ap.add_argument("--targets")
    ap.add_argument("--out", required=True)
    ap.add_argument("--extra", action="append", default=[])
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    files = sorted(f for f in os.listdir(a.results) if re.match(r"^bench_\w+\.json$", f))
    paths = [os.path.join(a.results, f) for f in files]
    quick = os.environ.get("TESSERA_QUICK", "0") == "1"
    md = [
        "# tessera benchmark report",
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {machine()}",
        f"- mode: {'quick (TESSERA_QUICK=1: numbers are smoke, not measurements)' if quick else 'full'}",
        "- ratio = peer time / tessera time, medians of the repetitions, real time; > 1 means tessera is faster",
        "",
    ]
    rows = checks(paths, a.targets)
    if rows:
        md += ["## Targets", "", "| target | status | measured |", "|---|---|---|"]
        md += [f"| `{t}` | {s} | {d} |" for t, s, d in rows]
        md.append("")
    for f, path in zip(files, paths):
        module = f[len("bench_"):-len(".json")]
        groups = groups_of(path)
        md += [f"## bench_{module}", ""]
        peers = sorted({p for g in groups.values() for p in g if p != "tessera"})
        md.append("| workload | tessera | " + " | ".join(peers) + " |")
        md.append("|---|---|" + "---|" * len(peers))
        for key in sorted(groups):
            g = groups[key]
            ours = g.get("tessera")
            cells = []
            for p in peers:
                if p not in g:
                    cells.append("")
                elif ours:
                    cells.append(f"{fmt_ns(g[p])} ({g[p] / ours:.2f}x)")
                else:
                    cells.append(fmt_ns(g[p]))
            md.append(f"| {key} | {fmt_ns(ours) if ours else '-'} | " + " | ".join(cells) + " |")
        md.append("")
        png = f"bench_{module}.png"
        if chart(module, groups, os.path.join(a.out, png)):
            md += [f"![bench_{module} ratios]({png})", ""]
    for extra in a.extra:
        if os.path.exists(extra):
            md += [open(extra).read().rstrip(), ""]
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print(f"report: {os.path.join(a.out, 'report.md')} ({len(files)} benchmark binaries, {len(rows)} targets)")


if __name__ == "__main__":
    main()
