"""Run every benchmark module and write bench/RESULTS.md.

Usage: ``python -m bench [--quick] [--only NAME] [--out PATH]``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import platform
import pkgutil
from pathlib import Path

import numpy as np
import torch

import bench
from bench.common import Row, device_name

HERE = Path(__file__).resolve().parent


def _fmt(s: float | None) -> str:
    if s is None:
        return ""
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def table(rows: list[Row]) -> str:
    lines = ["| operation | size | ours | reference | reference time | ratio (ours / ref) | device | note |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        lines.append(f"| {r.operation} | {r.size} | {_fmt(r.ours_s)} | {r.reference} | {_fmt(r.ref_s)} | "
                     f"{ratio} | {r.device or device_name()} | {r.note} |")
    return "\n".join(lines)


def _sections(text: str) -> dict[str, str]:
    """The "## name" sections of a RESULTS.md, by name."""
    parts = text.split("\n## ")[1:]
    return {p.split("\n", 1)[0].strip(): "## " + p.rstrip("\n") + "\n" for p in parts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--only", action="append", help="run only bench_NAME (repeatable)")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = ap.parse_args()
    sections = []
    for mod in sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")):
        if args.only and mod.removeprefix("bench_") not in args.only:
            continue
        print(f"== {mod}", flush=True)
        module = importlib.import_module(f"bench.{mod}")
        rows = module.run(quick=args.quick)
        intro = getattr(module, "INTRO", "")
        for r in rows:
            print(f"  {r.operation} [{r.size}]: {_fmt(r.ours_s)} vs {r.reference} {_fmt(r.ref_s)}", flush=True)
        sections.append(f"## {mod.removeprefix('bench_')}\n\n_Measured {dt.date.today()}._"
                        + (f" {intro}" if intro else "") + f"\n\n{table(rows)}\n")
    header = (f"# Benchmark results\n\nWritten by `make bench` on {dt.date.today()} "
              f"({platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
              f"torch {torch.__version__}, numpy {np.__version__}). Times are the best of several runs; "
              "the reference is measured in the same run. A section with its own date was re-run alone "
              "(`--only`) after that.\n\n")
    out = Path(args.out)
    if args.only and out.exists():   # keep the header and the sections of the benchmarks that did not run
        text = out.read_text()
        header = text.split("\n## ", 1)[0].rstrip("\n") + "\n\n"
        old = _sections(text)
        old.update(_sections("\n" + "\n".join(sections)))
        sections = [old[name] for name in sorted(old)]
    out.write_text(header + "\n".join(sections))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
