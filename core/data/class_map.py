"""Merge datasets into one class list with a YAML class map (SD-saliency `Sc` -> `scratches`, …).

The YAML is either a plain mapping `source: target`, or:

    classes: [crazing, inclusion, patches, pitted_surface, rolled-in_scale, scratches, punching_hole]
    map:
      Sc: scratches                 # any dataset's class `Sc`
      gc10:1_chongkong: punching_hole   # only the gc10 reader's `1_chongkong` (kind-scoped: `<kind>:<name>`)
    drop: [d, gc10:5_youban]        # classes to leave out on purpose

`classes` (optional) is the final class list in index order; a class that maps to nothing in it is reported
as an unknown class and left out. A name without a rule keeps its name.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.config import ConfigError, safe_yaml
from core.data.records import Dataset, DatasetProblem
from core.names import ClassNameError, check_class_name, check_class_names


class ClassMapError(ValueError):
    """A class-map file that can't be used."""


@dataclass
class ClassMap:
    mapping: dict[str, str] = field(default_factory=dict)
    classes: list[str] | None = None
    drop: frozenset[str] = frozenset()

    def target(self, name: str, kind: str) -> str | None:
        """The merged class for `name` from a `kind` dataset; None when it is dropped."""
        scoped = f"{kind}:{name}"
        if scoped in self.drop or name in self.drop:
            return None
        return self.mapping.get(scoped, self.mapping.get(name, name))


def _names(value: object, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ClassMapError(f"{what} must be a list of class names")
    return [str(v) for v in value]


def load_class_map(path: Path) -> ClassMap:
    try:
        data = safe_yaml(Path(path).read_text(encoding="utf-8"), path)
    except OSError as error:
        raise ClassMapError(f"{path}: {error}") from error
    except ConfigError as error:
        raise ClassMapError(str(error)) from error
    return class_map_from_dict(data, path)


def class_map_from_dict(data: object, path: Path | str = "class map") -> ClassMap:
    """The same rules as a class-map file, from already parsed YAML (e.g. inline in a dataset spec)."""
    if data is None:
        return ClassMap()
    if not isinstance(data, dict):
        raise ClassMapError(f"{path}: expected a mapping of class names")
    structured = {"map", "classes", "drop"} & set(data)
    mapping = data.get("map") or {} if structured else data
    if not isinstance(mapping, dict):
        raise ClassMapError(f"{path}: `map` must be a mapping source -> target")
    for source, target in mapping.items():
        if not isinstance(target, str | int) or isinstance(target, bool):
            raise ClassMapError(f"{path}: class {source!r} maps to {target!r}, not a class name")
    classes = _names(data.get("classes"), "classes") if structured and "classes" in data else None
    drop = frozenset(_names(data.get("drop"), "drop")) if structured else frozenset()
    try:
        for target in mapping.values():
            check_class_name(str(target), str(path))
        if classes is not None:
            check_class_names(classes, str(path))
    except ClassNameError as exc:
        raise ClassMapError(str(exc)) from exc
    return ClassMap({str(k): str(v) for k, v in mapping.items()}, classes, drop)


def _common_root(datasets: list[Dataset]) -> Path:
    try:
        return Path(os.path.commonpath([str(d.root.resolve()) for d in datasets]))
    except ValueError:  # different drives
        return datasets[0].root


def merge(datasets: Iterable[Dataset], class_map: ClassMap | None = None) -> Dataset:
    """One dataset with every sample renamed through the class map; all problems carried over, plus one for
    each class the map does not place in its `classes` list."""
    datasets = list(datasets)
    if not datasets:
        raise ValueError("merge needs at least one dataset")
    class_map = class_map or ClassMap()
    allowed = set(class_map.classes) if class_map.classes is not None else None
    problems = [problem for dataset in datasets for problem in dataset.problems]
    samples = []
    reported: set[tuple[str, str]] = set()

    def rename(name: str, kind: str, where: Path) -> str | None:
        target = class_map.target(name, kind)
        if target is not None and allowed is not None and target not in allowed:
            if (kind, name) not in reported:  # once per class, not once per image
                reported.add((kind, name))
                problems.append(
                    DatasetProblem(
                        where,
                        f"unknown class {name!r} from {kind} (maps to {target!r}, "
                        f"not in the class map's classes); left out",
                    )
                )
            return None
        return target

    for dataset in datasets:
        for sample in dataset.samples:
            boxes = []
            for box in sample.boxes:
                name = rename(box.defect_class, dataset.kind, sample.image)
                if name is not None:
                    boxes.append(dataclasses.replace(box, defect_class=name))
            defect_class = rename(sample.defect_class, dataset.kind, sample.image) if sample.defect_class else None
            if sample.defect_class and defect_class is None:
                # The image's own class is out; keep it only if some of its boxes survived.
                if not boxes:
                    continue
                defect_class = max(
                    sorted({b.defect_class for b in boxes}), key=lambda n: sum(b.defect_class == n for b in boxes)
                )
            elif sample.boxes and not boxes:
                continue  # every labelled defect in it was left out: it is neither clean nor labelled
            samples.append(dataclasses.replace(sample, defect_class=defect_class, boxes=tuple(boxes)))
    kind = datasets[0].kind if len(datasets) == 1 else "merged"
    return Dataset(_common_root(datasets), kind, samples, problems)
