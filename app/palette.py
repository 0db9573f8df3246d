"""Class colours for the mask overlay and the class picker: saturated, distinct on grey metal, Qt-free."""

from __future__ import annotations

from core.request import CLEANUP_CLASS

RGB = tuple[int, int, int]

# NEU-DET's six classes get fixed colours so screenshots and habits stay stable across models.
NAMED: dict[str, RGB] = {
    "crazing": (255, 149, 0),
    "inclusion": (0, 170, 255),
    "patches": (191, 90, 242),
    "pitted_surface": (255, 214, 10),
    "rolled-in_scale": (48, 209, 88),
    "scratches": (255, 55, 95),
    # Clean-up is no defect but must show on bright and dark steel alike: a deep, saturated blue (white-grey
    # vanished on bright plates).
    CLEANUP_CLASS: (40, 60, 255),
}
FALLBACK: tuple[RGB, ...] = (
    (255, 55, 95),
    (0, 170, 255),
    (48, 209, 88),
    (255, 149, 0),
    (191, 90, 242),
    (255, 214, 10),
    (100, 210, 255),
    (255, 105, 180),
    (172, 142, 104),
    (90, 200, 250),
    (255, 69, 58),
    (102, 212, 207),
)


def class_color(name: str, index: int) -> RGB:
    """Colour of a class: its fixed colour if it has one, else a palette entry by index."""
    return NAMED.get(name.lower(), FALLBACK[index % len(FALLBACK)])
