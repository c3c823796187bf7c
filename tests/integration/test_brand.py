"""Brand images: trimmed RGBA PNGs of the sizes Home Assistant asks for, as the script draws them.

From Home Assistant 2026.3 the `brands` integration serves a custom integration's own
`brand/` images (before asking the brands CDN), which the last tests fetch through the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
import importlib
from pathlib import Path
import struct
import zlib

from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_custom_components
from homeassistant.setup import async_setup_component
import numpy as np
from numpy.typing import NDArray
import pytest

# pytest-homeassistant-custom-component ships no py.typed marker, so its fixture types are Any.
from pytest_homeassistant_custom_component.test_util.aiohttp import (  # type: ignore[import-untyped]
    AiohttpClientMocker,
)
from pytest_homeassistant_custom_component.typing import (  # type: ignore[import-untyped]
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.nordic_v2h.const import DOMAIN
from scripts.render_brand import BRAND_DIR, render_brand

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# IHDR colour type 6: red, green, blue and alpha per pixel.
RGBA = 6
# The artwork counts as trimmed when fully opaque ink comes this close to every edge.
TRIM_TOLERANCE_PX = 3
# Card backgrounds of Home Assistant's default light and dark themes.
LIGHT_BACKGROUND = (0xFF, 0xFF, 0xFF)
DARK_BACKGROUND = (0x1C, 0x1C, 0x1C)
# WCAG's minimum contrast for graphical objects: the outline must read on the background.
MIN_OUTLINE_CONTRAST = 3.0


@dataclass(frozen=True)
class Png:
    """A decoded PNG: its size and its RGBA pixels (rows, columns, 4)."""

    width: int
    height: int
    pixels: NDArray[np.uint8]


def read_png(data: bytes) -> Png:
    """Decode a non-interlaced 8-bit RGBA PNG, checking every chunk's CRC.

    Rows filtered with None, Sub or Up are decoded (those cover what the script writes);
    any other filter fails the test rather than being decoded wrongly.
    """
    assert data.startswith(PNG_SIGNATURE), "not a PNG signature"
    chunks: list[tuple[bytes, bytes]] = []
    position = len(PNG_SIGNATURE)
    while position < len(data):
        (length,) = struct.unpack_from(">I", data, position)
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack_from(">I", data, position + 8 + length)
        assert crc == zlib.crc32(kind + body), f"bad CRC in the {kind!r} chunk"
        chunks.append((kind, body))
        position += 12 + length
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR", "IHDR must come first"
    assert kinds[-1] == b"IEND", "IEND must come last"
    width, height, bit_depth, colour_type, compression, filter_method, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    assert (compression, filter_method) == (0, 0)
    assert (bit_depth, colour_type, interlace) == (8, RGBA, 0), "only 8-bit RGBA is decoded"
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * 4
    assert len(raw) == height * (stride + 1), "image data does not fill the declared size"
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, stride + 1)
    pixels = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for index, (row_filter, row) in enumerate(zip(rows[:, 0], rows[:, 1:], strict=True)):
        match int(row_filter):
            case 0:
                pixels[index] = row
            case 1:
                # Each byte adds the same channel of the pixel to its left; uint8 wraps at 256.
                pixels[index] = np.add.accumulate(
                    row.reshape(width, 4), axis=0, dtype=np.uint8
                ).ravel()
            case 2:
                pixels[index] = row + previous
            case other:
                pytest.fail(f"row {index} uses PNG filter {other}, which this test does not decode")
        previous = pixels[index]
    return Png(width, height, pixels.reshape(height, width, 4))


def brand_png(name: str) -> Png:
    """Return the committed brand image `name`, decoded."""
    return read_png((BRAND_DIR / name).read_bytes())


def relative_luminance(rgb: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return WCAG relative luminance of sRGB colours (last axis: red, green, blue, 0-255)."""
    channel = rgb / 255
    linear = np.where(channel <= 0.04045, channel / 12.92, ((channel + 0.055) / 1.055) ** 2.4)
    luminance: NDArray[np.float64] = linear @ np.array([0.2126, 0.7152, 0.0722])
    return luminance


# Home Assistant's brand rules: file name, shortest side (at least, at most), square or not.
BRAND_SIZES: dict[str, tuple[int, int, bool]] = {
    "icon.png": (256, 256, True),
    "icon@2x.png": (512, 512, True),
    "logo.png": (128, 256, False),
    "logo@2x.png": (256, 512, False),
    "dark_logo.png": (128, 256, False),
    "dark_logo@2x.png": (256, 512, False),
}
BRAND_NAMES = sorted(BRAND_SIZES)


def image_id(name: str) -> str:
    """Return a test id for an image file name: icon@2x.png gives icon_2x."""
    return name.removesuffix(".png").replace("@", "_")


BRAND_FILES = [pytest.param(name, *rule, id=image_id(name)) for name, rule in BRAND_SIZES.items()]


@pytest.mark.parametrize(("name", "shortest_min", "shortest_max", "square"), BRAND_FILES)
def test_brand_image_is_valid_png_of_required_size(
    name: str, shortest_min: int, shortest_max: int, square: bool
) -> None:
    """Each image is a valid 8-bit RGBA PNG of the size Home Assistant's brand rules give."""
    png = brand_png(name)

    shortest = min(png.width, png.height)
    assert shortest_min <= shortest <= shortest_max
    if square:
        assert png.width == png.height
    else:
        assert png.width > png.height, "a logo is landscape"


@pytest.mark.parametrize("name", BRAND_NAMES, ids=image_id)
def test_brand_image_is_transparent_and_trimmed(name: str) -> None:
    """Corners are transparent, and opaque ink comes within a few pixels of every edge."""
    alpha = brand_png(name).pixels[..., 3]

    assert [alpha[0, 0], alpha[0, -1], alpha[-1, 0], alpha[-1, -1]] == [0, 0, 0, 0]
    opaque = alpha == 255
    edges = {
        "top": opaque[:TRIM_TOLERANCE_PX, :],
        "bottom": opaque[-TRIM_TOLERANCE_PX:, :],
        "left": opaque[:, :TRIM_TOLERANCE_PX],
        "right": opaque[:, -TRIM_TOLERANCE_PX:],
    }
    untouched = [edge for edge, band in edges.items() if not band.any()]
    assert not untouched, f"empty margin at the {', '.join(untouched)} edge"


@pytest.mark.parametrize(
    ("single", "double"),
    [
        pytest.param("icon.png", "icon@2x.png", id="icon"),
        pytest.param("logo.png", "logo@2x.png", id="logo"),
        pytest.param("dark_logo.png", "dark_logo@2x.png", id="dark_logo"),
    ],
)
def test_2x_image_doubles_its_single(single: str, double: str) -> None:
    """The @2x image is the same artwork at exactly twice the width and height."""
    small, large = brand_png(single), brand_png(double)

    assert (large.width, large.height) == (2 * small.width, 2 * small.height)


@pytest.mark.parametrize(
    ("name", "background"),
    [
        pytest.param("icon.png", LIGHT_BACKGROUND, id="icon_on_light"),
        pytest.param("icon.png", DARK_BACKGROUND, id="icon_on_dark"),
        pytest.param("logo.png", LIGHT_BACKGROUND, id="logo_on_light"),
        pytest.param("dark_logo.png", DARK_BACKGROUND, id="dark_logo_on_dark"),
    ],
)
def test_outline_reads_on_its_background(name: str, background: tuple[int, int, int]) -> None:
    """The opaque ink bordering the transparency contrasts with the theme's background.

    The icon passes on both themes, which is why there is no dark_icon; the logo's dark
    letters would not, so the dark theme gets dark_logo.
    """
    pixels = brand_png(name).pixels
    opaque = pixels[..., 3] == 255
    see_through = np.pad(pixels[..., 3] < 255, 1)
    beside_transparency = (
        see_through[:-2, 1:-1]
        | see_through[2:, 1:-1]
        | see_through[1:-1, :-2]
        | see_through[1:-1, 2:]
    )
    outline = np.unique(pixels[opaque & beside_transparency][:, :3], axis=0).astype(np.float64)
    outline_luminance = relative_luminance(outline)
    background_luminance = relative_luminance(np.array(background, dtype=np.float64))
    lighter = np.maximum(outline_luminance, background_luminance)
    darker = np.minimum(outline_luminance, background_luminance)

    assert ((lighter + 0.05) / (darker + 0.05)).min() >= MIN_OUTLINE_CONTRAST


@pytest.fixture(scope="module")
def rendered_now(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Render the brand images with the script into a fresh folder."""
    out_dir = tmp_path_factory.mktemp("brand")
    render_brand(out_dir)
    return out_dir


def test_script_renders_exactly_the_brand_files(rendered_now: Path) -> None:
    """The brand folder holds the script's files and nothing else."""
    assert sorted(path.name for path in rendered_now.iterdir()) == BRAND_NAMES
    assert sorted(path.name for path in BRAND_DIR.iterdir()) == BRAND_NAMES


@pytest.mark.parametrize("name", BRAND_NAMES, ids=image_id)
def test_committed_image_is_what_the_script_renders(name: str, rendered_now: Path) -> None:
    """The committed image has the script's pixels: rerun the script if not.

    Pixels, not bytes: another zlib build may compress the same pixels differently.
    """
    rendered = read_png((rendered_now / name).read_bytes())
    committed = brand_png(name)
    assert np.array_equal(rendered.pixels, committed.pixels), (
        f"{name} differs from what scripts/render_brand.py draws; rerun the script"
    )


def _has_brands_integration() -> bool:
    """Return whether this Home Assistant has the brands integration (2026.3 and newer)."""
    try:
        importlib.import_module("homeassistant.components.brands")
    except ImportError:
        return False
    return True


needs_brands = pytest.mark.skipif(
    not _has_brands_integration(),
    reason="Home Assistant before 2026.3 has no brands integration to serve brand/ images",
)


@needs_brands
@pytest.mark.parametrize(
    ("requested", "served"),
    [
        pytest.param("icon.png", "icon.png", id="icon"),
        pytest.param("icon@2x.png", "icon@2x.png", id="icon_2x"),
        pytest.param("logo.png", "logo.png", id="logo"),
        pytest.param("logo@2x.png", "logo@2x.png", id="logo_2x"),
        pytest.param("dark_logo.png", "dark_logo.png", id="dark_logo"),
        pytest.param("dark_logo@2x.png", "dark_logo@2x.png", id="dark_logo_2x"),
        # No dark icon is shipped: Home Assistant falls back to the icon, which reads on dark.
        pytest.param("dark_icon.png", "icon.png", id="dark_icon_falls_back_to_icon"),
        pytest.param("dark_icon@2x.png", "icon@2x.png", id="dark_icon_2x_falls_back"),
    ],
)
async def test_brands_api_serves_our_image(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    requested: str,
    served: str,
) -> None:
    """Home Assistant serves the integration's own image to a logged-in user, not the CDN's.

    `aioclient_mock` stands in for Home Assistant's outgoing HTTP session, so a request to
    the brands CDN would be recorded here instead of leaving the machine.
    """
    assert DOMAIN in await async_get_custom_components(hass)
    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()

    response = await client.get(f"/api/brands/integration/{DOMAIN}/{requested}")

    assert response.status == HTTPStatus.OK
    assert response.content_type == "image/png"
    assert await response.read() == (BRAND_DIR / served).read_bytes()
    assert aioclient_mock.call_count == 0, "the brands CDN was asked"


@needs_brands
async def test_brands_api_needs_the_access_token(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Without a login the image needs the token the frontend asks for over the websocket."""
    assert await async_setup_component(hass, "brands", {})
    websocket = await hass_ws_client(hass)
    await websocket.send_json({"id": 1, "type": "brands/access_token"})
    reply = await websocket.receive_json()
    assert reply["success"]
    client = await hass_client_no_auth()
    url = f"/api/brands/integration/{DOMAIN}/icon.png"

    refused = await client.get(url)
    allowed = await client.get(url, params={"token": reply["result"]["token"]})

    assert refused.status == HTTPStatus.FORBIDDEN
    assert allowed.status == HTTPStatus.OK
    assert await allowed.read() == (BRAND_DIR / "icon.png").read_bytes()
    assert aioclient_mock.call_count == 0, "the brands CDN was asked"
