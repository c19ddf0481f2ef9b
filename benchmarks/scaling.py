"""How a figure grows from 1× to 4× region scale: the ``--scales`` option and the table every benchmark prints.

Each benchmark measures its figures on every scale in the same run, alternating
between scales round by round where the figure allows it (the shared machine's
speed drifts by ±30 % from one minute to the next), then prints one table:

    figure | 1× | 4× | 4×/1× | SPEC target | verdict

A target is a ``Growth``: the largest 4×/1× ratio the SPEC allows (search and
booking within 1.5× of their 1× figure; a report at most linear in the slots it
covers), or none when the SPEC only sets an absolute figure. The table is also
appended, with the date, the commit and the load average, to
``benchmarks/output/scaling.md``, so that a series of runs can be compared.
"""
from __future__ import annotations

import argparse
import os
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from region_data import ROOT

OUTPUT = ROOT / "benchmarks" / "output"


def add_scale_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scales", default="1,4", type=lambda text: [int(s) for s in text.split(",")],
                        help="region scales to compare, the first being the reference (default 1,4)")
    parser.add_argument("--quick", action="store_true", help="a tenth of a region per scale unit, fewer requests")
    parser.add_argument("--rebuild", action="store_true", help="build the regions again instead of reusing them")


def load_average() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    return result.stdout.strip() + ("+" if dirty else "")


@dataclass(frozen=True)
class Growth:
    """The largest 4×/1× ratio the SPEC allows, and how it reads; ``limit=None``: no growth target."""
    limit: float | None
    text: str
    higher_is_better: bool = False  # a rate: the allowed ratio is then 1 / limit

    def verdict(self, ratio: float) -> str:
        if self.limit is None:
            return ""
        allowed = 1 / self.limit if self.higher_is_better else self.limit
        excess = allowed / ratio if self.higher_is_better else ratio / allowed
        return "within" if excess <= 1 else f"**over** (+{100 * (excess - 1):.0f} %)"


WITHIN_1_5 = Growth(1.5, "≤ 1.5× of 1×")
RATE_WITHIN_1_5 = Growth(1.5, "≥ 1/1.5 of 1× (cost ≤ 1.5×)", higher_is_better=True)
NO_GROWTH_TARGET = Growth(None, "no growth target")


def linear_in(covered: dict[int, int], scales: list[int]) -> Growth:
    """At most linear in the slots covered: the ratio of the slots each scale's figure covers."""
    ratio = covered[scales[-1]] / covered[scales[0]]
    return Growth(ratio, f"≤ {ratio:.2f}× (linear: {covered[scales[0]]:,} → {covered[scales[-1]]:,} slots)")


@dataclass
class ScaleTable:
    title: str
    scales: list[int]
    rows: list[tuple] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: str, values: dict[int, float], unit: str, growth: Growth, absolute: str = "") -> None:
        """One figure measured at each scale; ``absolute`` is the SPEC's own target for the figure, if any."""
        self.rows.append((figure, values, unit, growth, absolute))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def render(self) -> str:
        first, last = self.scales[0], self.scales[-1]
        head = [f"### {self.title}", "",
                f"{datetime.now():%Y-%m-%d %H:%M}, commit {commit()}, load average {load_average()} (1 / 5 / 15 min), "
                f"{os.cpu_count()} cores", "",
                "| figure | " + " | ".join(f"{s}×" for s in self.scales) + f" | {last}×/{first}× | growth target "
                "| verdict | SPEC figure |",
                "|---|" + "---|" * len(self.scales) + "---|---|---|---|"]
        lines = []
        for figure, values, unit, growth, absolute in self.rows:
            cells = [_format(values.get(s), unit) for s in self.scales]
            ratio = values[last] / values[first] if values.get(first) and values.get(last) is not None else None
            lines.append(f"| {figure} | " + " | ".join(cells) +
                         f" | {'' if ratio is None else f'{ratio:.2f}'} | {growth.text} | "
                         f"{'' if ratio is None else growth.verdict(ratio)} | {absolute} |")
        return "\n".join(head + lines + [""] + [f"- {note}" for note in self.notes]) + "\n"

    def print_and_keep(self) -> None:
        text = self.render()
        print("\n" + text, flush=True)
        OUTPUT.mkdir(parents=True, exist_ok=True)
        with (OUTPUT / "scaling.md").open("a") as out:
            out.write(text + "\n")


def _format(value, unit: str) -> str:
    if value is None:
        return ""
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms" if value < 1000 else f"{value / 1000:.2f} s"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "/s":
        return f"{value:.0f}/s"
    if unit == "%":
        return f"{value:.0f} %"
    return f"{value:,.0f}{(' ' + unit) if unit else ''}"


def in_turns(actions: dict[int, callable], rounds: int) -> dict[int, list]:
    """Run each scale's action ``rounds`` times, alternating scales (and their order) round by round."""
    results: dict[int, list] = {scale: [] for scale in actions}
    order = list(actions)
    for n in range(rounds):
        for scale in (order if n % 2 == 0 else order[::-1]):
            results[scale].append(actions[scale](n))
    return results
