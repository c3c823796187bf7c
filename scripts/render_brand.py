"""Draw the Nordic V2H brand images: a house whose battery is the car parked inside it.

The icon is a blue house with a white car in it and an amber lightning bolt in the gable
between them; the logo is the icon beside the word mark "NORDIC V2H" in rounded strokes.
Every shape is geometry (polygons, discs, strokes), sampled on a grid four times finer than
the pixels and averaged down, then written as 8-bit RGBA PNG with zlib and struct alone.
Whether a sample is inside a shape is decided with + - * / and comparisons only (no
trigonometry, whose last bit differs between maths libraries), and the pixels are averaged in
integers, so the files are the same bytes on every run.

Usage: .venv/bin/python scripts/render_brand.py [--out DIR]
Writes icon.png, icon@2x.png, logo.png, logo@2x.png, dark_logo.png and dark_logo@2x.png into
custom_components/nordic_v2h/brand/ (or DIR). The icon reads on light and dark backgrounds;
the logo's letters do not, so the dark_ logo has light letters.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
import itertools
import math
from pathlib import Path
import struct
import sys
from typing import TYPE_CHECKING, Final, Protocol
import zlib

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
BRAND_DIR = ROOT / "custom_components" / "nordic_v2h" / "brand"

# Each pixel is the average of SUPERSAMPLE x SUPERSAMPLE samples: 17 levels of edge coverage.
SUPERSAMPLE: Final = 4
# Home Assistant's brand rules: the icon is 256 px square, the logo 256 px high, @2x doubles.
ICON_PX: Final = 256
# Fixed, so that the bytes do not depend on a default that a zlib release might change.
ZLIB_LEVEL: Final = 9

# The ink of each sample; TRANSPARENT where nothing is drawn.
TRANSPARENT: Final = 0
HOUSE: Final = 1
CAR: Final = 2
BOLT: Final = 3
LETTERS: Final = 4
ACCENT: Final = 5

type Rgb = tuple[int, int, int]
type Palette = dict[int, Rgb]
type Point = tuple[float, float]

# Mid blue, white and amber: the blue house stands out on white and on near-black alike, and
# the white car and amber bolt are drawn on the blue, so the icon needs no dark variant.
BLUE: Final[Rgb] = (0x2B, 0x7B, 0xE4)
WHITE: Final[Rgb] = (0xFF, 0xFF, 0xFF)
AMBER: Final[Rgb] = (0xFF, 0xB8, 0x1C)
LIGHT_PALETTE: Final[Palette] = {
    HOUSE: BLUE,
    CAR: WHITE,
    BOLT: AMBER,
    LETTERS: (0x1C, 0x2B, 0x3A),
    ACCENT: BLUE,
}
# Letters on a dark background: the light logo's near-black letters would vanish there.
DARK_PALETTE: Final[Palette] = {
    **LIGHT_PALETTE,
    LETTERS: (0xEE, 0xF2, 0xF6),
    ACCENT: (0x5A, 0x9B, 0xF0),
}

# cos 45 degrees, the only angle other than right angles that the drawing uses.
_DIAGONAL: Final = math.sqrt(0.5)
# Unit vectors of the compass angles in degrees, clockwise from east (y points down).
_DIRECTIONS: Final[dict[int, Point]] = {
    0: (1.0, 0.0),
    45: (_DIAGONAL, _DIAGONAL),
    90: (0.0, 1.0),
    135: (-_DIAGONAL, _DIAGONAL),
    180: (-1.0, 0.0),
    225: (-_DIAGONAL, -_DIAGONAL),
    270: (0.0, -1.0),
    315: (_DIAGONAL, -_DIAGONAL),
}


class Shape(Protocol):
    """A region of the design plane (in design units: icon pixels at 1x, y pointing down)."""

    def bounds(self) -> tuple[float, float, float, float]:
        """Return (left, top, right, bottom) enclosing the region."""

    def contains(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Return which of the points (x, y) lie inside."""


@dataclass(frozen=True, slots=True)
class Polygon:
    """A simple polygon, filled by the even-odd rule."""

    points: tuple[Point, ...]

    def bounds(self) -> tuple[float, float, float, float]:
        """Return the box around the corners."""
        xs = [x for x, _ in self.points]
        ys = [y for _, y in self.points]
        return min(xs), min(ys), max(xs), max(ys)

    def contains(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Count the edges a ray to the right crosses (a sign test, so no division)."""
        inside = np.zeros(x.shape, dtype=np.bool_)
        for (x0, y0), (x1, y1) in itertools.pairwise((*self.points, self.points[0])):
            if y0 == y1:
                continue  # A horizontal edge is never crossed by a horizontal ray.
            spans = (y0 <= y) != (y1 <= y)
            left_of_edge = ((x1 - x0) * (y - y0) - (y1 - y0) * (x - x0) > 0) == (y1 > y0)
            inside ^= spans & left_of_edge
        return inside


@dataclass(frozen=True, slots=True)
class RoundedRect:
    """An axis-aligned rectangle with quarter-circle corners."""

    left: float
    top: float
    right: float
    bottom: float
    radius: float

    def bounds(self) -> tuple[float, float, float, float]:
        """Return the rectangle itself."""
        return self.left, self.top, self.right, self.bottom

    def contains(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Return the points within `radius` of the rectangle shrunk by `radius`."""
        r = self.radius
        dx = x - np.clip(x, self.left + r, self.right - r)
        dy = y - np.clip(y, self.top + r, self.bottom - r)
        within: NDArray[np.bool_] = dx * dx + dy * dy <= r * r
        return within


@dataclass(frozen=True, slots=True)
class Disc:
    """A filled circle."""

    cx: float
    cy: float
    radius: float

    def bounds(self) -> tuple[float, float, float, float]:
        """Return the square around the circle."""
        r = self.radius
        return self.cx - r, self.cy - r, self.cx + r, self.cy + r

    def contains(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Compare squared distances, so that no square root can round differently."""
        inside: NDArray[np.bool_] = (x - self.cx) ** 2 + (y - self.cy) ** 2 <= self.radius**2
        return inside


@dataclass(frozen=True, slots=True)
class Stroke:
    """A straight pen stroke with round ends: the points within width/2 of a segment."""

    start: Point
    end: Point
    width: float

    def bounds(self) -> tuple[float, float, float, float]:
        """Return the segment's box grown by half the width."""
        half = self.width / 2
        (x0, y0), (x1, y1) = self.start, self.end
        return min(x0, x1) - half, min(y0, y1) - half, max(x0, x1) + half, max(y0, y1) + half

    def contains(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Measure the squared distance to the nearest point of the segment."""
        (x0, y0), (x1, y1) = self.start, self.end
        along_x, along_y = x1 - x0, y1 - y0
        length_sq = along_x * along_x + along_y * along_y
        share = np.clip(((x - x0) * along_x + (y - y0) * along_y) / length_sq, 0.0, 1.0)
        dx = x - (x0 + share * along_x)
        dy = y - (y0 + share * along_y)
        inside: NDArray[np.bool_] = dx * dx + dy * dy <= (self.width / 2) ** 2
        return inside


@dataclass(frozen=True, slots=True)
class Arc:
    """A circular pen stroke with round ends, from `start_deg` clockwise through `sweep_deg`.

    Angles are multiples of 45 degrees, so the ends and the angular test stay exact.
    """

    cx: float
    cy: float
    radius: float
    width: float
    start_deg: int
    sweep_deg: int

    def bounds(self) -> tuple[float, float, float, float]:
        """Return the box of the whole circle (simpler, and only a little wasteful)."""
        reach = self.radius + self.width / 2
        return self.cx - reach, self.cy - reach, self.cx + reach, self.cy + reach

    def end_points(self) -> tuple[Point, Point]:
        """Return where the stroke starts and ends (the centres of its round caps)."""
        return self._point(self.start_deg), self._point(self.start_deg + self.sweep_deg)

    def contains(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Return the ring's points within the angle, and the two round caps."""
        half = self.width / 2
        dist_sq = (x - self.cx) ** 2 + (y - self.cy) ** 2
        ring = (dist_sq >= (self.radius - half) ** 2) & (dist_sq <= (self.radius + half) ** 2)
        inside: NDArray[np.bool_] = ring & self._within_angle(x - self.cx, y - self.cy)
        for cap_x, cap_y in self.end_points():
            inside |= Disc(cap_x, cap_y, half).contains(x, y)
        return inside

    def _point(self, degrees: int) -> Point:
        dir_x, dir_y = _DIRECTIONS[degrees % 360]
        return self.cx + self.radius * dir_x, self.cy + self.radius * dir_y

    def _within_angle(self, dx: NDArray[np.float64], dy: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Test the angle with cross products against the two end directions."""
        if self.sweep_deg >= 360:
            return np.ones(dx.shape, dtype=np.bool_)
        start_x, start_y = _DIRECTIONS[self.start_deg % 360]
        end_x, end_y = _DIRECTIONS[(self.start_deg + self.sweep_deg) % 360]
        # With y down, a positive cross product means clockwise of the direction.
        after_start = start_x * dy - start_y * dx >= 0
        before_end = dx * end_y - dy * end_x >= 0
        if self.sweep_deg <= 180:
            within: NDArray[np.bool_] = after_start & before_end
            return within
        # A reflex sweep is everything except the smaller arc between end and start.
        return after_start | before_end


@dataclass(frozen=True, slots=True)
class Layer:
    """A shape painted with one ink over the layers before it."""

    shape: Shape
    ink: int


@dataclass(frozen=True, slots=True)
class Artwork:
    """Layers to paint in order on a canvas of `width` x `height` design units."""

    width: int
    height: int
    layers: tuple[Layer, ...]


def icon_layers() -> tuple[Layer, ...]:
    """Return the icon in the 256-unit square at the origin.

    The house fills the square; the car sits on its floor and the bolt comes down from the
    gable onto the car's roof, the energy passing between the two.
    """
    house = (
        # The roof reaches the left, top and right edges; the walls the bottom.
        Layer(Polygon(((128, 0), (256, 120), (0, 120))), HOUSE),
        Layer(Polygon(((30, 96), (226, 96), (226, 256), (30, 256))), HOUSE),
    )
    car = (
        Layer(RoundedRect(48, 180, 208, 230, 16), CAR),
        Layer(Polygon(((76, 184), (100, 148), (156, 148), (180, 184))), CAR),
        # Windows and wheel arches in house blue, so that the white car keeps its shape.
        Layer(Polygon(((96, 178), (110, 158), (124, 158), (124, 178))), HOUSE),
        Layer(Polygon(((132, 178), (132, 158), (146, 158), (160, 178))), HOUSE),
        Layer(Disc(88, 230, 22), HOUSE),
        Layer(Disc(168, 230, 22), HOUSE),
        Layer(Disc(88, 230, 14), CAR),
        Layer(Disc(168, 230, 14), CAR),
    )
    bolt_outline = ((136, 34), (102, 92), (124, 92), (112, 138), (154, 76), (131, 76), (152, 34))
    return (*house, *car, Layer(Polygon(bolt_outline), BOLT))


# The word mark's pen: cap height and stroke width in design units.
CAP_HEIGHT: Final = 100.0
PEN: Final = 19.0
# Space between letters and between the words, as shares of the cap height.
TRACKING: Final = 0.17
WORD_SPACE: Final = 0.34
# Space between the icon and the word mark, in design units.
ICON_GAP: Final = 56.0


def glyph_strokes(letter: str, left: float, top: float) -> tuple[float, list[Shape]]:
    """Return the width of `letter` and its strokes, drawn from (left, top) at CAP_HEIGHT.

    The glyphs are designed in units of the cap height; the pen's centre line keeps half a
    pen width inside the box so that the ink touches the cap line and the baseline.
    """
    pen = PEN / CAP_HEIGHT
    inset = pen / 2
    bottom = 1 - inset

    def line(*points: Point) -> list[Shape]:
        return [Stroke(place(start), place(end), PEN) for start, end in itertools.pairwise(points)]

    def arc(cx: float, cy: float, radius: float, start_deg: int, sweep_deg: int) -> Shape:
        x, y = place((cx, cy))
        return Arc(x, y, radius * CAP_HEIGHT, PEN, start_deg, sweep_deg)

    def place(point: Point) -> Point:
        return left + point[0] * CAP_HEIGHT, top + point[1] * CAP_HEIGHT

    match letter:
        case "N":
            width = 0.8
            right = width - inset
            return width, line((inset, bottom), (inset, inset), (right, bottom), (right, inset))
        case "O":
            width = 1.0
            return width, [arc(0.5, 0.5, 0.5 - inset, 0, 360)]
        case "R":
            width = 0.74
            bowl_bottom = 0.56
            bowl_radius = (bowl_bottom - inset) / 2
            bowl_x = width - inset - bowl_radius
            return width, [
                *line((inset, bottom), (inset, inset), (bowl_x, inset)),
                arc(bowl_x, inset + bowl_radius, bowl_radius, 270, 180),
                *line((bowl_x, bowl_bottom), (inset, bowl_bottom)),
                # The leg leaves a little left of where the bowl closes, so the joint is solid.
                *line((bowl_x - 0.04, bowl_bottom), (width - inset, bottom)),
            ]
        case "D":
            width = 0.86
            bowl_x = width - 0.5
            return width, [
                *line((bowl_x, inset), (inset, inset), (inset, bottom), (bowl_x, bottom)),
                arc(bowl_x, 0.5, 0.5 - inset, 270, 180),
            ]
        case "I":
            return pen, line((inset, inset), (inset, bottom))
        case "C":
            radius = 0.5 - inset
            # The open ends sit at 45 degrees, so the letter is narrower than the O.
            width = 0.5 + radius * _DIAGONAL + inset
            return width, [arc(0.5, 0.5, radius, 45, 270)]
        case "V":
            width = 0.86
            return width, line((inset, inset), (width / 2, bottom), (width - inset, inset))
        case "2":
            width = 0.72
            radius = width / 2 - inset
            centre_x, centre_y = width / 2, inset + radius
            # The bowl runs from the left over the top to 45 degrees below the right, where
            # the diagonal leaves for the bottom-left corner.
            turn = (centre_x + radius * _DIAGONAL, centre_y + radius * _DIAGONAL)
            return width, [
                arc(centre_x, centre_y, radius, 180, 225),
                *line(turn, (inset, bottom), (width - inset, bottom)),
            ]
        case "H":
            width = 0.8
            right = width - inset
            return width, [
                *line((inset, inset), (inset, bottom)),
                *line((right, inset), (right, bottom)),
                *line((inset, 0.5), (right, 0.5)),
            ]
        case _:
            raise ValueError(f"the word mark has no glyph for {letter!r}")


def word_mark(
    words: Sequence[tuple[str, int]], left: float, top: float
) -> tuple[float, list[Layer]]:
    """Return the right edge and the layers of `words`, each (text, ink), set from (left, top)."""
    layers: list[Layer] = []
    cursor = left
    for index, (text, ink) in enumerate(words):
        if index:
            cursor += (WORD_SPACE - TRACKING) * CAP_HEIGHT
        for letter in text:
            width, strokes = glyph_strokes(letter, cursor, top)
            layers.extend(Layer(stroke, ink) for stroke in strokes)
            cursor += (width + TRACKING) * CAP_HEIGHT
    return cursor - TRACKING * CAP_HEIGHT, layers


def icon_artwork() -> Artwork:
    """Return the square icon."""
    return Artwork(ICON_PX, ICON_PX, icon_layers())


def logo_artwork() -> Artwork:
    """Return the icon at the left and, beside it, the word mark centred on its height."""
    top = (ICON_PX - CAP_HEIGHT) / 2
    right, letters = word_mark((("NORDIC", LETTERS), ("V2H", ACCENT)), ICON_PX + ICON_GAP, top)
    # Rounded up to a whole pixel: the last letter then ends less than a pixel from the edge.
    return Artwork(math.ceil(right), ICON_PX, (*icon_layers(), *letters))


def rasterize(artwork: Artwork, scale: int, palette: Palette) -> NDArray[np.uint8]:
    """Return the artwork as straight-alpha RGBA pixels, `scale` pixels per design unit.

    Each shape is evaluated only on the samples inside its bounds; a sample takes the ink of
    the last shape that covers it, and a pixel averages its samples' colours and coverage.
    """
    per_unit = scale * SUPERSAMPLE
    rows, cols = artwork.height * per_unit, artwork.width * per_unit
    inks = np.full((rows, cols), TRANSPARENT, dtype=np.uint8)
    for layer in artwork.layers:
        left, top, right, bottom = layer.shape.bounds()
        col0, row0 = max(0, math.floor(left * per_unit)), max(0, math.floor(top * per_unit))
        col1 = min(cols, math.ceil(right * per_unit) + 1)
        row1 = min(rows, math.ceil(bottom * per_unit) + 1)
        if col0 >= col1 or row0 >= row1:
            continue
        # Sample centres; per_unit is a power of two, so these coordinates are exact.
        x = (np.arange(col0, col1, dtype=np.float64) + 0.5) / per_unit
        y = (np.arange(row0, row1, dtype=np.float64) + 0.5) / per_unit
        grid_x, grid_y = np.meshgrid(x, y)
        inks[row0:row1, col0:col1][layer.shape.contains(grid_x, grid_y)] = layer.ink

    height_px, width_px = artwork.height * scale, artwork.width * scale
    blocks = inks.reshape(height_px, SUPERSAMPLE, width_px, SUPERSAMPLE)
    samples = SUPERSAMPLE * SUPERSAMPLE
    covered = np.zeros((height_px, width_px), dtype=np.int64)
    colour_sums = np.zeros((*covered.shape, 3), dtype=np.int64)
    for ink, rgb in palette.items():
        count = (blocks == ink).sum(axis=(1, 3), dtype=np.int64)
        covered += count
        colour_sums += count[..., np.newaxis] * np.array(rgb, dtype=np.int64)
    pixels = np.zeros((*covered.shape, 4), dtype=np.uint8)
    # Integer rounding throughout: the same counts always give the same bytes.
    pixels[..., 3] = (covered * 255 + samples // 2) // samples
    divisor = np.maximum(covered, 1)[..., np.newaxis]
    pixels[..., :3] = (colour_sums + divisor // 2) // divisor
    return pixels


def _chunk(kind: bytes, data: bytes) -> bytes:
    """Return one PNG chunk: length, type, data and the CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pixels: NDArray[np.uint8]) -> bytes:
    """Return RGBA pixels (rows, columns, 4) as an 8-bit PNG with no ancillary chunks.

    Every row uses the Up filter (the difference from the row above), which suits flat
    artwork: whole runs of repeated rows become zeros.
    """
    height, width, _ = pixels.shape
    above = np.zeros_like(pixels)
    above[1:] = pixels[:-1]
    # uint8 arithmetic wraps modulo 256, exactly as the filter is defined.
    filtered = (pixels - above).reshape(height, width * 4)
    rows = np.hstack([np.full((height, 1), 2, dtype=np.uint8), filtered])
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), ZLIB_LEVEL)),
            _chunk(b"IEND", b""),
        )
    )


def brand_images() -> dict[str, bytes]:
    """Return every brand file name with its PNG bytes."""
    icon, logo = icon_artwork(), logo_artwork()
    images: dict[str, bytes] = {}
    for suffix, scale in (("", 1), ("@2x", 2)):
        images[f"icon{suffix}.png"] = encode_png(rasterize(icon, scale, LIGHT_PALETTE))
        images[f"logo{suffix}.png"] = encode_png(rasterize(logo, scale, LIGHT_PALETTE))
        images[f"dark_logo{suffix}.png"] = encode_png(rasterize(logo, scale, DARK_PALETTE))
    return images


def render_brand(out_dir: Path = BRAND_DIR) -> list[Path]:
    """Write every brand image into `out_dir` and return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in sorted(brand_images().items()):
        path = out_dir / name
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Render the brand images into the integration (or --out) and list them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BRAND_DIR, help="folder to write into")
    args = parser.parse_args(argv)
    for path in render_brand(args.out):
        print(f"{path.name}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
