"""Make resources/maps/india-states.json, the state outlines the app draws India with.

Run once, by hand, when the outlines are to be remade (the app only reads the JSON):

    npm pack @svg-maps/india            # india-2.0.0.tgz: india.svg, CC BY 4.0
    tar xzf svg-maps-india-2.0.0.tgz
    python resources/maps/make_india_states.py package/india.svg

Source: "Map of India" from @svg-maps/india 2.0.0 by Victor Cazanave, based on MapSVG's map of
India (https://mapsvg.com/maps/india), under CC BY 4.0 (see LICENSE.md beside this file).

What this script changes: the SVG's paths are turned back into longitude and latitude (the map
is drawn in the Mercator projection over India's extent, 68.18-97.40 E and 6.75-37.09 N, the
bounding box MapSVG gives it), simplified with the Douglas-Peucker rule to about 4 km
(0.04 degrees), islets smaller than that dropped, and rounded to 0.01 degree. Only the outlines
and the state names are kept.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

OUT = Path(__file__).with_name("india-states.json")
# MapSVG's geographic view box for its India map: west, north, east, south (degrees).
WEST, NORTH, EAST, SOUTH = 68.176645, 37.085258, 97.395561, 6.754561
TOLERANCE = 0.04  # degrees; about 4 km: finer than the app ever draws a state outline
SOURCE = {
    "title": "Map of India (@svg-maps/india 2.0.0)",
    "author": "Victor Cazanave, based on the map of India by MapSVG",
    "url": "https://github.com/VictorCazanave/svg-maps/tree/master/packages/india",
    "original": "https://mapsvg.com/maps/india",
    "license": "CC BY 4.0",
    "license_url": "https://creativecommons.org/licenses/by/4.0/",
    "changes": (
        "paths converted from the Mercator-projected SVG back to longitude and latitude, "
        "simplified (Douglas-Peucker, 0.04 degree), islets under that dropped, rounded to "
        "0.01 degree; only outlines and names kept"
    ),
}


def _merc(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _lat(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)


def rings(d: str) -> list[list[tuple[float, float]]]:
    """The closed rings of an SVG path made of m/M, l/L and z/Z commands."""
    tokens = re.findall(r"[MmLlZz]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", d)
    out: list[list[tuple[float, float]]] = []
    ring: list[tuple[float, float]] = []
    x = y = 0.0
    start = (0.0, 0.0)
    cmd = ""
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t in "MmLlZz":
            cmd = t
            i += 1
            if t in "Zz":
                if ring:
                    out.append(ring)
                ring = []
                x, y = start
            continue
        dx, dy = float(tokens[i]), float(tokens[i + 1])
        i += 2
        if cmd in "ml":
            x, y = x + dx, y + dy
        else:
            x, y = dx, dy
        if cmd in "Mm":
            if ring:
                out.append(ring)
            ring = [(x, y)]
            start = (x, y)
            cmd = "l" if cmd == "m" else "L"  # further pairs after a moveto are linetos
        else:
            ring.append((x, y))
    if ring:
        out.append(ring)
    return out


def _simplify(points: list[tuple[float, float]], tol: float) -> list[tuple[float, float]]:
    if len(points) < 3:
        return points
    (x0, y0), (x1, y1) = points[0], points[-1]
    dx, dy = x1 - x0, y1 - y0
    norm = math.hypot(dx, dy)
    best, index = -1.0, 0
    for k, (px, py) in enumerate(points[1:-1], 1):
        if norm == 0:
            dist = math.hypot(px - x0, py - y0)
        else:
            dist = abs(dy * px - dx * py + x1 * y0 - y1 * x0) / norm
        if dist > best:
            best, index = dist, k
    if best <= tol:
        return [points[0], points[-1]]
    left = _simplify(points[: index + 1], tol)
    return left[:-1] + _simplify(points[index:], tol)


def _area(ring: list[tuple[float, float]]) -> float:
    return 0.5 * abs(
        sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))
    )


def convert(svg: str) -> dict[str, object]:
    width, height = (float(v) for v in re.search(r'viewBox="0 0 (\S+) (\S+)"', svg).groups())  # type: ignore[union-attr]
    top, bottom = _merc(NORTH), _merc(SOUTH)
    states = []
    for sid, name, d in re.findall(
        r'<path\s+id="([^"]+)"\s+aria-label="([^"]+)"\s+d="([^"]+)"', svg
    ):
        polys = []
        for ring in rings(d):
            geo = [
                (WEST + x / width * (EAST - WEST), _lat(top - y / height * (top - bottom)))
                for x, y in ring
            ]
            # Split the closed ring in two so Douglas-Peucker has distinct ends.
            half = len(geo) // 2
            simple = _simplify(geo[: half + 1], TOLERANCE)[:-1] + _simplify(geo[half:], TOLERANCE)
            if len(simple) >= 3 and _area(simple) >= TOLERANCE**2:
                polys.append([[round(lon, 2), round(lat, 2)] for lon, lat in simple])
        if polys:
            states.append({"id": sid, "name": name, "rings": polys})
    return {"source": SOURCE, "projection": "longitude, latitude (degrees)", "states": states}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    data = convert(Path(argv[0]).read_text(encoding="utf-8"))
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    n = sum(len(r) for s in data["states"] for p in s["rings"] for r in [p])  # type: ignore[index]
    print(f"{OUT}: {len(data['states'])} states, {n} points, {OUT.stat().st_size} bytes")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
