"""The six NEU surface-defect classes, drawn as luminance changes on a metal surface.

Each drawer takes the surface luminance (H, W float32, 0..255), a numpy Generator and the rolling direction
(degrees, counter-clockwise, 0 = streaks left to right) and returns one signed luminance change per defect
instance. `core.procedural` adds them to the image and derives the exact mask from the pixels that changed.
Sizes are tuned for NEU's 200x200 and scale with the image. Darkening is multiplicative (a share of the local
luminance) and brightening a share of the headroom, so a defect keeps its look on dark and bright steel alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from core.procedural_noise import (
    direction,
    fractal_noise,
    smooth_noise,
    smoothstep,
    soft_ellipse,
    streak_noise,
)

DefectDrawer = Callable[[np.ndarray, np.random.Generator, float], list[np.ndarray]]


def _scale(lum: np.ndarray) -> float:
    return min(lum.shape) / 200.0


def _darken(lum: np.ndarray, amount: np.ndarray) -> np.ndarray:
    return -lum * amount


def _brighten(lum: np.ndarray, amount: np.ndarray) -> np.ndarray:
    return (255.0 - lum) * amount


def _random_center(rng: np.random.Generator, shape: tuple[int, int], margin: float = 0.1) -> tuple[float, float]:
    height, width = shape
    return (float(rng.uniform(margin, 1 - margin) * width), float(rng.uniform(margin, 1 - margin) * height))


def _local_frame(
    shape: tuple[int, int], center: tuple[float, float], angle_deg: float, radius: float
) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray]:
    """A window around `center` and the (along, across) coordinates of its pixels for a shape at `angle_deg`."""
    height, width = shape
    x0, x1 = max(0, int(center[0] - radius)), min(width, int(center[0] + radius) + 2)
    y0, y1 = max(0, int(center[1] - radius)), min(height, int(center[1] + radius) + 2)
    x1, y1 = max(x0, x1), max(y0, y1)  # a shape wholly off the frame gets an empty window
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx, dy = xs - center[0], ys - center[1]
    ux, uy = direction(angle_deg)
    along = dx * ux + dy * uy
    across = -dx * uy + dy * ux
    return (slice(y0, y1), slice(x0, x1)), along, across


# --- scratches: thin, long, slightly curved lines; sometimes a bundle of parallel ones --------------------------


def _scratch_path(
    rng: np.random.Generator, shape: tuple[int, int], angle_deg: float, length: float, center: tuple[float, float]
) -> np.ndarray:
    """Points every ~2 px along a gently bending line through `center`."""
    count = max(int(length / 2.0), 4)
    t = np.linspace(-0.5, 0.5, count)
    bend = rng.normal(0.0, 0.35)  # total change of heading, radians, over the whole length
    drift = np.cumsum(rng.normal(0.0, 0.012, count))
    heading = math.radians(angle_deg) + bend * t + drift - drift.mean()
    step = length / count
    xs = np.cumsum(np.cos(heading) * step)
    ys = np.cumsum(-np.sin(heading) * step)
    xs += center[0] - xs[count // 2]
    ys += center[1] - ys[count // 2]
    return np.stack([xs, ys], axis=1)


def scratches(lum: np.ndarray, rng: np.random.Generator, rolling_angle: float) -> list[np.ndarray]:
    shape = lum.shape
    s = _scale(lum)
    deltas = []
    for _ in range(int(rng.choice([1, 1, 1, 2, 2, 3]))):
        # NEU scratches run mostly across or obliquely to the rolling direction, rarely exactly along it.
        angle = rolling_angle + float(rng.choice([90.0, 90.0, 60.0, 120.0, 30.0, 150.0, 0.0])) + rng.normal(0, 10)
        length = float(rng.uniform(0.3, 1.2) * max(shape))
        center = _random_center(rng, shape, 0.12)
        path = _scratch_path(rng, shape, angle, length, center)
        normal = np.array(direction(angle + 90.0))
        lines = 1 if rng.random() < 0.5 else int(rng.integers(2, 6))
        spacing = float(rng.uniform(2.5, 10.0) * s)
        canvas = np.zeros(shape, np.uint8)
        for k in range(lines):
            offset = (k - (lines - 1) / 2.0) * spacing * rng.uniform(0.7, 1.3)
            # Lines of a bundle start and end at different places, as a dragged particle scores unevenly.
            cut0 = int(rng.uniform(0, 0.3) * len(path)) if lines > 1 else 0
            cut1 = len(path) - (int(rng.uniform(0, 0.3) * len(path)) if lines > 1 else 0)
            points = path[cut0:cut1] + normal * offset
            if len(points) < 2:
                continue
            thickness = 1 if rng.random() < 0.7 else 2
            value = int(rng.uniform(150, 255))
            fixed = np.round(points * 16).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(canvas, [fixed], False, value, thickness, cv2.LINE_AA, shift=4)
        core = cv2.GaussianBlur(canvas.astype(np.float32) / 255.0, (0, 0), 0.45 * max(s, 1.0))
        # Scored metal throws a thin shadow beside the bright groove.
        flank = cv2.GaussianBlur(core, (0, 0), 1.6 * max(s, 1.0))
        along = np.clip(0.65 + 0.45 * smooth_noise(shape, rng, 22 * s), 0.0, 1.3)
        along = along * smoothstep(0.05, 0.25, along)  # occasional breaks in the line
        strength = float(rng.uniform(0.3, 0.7))
        profile = np.clip(core * 1.6, 0, 1) * along
        shadow = np.clip(flank - core, 0, 1) * along * float(rng.uniform(0.0, 0.8))
        if rng.random() < 0.7:
            delta = _brighten(lum, strength * profile) + _darken(lum, strength * 0.6 * shadow)
        else:
            delta = _darken(lum, strength * 0.8 * profile)
        deltas.append(delta.astype(np.float32))
    return deltas


# --- crazing: fine, jagged crack networks over a large area --------------------------------------------------


def crazing(lum: np.ndarray, rng: np.random.Generator, rolling_angle: float) -> list[np.ndarray]:
    shape = lum.shape
    s = _scale(lum)
    deltas = []
    regions = 1 if rng.random() < 0.7 else 2
    for _ in range(regions):
        if regions == 1 and rng.random() < 0.5:
            envelope = np.ones(shape, np.float32)  # NEU crazing often covers the whole frame
        else:
            center = _random_center(rng, shape, 0.25)
            radii = (float(rng.uniform(0.3, 0.7) * shape[1]), float(rng.uniform(0.2, 0.5) * shape[0]))
            ellipse = soft_ellipse(shape, center, radii, rolling_angle + rng.normal(0, 15))
            envelope = smoothstep(0.0, 0.35, ellipse + 0.25 * smooth_noise(shape, rng, 30 * s))
        # Zero crossings of a stretched noise field form closed, elongated cells: the crack network.
        cell_len = float(rng.uniform(14, 32) * s)
        cell_wid = float(rng.uniform(5, 8) * s)
        field = streak_noise(shape, rng, cell_len, cell_wid, rolling_angle + rng.normal(0, 8))
        field = field + float(rng.uniform(0.2, 0.4)) * smooth_noise(shape, rng, 2.0 * s)  # jagged crack edges
        width = float(rng.uniform(0.2, 0.35))
        # The floor cuts the Gaussian's long tail, so the mask follows the visible cracks, not a halo.
        cracks = np.clip(np.exp(-((field / width) ** 2)) - 0.08, 0, 1) / 0.92
        # Cross links between neighbouring cells, present in some places only.
        links = streak_noise(shape, rng, cell_wid * 1.5, cell_len * 0.4, rolling_angle + 90 + rng.normal(0, 10))
        link_gate = smoothstep(-0.2, 0.6, smooth_noise(shape, rng, 10 * s))
        cracks = np.maximum(cracks, 0.7 * np.exp(-((links / (width * 0.8)) ** 2)) * link_gate)
        cracks = cv2.GaussianBlur(cracks, (0, 0), 0.5 * s)
        # Crack depth wanders across the area: some parts of the network barely show.
        depth = float(rng.uniform(0.35, 0.6)) * np.clip(0.8 + 0.3 * smooth_noise(shape, rng, 25 * s), 0.45, 1.2)
        # Dirt settles along the cracks: a faint darkening close to them, not a haze over the whole area.
        grime = cv2.GaussianBlur(cracks, (0, 0), 2.0 * s) * float(rng.uniform(0.0, 0.12))
        amount = (depth * cracks + grime) * envelope
        deltas.append(_darken(lum, np.clip(amount, 0, 0.9)).astype(np.float32))
    return deltas


# --- inclusion: elongated dark (sometimes bright) bodies along the rolling direction --------------------------


def inclusion(lum: np.ndarray, rng: np.random.Generator, rolling_angle: float) -> list[np.ndarray]:
    shape = lum.shape
    s = _scale(lum)
    deltas = []
    for _ in range(int(rng.choice([1, 1, 2, 2, 3, 4, 5]))):
        delta = np.zeros(shape, np.float32)
        angle = rolling_angle + rng.normal(0, 4)
        center = _random_center(rng, shape, 0.08)
        length = float(np.clip(rng.lognormal(math.log(34), 0.55), 8, 130) * s)
        half_width = float(np.clip(rng.lognormal(math.log(2.6), 0.4), 1.0, 7.0) * s)
        dark = rng.random() < 0.8
        strength = float(rng.uniform(0.35, 0.75) if dark else rng.uniform(0.3, 0.6))
        # A stringer of one to three fragments along one line, as an oxide particle breaks up when rolled.
        fragments = int(rng.choice([1, 1, 1, 2, 3]))
        ux, uy = direction(angle)
        for f in range(fragments):
            shift = (f - (fragments - 1) / 2.0) * length * rng.uniform(0.9, 1.4)
            frag_center = (center[0] + ux * shift, center[1] + uy * shift)
            frag_len = length * rng.uniform(0.5, 1.0) if fragments > 1 else length
            window, along, across = _local_frame(shape, frag_center, angle, frag_len / 2 + half_width * 3 + 3)
            if along.size == 0:
                continue
            power = float(rng.uniform(1.5, 3.0))  # blunt or pointed ends
            width_here = half_width * (1.0 + 0.35 * smooth_noise(along.shape, rng, 6 * s))
            form = np.abs(along / (frag_len / 2)) ** power + (across / np.maximum(width_here, 0.5)) ** 2
            form = form + 0.25 * smooth_noise(along.shape, rng, 2.5 * s)
            body = smoothstep(1.15, 0.75, form)
            texture = 0.8 + 0.2 * smooth_noise(along.shape, rng, 2.0 * s)
            local = lum[window]
            if dark:
                change = _darken(local, np.clip(strength * body * texture, 0, 0.92))
                if rng.random() < 0.4:  # a bright lip where the particle pushed the metal up
                    rim = np.clip(smoothstep(1.8, 1.15, form) - body, 0, 1)
                    change += _brighten(local, 0.25 * strength * rim)
            else:
                change = _brighten(local, np.clip(strength * body * texture, 0, 0.9))
            delta[window] += change
        deltas.append(delta)
    return deltas


# --- patches: large feathered blotches, mottled inside -----------------------------------------------------------


def patches(lum: np.ndarray, rng: np.random.Generator, rolling_angle: float) -> list[np.ndarray]:
    shape = lum.shape
    s = _scale(lum)
    deltas = []
    mains = int(rng.choice([1, 1, 2, 2, 3]))
    dark = rng.random() < 0.9  # blotches in one image share a cause, so they share a tone
    for index in range(mains + int(rng.integers(0, 4))):
        satellite = index >= mains
        radius = float((rng.uniform(6, 16) if satellite else rng.uniform(18, 65)) * s)
        center = _random_center(rng, shape, 0.05)
        radii = (radius, radius * float(rng.uniform(0.45, 1.0)))
        angle = rolling_angle + rng.normal(0, 25)
        # Wide enough that the noisy outline never reaches the window edge (which would cut it straight).
        window, along, across = _local_frame(shape, center, angle, radius * 2.0 + 4)
        if along.size == 0:
            continue
        ellipse = np.minimum(1.0 - (along / radii[0]) ** 2 - (across / radii[1]) ** 2, 1.0)
        form = ellipse + 0.5 * fractal_noise(along.shape, rng, max(radius * 0.6, 4.0), octaves=3)
        feather = float(rng.uniform(0.2, 0.8))
        body = smoothstep(0.05, 0.05 + feather, form)
        mottle = 0.85 + 0.15 * fractal_noise(along.shape, rng, 8 * s, octaves=3)
        # Light patches (dried residue) are fainter than dark ones (scale, corrosion).
        strength = float(rng.uniform(0.3, 0.7) if dark else rng.uniform(0.2, 0.35))
        if satellite:
            strength *= 0.8
        local = lum[window]
        amount = np.clip(strength * body * mottle, 0, 0.9)
        delta = np.zeros(shape, np.float32)
        delta[window] = _darken(local, amount) if dark else _brighten(local, amount)
        deltas.append(delta)
    return deltas


# --- pitted surface: clusters of small pits, dark in the middle with a lit rim ---------------------------------


# Pit radii are snapped to a few sizes so each size's kernel is built once per image, not once per pit.
_PIT_RADII = (0.8, 1.1, 1.5, 2.0, 2.8, 4.0, 5.5)


def _pit_kernels(radius: float, light: float) -> tuple[np.ndarray, np.ndarray]:
    """(hollow, lit rim) kernels for one pit radius; the rim is lit on the side facing `light` (radians)."""
    half = int(math.ceil(radius * 2.6)) + 1
    ys, xs = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float32)
    dist = np.sqrt(xs * xs + ys * ys)
    hollow = np.exp(-((dist / radius) ** 2))
    # The rim catches light on one side only: the pit is a hollow, not a ring painted on.
    facing = 0.55 + 0.45 * np.cos(np.arctan2(-ys, xs) - light)
    rim = np.exp(-(((dist - 1.35 * radius) / (0.45 * radius)) ** 2)) * facing
    return hollow.astype(np.float32), rim.astype(np.float32)


def _stamp(field: np.ndarray, kernel: np.ndarray, x: float, y: float, weight: float) -> None:
    height, width = field.shape
    half = kernel.shape[0] // 2
    cx, cy = int(round(x)), int(round(y))
    x0, x1 = max(cx - half, 0), min(cx + half + 1, width)
    y0, y1 = max(cy - half, 0), min(cy + half + 1, height)
    if x0 < x1 and y0 < y1:
        kx, ky = x0 - (cx - half), y0 - (cy - half)
        field[y0:y1, x0:x1] += weight * kernel[ky : ky + y1 - y0, kx : kx + x1 - x0]


def pitted_surface(lum: np.ndarray, rng: np.random.Generator, rolling_angle: float) -> list[np.ndarray]:
    shape = lum.shape
    s = _scale(lum)
    deltas = []
    light = float(rng.uniform(0, 2 * math.pi))
    sizes = np.array(_PIT_RADII) * s
    kernels = [_pit_kernels(float(r), light) for r in sizes]
    for _ in range(int(rng.choice([1, 1, 2, 2, 3]))):
        hollows = np.zeros(shape, np.float32)
        rims = np.zeros(shape, np.float32)
        center = _random_center(rng, shape, 0.15)
        radii = np.array([rng.uniform(20, 80), rng.uniform(15, 55)]) * s
        angle = rolling_angle + rng.normal(0, 20)
        area = math.pi * radii[0] * radii[1]
        count = int(min(area * rng.uniform(0.008, 0.03) / (s * s), 400) * s * s)
        ux, uy = direction(angle)
        # Pits cluster: half sit near an earlier pit, the rest anywhere in the cluster.
        placed: list[tuple[float, float]] = []
        for _pit in range(max(count, 12)):
            if placed and rng.random() < 0.5:
                px, py = placed[int(rng.integers(len(placed)))]
                x, y = px + rng.normal(0, 4 * s), py + rng.normal(0, 4 * s)
            else:
                r = math.sqrt(rng.random())
                phi = rng.uniform(0, 2 * math.pi)
                a, b = r * radii[0] * math.cos(phi), r * radii[1] * math.sin(phi)
                x, y = center[0] + a * ux - b * uy, center[1] + a * uy + b * ux
            placed.append((x, y))
            radius = float(np.clip(rng.lognormal(math.log(1.4), 0.45), 0.7, 5.5) * s)
            hollow, rim = kernels[int(np.abs(sizes - radius).argmin())]
            _stamp(hollows, hollow, x, y, float(rng.uniform(0.3, 0.75)))
            _stamp(rims, rim, x, y, float(rng.uniform(0.0, 0.22)))
        delta = _darken(lum, np.clip(hollows, 0, 0.95)) + _brighten(lum, np.clip(rims, 0, 0.5))
        if rng.random() < 0.5:  # the corroded area around the pits is a little darker
            envelope = soft_ellipse(shape, center, (radii[0] * 1.1, radii[1] * 1.1), angle)
            mottle = 0.6 + 0.4 * smooth_noise(shape, rng, 6 * s)
            delta += _darken(lum, float(rng.uniform(0.04, 0.12)) * smoothstep(0.0, 0.5, envelope) * mottle)
        deltas.append(np.clip(delta, -lum, 255.0 - lum).astype(np.float32))
    return deltas


# --- rolled-in scale: dark flakes pressed into the surface, stretched along the rolling direction --------------


def rolled_in_scale(lum: np.ndarray, rng: np.random.Generator, rolling_angle: float) -> list[np.ndarray]:
    shape = lum.shape
    s = _scale(lum)
    deltas = []
    ux, uy = direction(rolling_angle + 90)
    for _ in range(int(rng.choice([1, 1, 2, 2, 3]))):
        center = _random_center(rng, shape, 0.12)
        radii = (float(rng.uniform(30, 130) * s), float(rng.uniform(10, 45) * s))
        envelope = soft_ellipse(shape, center, radii, rolling_angle + rng.normal(0, 6))
        # Ragged cluster outline, but nothing outside the ellipse: a stray flake far away would be its own defect.
        envelope = smoothstep(0.0, 0.6, envelope * (1.0 + 0.5 * smooth_noise(shape, rng, 15 * s)))
        field = streak_noise(
            shape,
            rng,
            float(rng.uniform(5, 12) * s),
            float(rng.uniform(1.6, 3.2) * s),
            rolling_angle + rng.normal(0, 5),
        )
        field = field + 0.35 * smooth_noise(shape, rng, 1.6 * s)  # ragged flake outlines
        threshold = float(rng.uniform(0.4, 1.2))
        flakes = smoothstep(threshold, threshold + 0.4, field - 2.5 * (1.0 - envelope))
        flakes *= smoothstep(0.0, 0.15, envelope)  # a rare noise peak must not put a flake far outside
        # Pressed-in flakes leave a lit edge on the side facing the light.
        shift = np.float32([[1, 0, ux * 1.2 * s], [0, 1, uy * 1.2 * s]])
        shifted = cv2.warpAffine(flakes, shift, (shape[1], shape[0]), borderMode=cv2.BORDER_CONSTANT)
        edge = np.clip(shifted - flakes, 0, 1)
        texture = 0.8 + 0.2 * smooth_noise(shape, rng, 2 * s)
        strength = float(rng.uniform(0.35, 0.7))
        delta = _darken(lum, np.clip(strength * flakes * texture, 0, 0.9))
        delta += _brighten(lum, float(rng.uniform(0.0, 0.3)) * edge)
        deltas.append(delta.astype(np.float32))
    return deltas


DRAWERS: dict[str, DefectDrawer] = {
    "crazing": crazing,
    "inclusion": inclusion,
    "patches": patches,
    "pitted_surface": pitted_surface,
    "rolled-in_scale": rolled_in_scale,
    "scratches": scratches,
}
