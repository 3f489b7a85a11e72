"""The skill's images, drawn in code: the two store icons and the AudioPlayer's art and
background, all from one motif so they read as one thing.

The motif is a calm one that stays legible at 108 px: a warm full circle (a breath held, a
low sun) resting in a wide cream bowl (the pelvis is a basin), over a deep sea-teal ground,
with a soft ripple beneath. No text: a word is unreadable at 108 px, and fonts differ from
machine to machine while these files must come out the same everywhere. Each image is drawn
at four times its size and scaled down, which smooths every edge.

Sizes: the store icons are 108 x 108 and 512 x 512 PNG (Alexa's skill manifest); the art a
screen device shows beside a playing stream is 480 x 480 and the background behind it
1024 x 640 (the sizes Amazon's AudioPlayer reference recommends for AudioItemMetadata's
``art`` and ``backgroundImage``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

SCALE = 4  # drawn this many times larger, then scaled down
GROUND_TOP, GROUND_BOTTOM = (24, 70, 82), (40, 104, 106)  # deep sea teal, a little lighter below
SUN = (243, 206, 160)  # warm sand
BOWL = (246, 239, 226)  # cream
RIPPLE = (160, 202, 196)  # pale sea green, quieter than the bowl


@dataclass(frozen=True)
class Picture:
    """One image the skill publishes: where it goes under the site's root, and its size."""

    path: str
    width: int
    height: int
    purpose: str


ICON_SMALL = Picture("images/icon-108.png", 108, 108, "store icon, small (smallIconUri)")
ICON_LARGE = Picture("images/icon-512.png", 512, 512, "store icon, large (largeIconUri)")
ART = Picture("images/art-480.png", 480, 480, "AudioPlayer art beside a playing stream")
BACKGROUND = Picture("images/background-1024x640.png", 1024, 640, "AudioPlayer background image")
PICTURES = (ICON_SMALL, ICON_LARGE, ART, BACKGROUND)


def _ground(width: int, height: int) -> Image.Image:
    """The teal ground, a vertical gradient."""
    ground = Image.new("RGB", (1, height))
    for y in range(height):
        share = y / max(1, height - 1)
        ground.putpixel(
            (0, y), tuple(round(a + (b - a) * share) for a, b in zip(GROUND_TOP, GROUND_BOTTOM, strict=True))
        )
    return ground.resize((width, height))


def _motif(draw: ImageDraw.ImageDraw, cx: float, cy: float, unit: float) -> None:
    """The sun resting in the bowl, and the ripple under it, centred on (cx, cy); ``unit`` is
    the motif's height, so it can sit in a square icon or at the side of a wide background."""
    sun = 0.17 * unit
    draw.ellipse((cx - sun, cy - 0.16 * unit - sun, cx + sun, cy - 0.16 * unit + sun), fill=SUN)
    # the bowl: the lower half of a wide ellipse, drawn as a thick arc
    half_width, half_height, stroke = 0.36 * unit, 0.30 * unit, round(0.07 * unit)
    box = (cx - half_width, cy - 0.26 * unit - half_height, cx + half_width, cy - 0.26 * unit + half_height)
    draw.arc(box, start=12, end=168, fill=BOWL, width=stroke)
    # a soft ripple beneath: a flatter, thinner arc
    ripple = (cx - 0.26 * unit, cy + 0.05 * unit, cx + 0.26 * unit, cy + 0.21 * unit)
    draw.arc(ripple, start=25, end=155, fill=RIPPLE, width=round(0.035 * unit))


def draw(picture: Picture) -> Image.Image:
    """The picture, at its size."""
    width, height = picture.width * SCALE, picture.height * SCALE
    image = _ground(width, height)
    canvas = ImageDraw.Draw(image)
    if width == height:  # icons and art: the motif in the middle, inside the circle the app crops to
        _motif(canvas, width / 2, height * 0.56, 0.86 * height)
    else:  # the background: the motif to the right, quieter room on the left for the title
        _motif(canvas, width * 0.72, height * 0.58, 0.78 * height)
    return image.resize((picture.width, picture.height), Image.Resampling.LANCZOS)


def write_all(folder: Path) -> list[Path]:
    """Every picture as a PNG under ``folder`` (at its ``path``); the files written."""
    written = []
    for picture in PICTURES:
        target = folder / picture.path
        target.parent.mkdir(parents=True, exist_ok=True)
        # no timestamps or other chunks that vary: the same bytes on every machine and run
        draw(picture).save(target, format="PNG", optimize=True)
        written.append(target)
    return written
