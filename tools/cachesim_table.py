#!/usr/bin/env python3
"""Turns cachesim --json output (one JSON object per line) into a Markdown miss-ratio table.

    cachesim_table.py RESULTS.jsonl [--default POLICY] > table.md

One row per trace and capacity, one column per policy; the lowest miss ratio in a row is bold and
the row says whether the default policy is at or below the best of the others.
"""
import argparse
import json
import os
import sys
from collections import OrderedDict


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--default", default=None, help="the cache's default policy")
    a = ap.parse_args()
    rows = OrderedDict()
    policies = []
    with open(a.results) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
                key = (os.path.basename(r["trace"]), int(r["capacity"]))
                rows.setdefault(key, {})[r["policy"]] = float(r["miss_ratio"])
            except (ValueError, KeyError) as e:
                sys.exit(f"cachesim_table: {a.results}: line {n}: not a cachesim result ({e})")
            if r["policy"] not in policies:
                policies.append(r["policy"])
    if not rows:
        sys.exit(f"cachesim_table: {a.results}: no results")
    out = ["## Cache miss ratios (cachesim, object-count caches)", ""]
    head = ["trace", "capacity"] + policies
    if a.default:
        head.append(f"default ({a.default}) <= best other")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    met = 0
    for (trace, cap), by in rows.items():
        best = min(by.values())
        cells = [trace, str(cap)]
        cells += [(f"**{by[p]:.4f}**" if by[p] == best else f"{by[p]:.4f}") if p in by else "-"
                  for p in policies]
        if a.default and a.default in by:
            others = [v for p, v in by.items() if p != a.default]
            ok = not others or by[a.default] <= min(others)
            met += ok
            cells.append("yes" if ok else f"no (+{by[a.default] - min(others):.4f})")
        out.append("| " + " | ".join(cells) + " |")
    if a.default:
        out += ["", f"The default policy is at or below the best other policy in {met} of "
                f"{len(rows)} rows."]
    print("\n".join(out))


if __name__ == "__main__":
    main()
