"""How long the tests' SAS validator takes on a search answer, printed, never asserted.

A BundleAgregateur made from the package's example (Slot, Schedule, Practitioner, PractitionerRole with a
contained Location) for 1 and 25 practitioners with 4, 12 and 24 free slots each; median of 5 runs after
a warm-up (parsed profiles are cached per process), next to a deep copy of the same Bundle as a baseline.

    python benchmarks/bench_fhir_validator.py
"""
from __future__ import annotations

import copy
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fhir_validator import example, validate  # noqa: E402

BASE = "https://exemple.com/ans-sas/"


def search_answer(practitioners: int, slots_each: int) -> dict:
    bundle = example("Bundle-ExampleBundlePSIndiv.json")
    slot, schedule, practitioner, role = (bundle["entry"][i] for i in range(4))
    entries = []
    for p in range(practitioners):
        made = {}
        for kind, entry, rid in (("Practitioner", practitioner, f"P{p}"), ("PractitionerRole", role, f"R{p}"),
                                 ("Schedule", schedule, f"S{p}")):
            made[kind] = copy.deepcopy(entry)
            made[kind]["resource"]["id"], made[kind]["fullUrl"] = rid, f"{BASE}{kind}/{rid}"
        made["PractitionerRole"]["resource"]["practitioner"] = {"reference": f"Practitioner/P{p}"}
        made["Schedule"]["resource"]["actor"] = [{"reference": f"Practitioner/P{p}"}, {"reference": f"PractitionerRole/R{p}"}]
        for k in range(slots_each):
            item = copy.deepcopy(slot)
            item["resource"]["id"], item["fullUrl"] = f"SL{p}-{k}", f"{BASE}Slot/SL{p}-{k}"
            item["resource"]["schedule"] = {"reference": f"Schedule/S{p}"}
            entries.append(item)
        entries += made.values()
    bundle["entry"], bundle["total"] = entries, practitioners * slots_each
    return bundle


def median_ms(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    start = time.perf_counter()
    assert validate(example("Bundle-ExampleBundlePSIndiv.json")) == []
    print(f"first call (reads the package, parses 19 snapshots): {(time.perf_counter() - start) * 1000:.0f} ms")
    print("practitioners  slots  entries  validate (ms)  deepcopy (ms)  ratio")
    for practitioners, slots_each in ((1, 4), (1, 24), (25, 4), (25, 12), (25, 24)):
        bundle = search_answer(practitioners, slots_each)
        errors = validate(bundle)
        assert errors == [], errors[:3]
        ms = median_ms(lambda: validate(bundle))
        baseline = median_ms(lambda: copy.deepcopy(bundle))
        print(f"{practitioners:13d}  {practitioners * slots_each:5d}  {len(bundle['entry']):7d}  "
              f"{ms:13.1f}  {baseline:13.1f}  {ms / baseline:5.1f}")


if __name__ == "__main__":
    main()
