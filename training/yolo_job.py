"""Child process of the YOLO arm (training.downstream_yolo): train one detector, write its mAP50.

    python -m training.yolo_job '{"data": ..., "epochs": ..., "model": ..., "imgsz": ..., "batch": ..., "device": ...,
                                  "seed": ..., "threads": ..., "project": ..., "result": ...}'

Importing ultralytics patches PIL, OpenCV and torch process-wide; that is why this runs apart from DefectForge.
The parent sets YOLO_CONFIG_DIR, YOLO_AUTOINSTALL=False and YOLO_OFFLINE in its environment.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.fsutil import write_atomic


def main(argv: list[str]) -> int:
    job = json.loads(argv[0])
    import torch

    if job["threads"] > 0:
        torch.set_num_threads(job["threads"])
    from ultralytics import YOLO

    model = YOLO(job["model"])
    metrics = model.train(
        data=job["data"],
        epochs=job["epochs"],
        imgsz=job["imgsz"],
        batch=job["batch"],
        device=job["device"],
        workers=0,
        seed=job["seed"],
        deterministic=True,
        pretrained=not job["model"].endswith((".yaml", ".yml")),
        amp=False,
        plots=False,
        val=False,  # the last epoch is validated anyway: one validation instead of one per epoch
        verbose=False,
        project=job["project"],
        name="train",
        exist_ok=True,
    )
    write_atomic(Path(job["result"]), json.dumps({"map50": float(metrics.box.map50)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
