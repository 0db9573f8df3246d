"""eval's generation sections: held-out real defect boxes masked and re-inpainted once per class (and once erased),
measured for class fidelity, realism (KID), token grid, label spill, seams and clean-up, and the contact sheet.

A mixin of training.evaluate.Evaluator (its `run`, `inpaint`, `cfg` and `bundle`), kept apart so the evaluator's
file holds the command and its runner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from core.request import CLEANUP_CLASS
from core.scoring import SPILL_LEVELS, crop_box, embed, predict, seam_region, seam_score, visible_change
from training.eval_boxes import Example, cleanup_row, mean_of, pick_boxes, save_contact_sheet
from training.metrics import grid_ratio, kid

SHEET_COLUMNS = 6
CONTACT_SHEET = "contact_sheet.png"


class GenerationSections:
    def generation_sections(
        self, judge_model, judge_info: dict, real: dict, held: list[Example], out: Path
    ) -> dict[str, Any]:
        """Held-out real defect boxes masked and re-inpainted once per class (and once erased): class fidelity,
        KID, token grid, label spill, seams, clean-up, and the contact sheet, all from the same inpaints."""
        cfg, classes = self.cfg, self.bundle.class_names
        chosen = pick_boxes(held, classes, cfg.fidelity_per_class)
        if judge_model is None or not chosen:
            return {"class_fidelity": {"skipped": judge_info.get("skipped", "no held-out defect boxes")}}
        confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
        generated_crops: dict[str, list[np.ndarray]] = {name: [] for name in classes}
        smooth_crops, grids, real_grids, seams, seam_refs = [], [], [], [], []
        spill_pixels, changed_pixels, spill_max = 0, 0, 0
        cleanup_rows: list[dict[str, float]] = []
        sheet: list[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]] = []
        ds = self.bundle.vq.downsample
        for n, (example, box) in enumerate(chosen):
            image = example.prepared.image
            mask = np.zeros(image.shape[:2], dtype=bool)
            mask[box[1] : box[3], box[0] : box[2]] = True
            smooth = cv2.inpaint(image, mask.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)
            smooth_crops.append(crop_box(smooth, box))
            real_grid = grid_ratio(image, mask, ds)
            per_class_images = {}
            for class_id, name in enumerate(classes):
                (variant,), _ = self.run(image, mask, name, cfg.seed + 1009 * n + class_id)
                generated = variant.image
                per_class_images[name] = generated
                crop = crop_box(generated, box)
                generated_crops[name].append(crop)
                confusion[class_id, int(predict(judge_model, crop[None])[0])] += 1
                grid = grid_ratio(generated, mask, ds)
                if grid is not None and real_grid is not None:
                    grids.append(grid)
                    real_grids.append(real_grid)
                changed = visible_change(image, generated)
                label = np.zeros_like(mask)
                for label_mask in variant.label_masks.values():
                    label |= label_mask
                spill = changed & ~label
                spill_pixels += int(spill.sum())
                changed_pixels += int(changed.sum())
                if spill.any():
                    spill_max = max(
                        spill_max,
                        int(np.abs(generated.astype(np.int16) - image.astype(np.int16)).max(axis=2)[spill].max()),
                    )
                middle, band = seam_region(mask, cfg.feather_px)
                score, reference = seam_score(generated, middle, band), seam_score(image, middle, band)
                if score is not None and reference is not None:
                    seams.append(score)
                    seam_refs.append(reference)
            (erased,), _ = self.inpaint(image, mask, CLEANUP_CLASS, cfg.seed + 1009 * n + 999)
            row = cleanup_row(example, mask, image, erased, smooth)
            if row:
                cleanup_rows.append(row)
            # one column per source class (its first box): the backgrounds of every class, not six of the first
            if len(sheet) < SHEET_COLUMNS and all(example.label != e.label for e, *_ in sheet):
                sheet.append((example, mask, per_class_images, erased))
        save_contact_sheet(out / CONTACT_SHEET, sheet, classes)

        per_class = {name: float(confusion[i, i] / max(1, confusion[i].sum())) for i, name in enumerate(classes)}
        fidelity = {
            "overall": float(np.trace(confusion) / max(1, confusion.sum())),
            "per_class": per_class,
            "boxes": len(chosen),
            "inpaints_per_class": len(chosen),
            "confusion": {
                "rows": "requested class",
                "columns": "judged class",
                "classes": classes,
                "counts": confusion.tolist(),
            },
            "judge": judge_info,
            "base_images": "held-out real images, one defect box each masked and re-inpainted once per class",
        }
        feats = {name: {k: embed(judge_model, v) for k, v in sets.items() if len(v)} for name, sets in real.items()}
        smooth_feats = embed(judge_model, np.stack(smooth_crops))
        kid_rows = {}
        for name in classes:
            reference = feats[name].get("train")
            if reference is None or len(reference) < 2:
                continue
            generated = embed(judge_model, np.stack(generated_crops[name]))
            kid_rows[name] = {
                "generated": kid(generated, reference),
                "real_heldout": kid(feats[name]["heldout"], reference) if "heldout" in feats[name] else float("nan"),
                "smooth_fill": kid(smooth_feats, reference),
            }
        realism = {
            "per_class": kid_rows,
            **{
                key: mean_of([row[key] for row in kid_rows.values()])
                for key in ("generated", "real_heldout", "smooth_fill")
            },
        }
        realism["generated_over_smooth"] = (
            realism["generated"] / realism["smooth_fill"] if realism["smooth_fill"] > 0 else float("nan")
        )
        grid = {"generated": mean_of(grids), "real": mean_of(real_grids), "period_px": ds, "measured": len(grids)}
        spill = {
            "changed_pixels_outside_label": spill_pixels,
            "changed_pixels": changed_pixels,
            "share_outside_label": spill_pixels / max(1, changed_pixels),
            "max_levels_outside": spill_max,
            "threshold_levels": SPILL_LEVELS,
        }
        seam = {
            "generated": mean_of(seams),
            "reference": mean_of(seam_refs),
            "ratio": mean_of(seams) / mean_of(seam_refs) if seams and mean_of(seam_refs) > 0 else float("nan"),
            "measured": len(seams),
            "band_px": max(1, cfg.feather_px) // 2 + 2,
        }
        cleanup = {
            "images": len(cleanup_rows),
            **{
                key: mean_of([row[key] for row in cleanup_rows])
                for key in ("erased", "defect", "smooth_fill", "background")
            },
        }
        cleanup["erased_over_background"] = (
            cleanup["erased"] / cleanup["background"] if cleanup.get("background", 0) > 0 else float("nan")
        )
        return {
            "class_fidelity": fidelity,
            "realism_kid": realism,
            "token_grid": grid,
            "label_spill": spill,
            "seam": seam,
            "cleanup": cleanup,
        }
