"""eval's judge and what it decides: the class-fidelity judge (a small CNN on real train-split boxes, saved for
`train classifier --judge`) and the best-of-N section, which asks it whether the scores' best variant beats the first.

A mixin of training.evaluate.Evaluator (its `pipeline`, `sampler`, `size`, `cfg` and `bundle`), kept apart so the
evaluator's file holds the command and its runner.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.request import InpaintRequest, MaskLayer
from core.scoring import (
    REAL_PER_CLASS,
    Critic,
    CriticError,
    crop_box,
    embed,
    load_critic,
    predict,
    probabilities,
    rank,
    save_critic,
    score_variants,
)
from training.classifier import box_crops, real_features, real_grain, train_classifier
from training.datasets import PreparedImage, spread
from training.eval_boxes import Example, mean_of, pick_boxes
from training.eval_goals import JUDGE_MIN
from training.jobs import JobError

JUDGE_FILE = "judge.safetensors"


class JudgeSections:
    def judge(self, train: list[PreparedImage], held: list[Example], out: Path) -> tuple[Any, dict[str, Any], dict]:
        """The class-fidelity judge: a small CNN on real train-split box crops; its held-out accuracy says
        whether it is fair (>= JUDGE_MIN). Also the real crops per class (train: KID reference; held-out:
        KID floor)."""
        classes = self.bundle.class_names
        crops, labels = box_crops(train, classes)
        held_x, held_y = box_crops([e.prepared for e in held], classes)
        if len(set(labels.tolist())) < 2 or not len(held_y):
            return None, {"skipped": "fewer than two classes with boxes in the train split"}, {}
        started = time.perf_counter()
        if self.cfg.judge:
            try:
                critic = load_critic(Path(self.cfg.judge), self.bundle.device)
            except CriticError as exc:
                raise JobError(str(exc)) from exc
            if critic.classes != classes:
                raise JobError(f"--judge {self.cfg.judge} knows {critic.classes}, the bundle {classes}")
            model = critic.model
        else:
            model = train_classifier(
                crops, labels, len(classes), self.cfg.classifier_epochs, self.cfg.seed, self.bundle.device
            )
        predicted = predict(model, held_x)
        info = {
            "heldout_accuracy": float(np.mean(predicted == held_y)),
            "heldout_accuracy_per_class": {
                name: float(np.mean(predicted[held_y == i] == i))
                for i, name in enumerate(classes)
                if (held_y == i).any()
            },
            "train_crops": len(labels),
            "heldout_crops": len(held_y),
            "fair": bool(np.mean(predicted == held_y) >= JUDGE_MIN),
            "seconds": time.perf_counter() - started,
        }
        real = {name: {"train": crops[labels == i], "heldout": held_x[held_y == i]} for i, name in enumerate(classes)}
        # Kept with its real features, so 'defectforge train classifier --judge' can adopt it as a bundle's critic.
        save_critic(
            out / JUDGE_FILE,
            model,
            classes,
            {k: v for k, v in info.items() if k != "seconds"},
            real_features(model, crops, labels, classes),
            real_grain(train, classes),
        )
        return model, info, real

    def best_of_section(self, judge_model, real: dict, held: list[Example]) -> dict[str, Any]:
        """Does picking the best of N by the scores beat taking the first variant? Judged by the eval's judge."""
        cfg, classes, n = self.cfg, self.bundle.class_names, self.cfg.best_of
        if n < 2:
            return {"skipped": "--best-of below 2", "n": n}
        if judge_model is None:
            return {"skipped": "no judge", "n": n}
        critic = self.bundle.critic
        if critic is None:
            reference = {
                name: embed(judge_model, np.stack(spread(list(sets["train"]), REAL_PER_CLASS)))
                for name, sets in real.items()
                if len(sets["train"])
            }
            critic, scorer, same = Critic(judge_model, classes, reference), "the eval's judge", True
        else:
            scorer = "the bundle's classifier"
            ours, theirs = critic.model.state_dict(), judge_model.state_dict()
            same = ours.keys() == theirs.keys() and all(
                ours[k].shape == theirs[k].shape and torch.equal(ours[k].cpu(), theirs[k].cpu()) for k in ours
            )
        first_right, best_right, first_prob, best_prob = [], [], [], []
        for number, (example, box) in enumerate(pick_boxes(held, classes, cfg.fidelity_per_class)):
            name = example.prepared.defect_class
            mask = np.zeros(example.prepared.image.shape[:2], dtype=bool)
            mask[box[1] : box[3], box[0] : box[2]] = True
            request = InpaintRequest(
                image=example.prepared.image,
                layers=[MaskLayer(mask, name)],
                seed=cfg.seed + 7919 * number,
                variants=n,
                sampler=self.sampler,
                feather_px=cfg.feather_px,
            )
            *_, last = self.pipeline.run(request)
            best = rank(score_variants(last.result, critic, self.size))[0]
            crops = np.stack([crop_box(last.result.variants[i].image, box) for i in (0, best)])
            probs = probabilities(judge_model, crops)[:, classes.index(name)]
            right = predict(judge_model, crops) == classes.index(name)
            first_right.append(bool(right[0]))
            best_right.append(bool(right[1]))
            first_prob.append(float(probs[0]))
            best_prob.append(float(probs[1]))
        if not first_right:
            return {"skipped": "no held-out defect boxes", "n": n}
        return {
            "n": n,
            "boxes": len(first_right),
            "scorer": scorer,
            "same_network": bool(same),
            "first_fidelity": mean_of(first_right),
            "best_fidelity": mean_of(best_right),
            "first_probability": mean_of(first_prob),
            "best_probability": mean_of(best_prob),
            "improved": sum(b and not f for f, b in zip(first_right, best_right, strict=True)),
            "worsened": sum(f and not b for f, b in zip(first_right, best_right, strict=True)),
        }
