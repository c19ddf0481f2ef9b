"""The communes list (`snp_service/data/communes.py`): load time, memory, search latency.

    .venv/bin/python benchmarks/bench_communes.py [--rounds 3]

Prints:
- the first use's load (read and index the file), as time and as memory: Python objects kept
  (tracemalloc, in a second load) and the process's resident memory before and after;
- `communes.search` latency over what people type into a commune field: every prefix (1 to 12
  characters, then the whole name) of 200 commune names spread over the list, with and without
  accents or hyphens, plus INSEE code and postal code prefixes; median, p95 and max;
- the same names searched by a raw baseline measured in the same run: a scan of every normalised
  name with `str.startswith`, then the most populous first (what the index replaces), and the
  ratio of the two p95s.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from snp_service.data import communes  # noqa: E402


def resident_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def load() -> tuple[float, float]:
    """(wall, CPU) seconds of a first use."""
    communes._loaded = None
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    communes._table()
    return time.perf_counter() - wall, time.process_time() - cpu


def queries() -> list[str]:
    every = list(communes.all_communes())
    names = [c.name for c in every[:: len(every) // 200]][:200]
    typed = []
    for name in names:
        for variant in {name, communes.normalise(name), name.replace("-", " ")}:
            typed += [variant[:n] for n in range(1, min(len(variant), 12) + 1)] + [variant]
    codes = [c.insee for c in every[:: len(every) // 50]] + [c.postal_codes[0] for c in every[7:: len(every) // 50]]
    typed += [code[:n] for code in codes for n in (2, 3, 5)]
    return typed


def timed(search, typed: list[str], rounds: int) -> list[list[float]]:
    """Each round's search times, in seconds."""
    rounds_times = []
    for _ in range(rounds):
        times = []
        for text in typed:
            started = time.perf_counter()
            search(text)
            times.append(time.perf_counter() - started)
        rounds_times.append(times)
    return rounds_times


def baseline_search():
    """A scan of every name, the most populous of the matches first."""
    every = list(communes.all_communes())
    names = [(communes.normalise(c.name) + " ", -(c.population or 0), c) for c in every]

    def search(text: str, limit: int = 10):
        query = communes._query_key(text)
        found = sorted((population, n) for n, (name, population, _) in enumerate(names) if name.startswith(query))
        return [names[n][2] for _, n in found[:limit]]
    return search


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (f"median {statistics.median(ordered) * 1e3:.3f} ms, p95 {p95 * 1e3:.3f} ms, "
            f"max {ordered[-1] * 1e3:.2f} ms over {len(ordered)} searches")


def p95(times: list[float]) -> float:
    return sorted(times)[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    rss_before, _ = resident_mb()
    first = load()
    rss_after, hwm_after = resident_mb()
    loads = [first] + [load() for _ in range(2)]
    communes._loaded = None
    gc.collect()
    tracemalloc.start()
    communes._table()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = communes.DATA_FILE.stat().st_size
    print(f"file: {communes.DATA_FILE.name}, {size / 1e3:.0f} kB, {sum(1 for _ in communes.all_communes())} communes")
    print("load (first use, then twice again): "
          + ", ".join(f"{wall * 1e3:.0f} ms ({cpu * 1e3:.0f} ms CPU)" for wall, cpu in loads))
    print(f"memory: {kept / 1e6:.1f} MB of Python objects kept, {peak / 1e6:.1f} MB at the peak of the load "
          f"(tracemalloc); process RSS {rss_before:.0f} -> {rss_after:.0f} MB, peak {hwm_after:.0f} MB")

    typed = queries()
    names_only = [t for t in typed if not t[:1].isdigit()]
    ours = timed(communes.search, typed, args.rounds)
    ours_names = timed(communes.search, names_only, args.rounds)
    raw = timed(baseline_search(), names_only, 1)
    print(f"search, {len(typed)} typed texts (names and codes), first round: {summary(ours[0])}")
    print(f"search, the same x {args.rounds} rounds: {summary(sum(ours, []))}")
    print(f"search by name only x {args.rounds}: {summary(sum(ours_names, []))}")
    print(f"raw baseline (scan of every name) by name only x 1: {summary(raw[0])}")
    print(f"p95 ratio raw / index (names): {p95(raw[0]) / p95(sum(ours_names, [])):.0f}x")

if __name__ == "__main__":
    main()
