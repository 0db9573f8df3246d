"""Grab the app's main states offscreen into docs/screenshots/ (for the README and for looking at changes).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/app_screenshots.py [--model BUNDLE] [--out DIR]

Without --model it uses the bundled default model, or else a tiny random-weights test bundle (the generated
pixels are then noise: the screenshots show the app, not a model's quality).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def brushed_steel(width: int, height: int, seed: int = 3) -> np.ndarray:
    """A clean brushed-steel-like plate: rolling streaks along x, a soft light falloff, fine grain."""
    rng = np.random.default_rng(seed)
    streaks = np.repeat(rng.normal(0, 1, (height, 1)), width, axis=1) * 7
    streaks += rng.normal(0, 2.5, (height, width)).cumsum(axis=1) * 0.015
    yy, xx = np.mgrid[0:height, 0:width]
    light = 18 * np.exp(-(((xx - width * 0.35) / width) ** 2 + ((yy - height * 0.4) / height) ** 2) * 3)
    grey = np.clip(128 + streaks + light + rng.normal(0, 3, (height, width)), 0, 255)
    return np.stack([grey, grey + 2, grey + 5], axis=-1).clip(0, 255).astype(np.uint8)


def save(window, path: Path) -> None:
    # JPEG: the metal texture's grain makes a lossless screenshot ~4x bigger for no visible gain.
    window.grab().save(str(path), "JPG", 88)


def pump(app, seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.005)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="defectforge-shots-"))
    os.environ["DEFECTFORGE_CONFIG_DIR"] = str(work / "config")
    from app.models import default_model_path

    model = args.model or default_model_path()
    if not (model / "model.yaml").is_file():
        from tests.conftest import build_test_bundle

        model = build_test_bundle(work / "test-bundle")
    from core.resources import sample_image_paths

    samples = sample_image_paths()
    if samples:  # the bundled real-steel sample the app opens on
        image = samples[0]
    else:
        image = work / "steel_plate_0042.png"
        Image.fromarray(brushed_steel(960, 720)).save(image)
    width, height = Image.open(image).size
    sx, sy = width / 960, height / 720  # the strokes below are laid out on a 960x720 plate

    def at(x: float, y: float) -> tuple[int, int]:
        return round(x * sx), round(y * sy)

    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QCoreApplication, QPointF, Qt, QTranslator
    from PySide6.QtGui import QMouseEvent

    from app.gui import create_app
    from app.language import I18N_DIR
    from app.main_window import MainWindow
    from app.settings import Settings

    app = create_app(settings=Settings(language="en"))

    def session(window: MainWindow, prefix: str) -> None:
        window.resize(1440, 900)
        window.show()
        window.start(image=image, model=model)
        while window.controller.model is None or window.controller.loading:
            pump(app, 0.05)
        doc = window.document
        window.set_active_class(window.controller.model.info.class_names[-1])
        with doc.edit("Brush stroke") as out:
            for a, b in (((330, 250), (470, 300)), ((470, 300), (610, 330))):
                doc.stamp_segment(at(*a), at(*b), max(3, round(18 * sx)))
        window.push_edit(out[0])
        window.set_active_class(window.controller.model.info.class_names[1])
        with doc.edit("Ellipse") as out:
            doc.fill_ellipse((*at(200, 430), *at(300, 510)))
        window.push_edit(out[0])
        window.brush_spin.setValue(18)
        cursor = window.canvas.to_widget(*at(640, 420))
        window.canvas.mouseMoveEvent(
            QMouseEvent(
                QMouseEvent.Type.MouseMove,
                cursor,
                window.canvas.mapToGlobal(cursor),
                Qt.MouseButton.NoButton,
                Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier,
            )
        )
        pump(app, 0.3)
        save(window, args.out / f"{prefix}painted.jpg")
        if prefix:
            return
        window.sampler_panel.variants.setValue(3)
        window.actions_.generate.trigger()
        grabbed = False
        while window.controller.busy:
            pump(app, 0.01)
            if not grabbed and window.generation.previews_shown >= 2:
                save(window, args.out / "generating.jpg")
                grabbed = True
        pump(app, 0.2)
        window.gallery.list.setCurrentRow(1)
        window.generation.accept_variant(1)
        window.gallery.split.setValue(45)
        window.canvas.zoom_to(1.6 / max(sx, sy) ** 0.5, QPointF(window.canvas.to_widget(*at(460, 330))))
        pump(app, 0.3)
        save(window, args.out / "variants.jpg")
        window.model_dock.raise_()
        pump(app, 0.3)
        save(window, args.out / "model-card.jpg")
        window.hide()  # the variants were never meant for a dataset: close without the discard question

    english = MainWindow(Settings())
    session(english, "")
    english.close()
    translator = QTranslator()
    if translator.load(str(I18N_DIR / "defectforge_ko.qm")):
        QCoreApplication.installTranslator(translator)
        korean = MainWindow(Settings())
        session(korean, "korean-")
        korean.close()
    print(f"screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
