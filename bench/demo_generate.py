"""Measure how fast the demo generator streams assets: 1,000,000 CCTV cameras by default."""

from __future__ import annotations

import argparse
import time
import tracemalloc

from layers.demo.generate import generate_assets
from layers.demo.geography import build_geography


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layer", default="cctv")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory", action="store_true", help="trace peak memory (several times slower)")
    args = parser.parse_args()

    started = time.perf_counter()
    build_geography()
    print(f"geography built in {time.perf_counter() - started:.2f} s")

    if args.memory:
        tracemalloc.start()
    started = time.perf_counter()
    n = sum(1 for _ in generate_assets(args.layer, args.count, args.seed))
    seconds = time.perf_counter() - started
    print(f"{args.layer}: {n:,} rows in {seconds:.2f} s = {n / seconds:,.0f} points/s")
    if args.memory:
        print(f"peak traced memory {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
