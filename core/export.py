"""Labeled-folder export, DESIGN.md's contract: a detector-ready dataset that only ever grows.

    <out>/images/<class>/<id>.png   the synthesized image at its original size, in the source's mode and depth
    <out>/masks/<class>/<id>.png    the label mask of that class: 8-bit, 0 or 255, same size
    <out>/cleanup/<id>.png          the pixels a Clean-up changed (no label marks them), 8-bit 0/255, same size;
                                    only for a sample with Clean-up. Every changed pixel is in a mask or here.
    <out>/annotations/<id>.xml      Pascal VOC as NEU-DET writes it (boxes 1-based and inclusive, as VOC's are)
    <out>/labels/<id>.txt           YOLO: class index, cx cy w h normalised to the image size
    <out>/labels/<class>/<id>.txt   YOLO segmentation (format yolo-seg): class index, polygon x y ... normalised;
                                    beside images/<class>/<id>.png, where Ultralytics looks for it
    <out>/classes.txt               class names, one a line, in YOLO index order (the model's class order)
    <out>/manifest.jsonl            one JSON line per sample: id, classes, source and its sha256, seed, settings,
                                    model bundle and fingerprint, mask sha256, image sha256, time, app version,
                                    resume key

The folder under images/ says what the whole image is (docs/adr/export-formats-and-split.md): images/<class>/
holds images of exactly that one class, images/mixed/ images with several classes (one id, one image; each class
present gets its own mask under masks/<class>/<id>.png; the VOC, YOLO and COCO labels carry every class, and the
manifest lists them all), images/clean/ images with no defect left (a cleanup-only edit: no mask, no VOC object
and an empty YOLO file, YOLO's convention for a background image). So an ImageFolder reader that takes the
folders of classes.txt gets only true single-class images, and a detector reads all of them.

Never a partial sample: all of a sample's files are written under hidden temp names in their final folders and
synced, then linked into place (a link never replaces an existing file: a taken id gets the next suffix), and
the manifest line is appended last. A sample is complete exactly when its manifest line exists; on any failure
the files of that sample are removed and ExportError says what happened. The same pixels are written once: a
sample with the resume key and byte-identical image of one in the manifest (an exact re-run) is refused with
AlreadyExportedError, which names that one.

Which label files a sample gets is ExportOptions.formats (voc and yolo unless asked otherwise), each written by
its format's object in core.export_writers. The files that describe the whole folder are derived from the
manifest and the masks by `build()`, never edited in place:

    <out>/annotations/instances.json         COCO instances (format coco): one RLE annotation per 8-connected
    <out>/annotations/instances_{train,val}.json   region, decoding to our masks pixel for pixel; per split too
    <out>/train.txt, <out>/val.txt           the split: ./images/<class>/<id>.png per line (val only if asked)
    <out>/data.yaml                          Ultralytics (format yolo-seg): the lists and names

build() runs under the folder lock and replaces each file atomically, so a crash leaves the previous complete
version, which only lacks the newest samples; building again (`defectforge synth` does at the end of each run,
`defectforge dataset build` on demand) brings them up to date, as the manifest is the only source.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.dataset_build import BuildRefused, build_files
from core.dataset_orphans import set_orphans_aside
from core.export_formats import SPLIT_LISTS, ExportOptions
from core.export_sample import CLEAN_FOLDER, CLEANUP_FOLDER, MIXED_FOLDER, ExportError, Sample, make_sample
from core.export_writers import DATA_YAML, chosen_writers
from core.fsutil import (
    LinkOutError,
    append_line_synced,
    describe_os_error,
    end_cut_off_line,
    folder_lock,
    fsync_dir,
    inside,
    is_temp_name,
    link_new,
    remove_quietly,
    require_inside,
    sha256_file,
    temp_sibling,
    write_atomic,
    write_synced,
)
from core.imageio import LoadedImage
from core.names import ClassNameError, check_class_names
from core.request import InpaintResult

log = logging.getLogger(__name__)

MANIFEST = "manifest.jsonl"
CLASSES_FILE = "classes.txt"


# What DefectForge writes at the top of a dataset folder; anything else (bar hidden files and the OS's own litter)
# belongs to someone else.
DATASET_ENTRIES = frozenset(
    {
        "images",
        "masks",
        CLEANUP_FOLDER,
        "annotations",
        "labels",
        CLASSES_FILE,
        MANIFEST,
        DATA_YAML,
        *SPLIT_LISTS.values(),
    }
)
_OS_LITTER = frozenset({"thumbs.db", "desktop.ini"})


def foreign_entries(root: Path) -> list[str]:
    """Names at the top of `root` that no DefectForge dataset writes, sorted: empty for a missing or empty folder
    and for a folder that already is a dataset (it has a manifest or classes.txt). Exporting into a folder that
    holds them mixes our files into someone else's."""
    root = Path(root)
    if not root.is_dir() or (root / MANIFEST).exists() or (root / CLASSES_FILE).exists():
        return []
    return sorted(
        entry.name
        for entry in root.iterdir()
        if entry.name not in DATASET_ENTRIES and not entry.name.startswith(".") and entry.name.lower() not in _OS_LITTER
    )


class AlreadyExportedError(ExportError):
    """The very pixels of this sample (same resume key, byte-identical image) are in the folder already, as
    `sample_id`: a second copy would be a duplicate the split could put in val while the first is in train."""

    def __init__(self, root: Path, sample_id: str):
        self.sample_id = sample_id
        super().__init__(f"already exported as {sample_id} in {root}; nothing written")


class _IdTaken(Exception):
    """Another sample already owns a file under this id."""


class DatasetExporter:
    """Appends samples to a labeled folder; `class_names` is the YOLO index order (the model's classes);
    `options` says which label formats each sample gets and how `build()` splits the folder."""

    def __init__(self, root: Path, class_names: list[str], options: ExportOptions | None = None):
        self.root = Path(root)
        self.options = options or ExportOptions()
        if not list(class_names):
            raise ExportError("no class names: the model bundle lists none")
        try:
            self.class_names = check_class_names(class_names, "export")
        except ClassNameError as exc:
            raise ExportError(str(exc)) from exc
        taken = [name for name in self.class_names if name in (CLEAN_FOLDER, MIXED_FOLDER)]
        if taken:
            raise ExportError(
                f"a class may not be named {taken[0]!r}: images/{taken[0]}/ holds "
                f"{'images without defects' if taken[0] == CLEAN_FOLDER else 'multi-class images'}"
            )
        if self.root.exists() and not self.root.is_dir():
            raise ExportError(f"{self.root} is a file, not a folder")
        self._check_classes_file()
        self._manifest_ids: set[str] = set()
        self._bad_lines: set[int] = set()
        self._manifest_size = -1

    # ---- reading what is there ------------------------------------------------------------------------

    def _check_classes_file(self) -> None:
        path = self.root / CLASSES_FILE
        try:
            existing = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError) as exc:
            raise ExportError(f"cannot read {path}: {exc}") from exc
        if existing != self.class_names:
            raise ExportError(
                f"{path} lists the classes {', '.join(existing)} but this model's are {', '.join(self.class_names)}; "
                "YOLO class indices would not match. Export to a new folder, or use a model with the same "
                "classes in the same order."
            )

    def records(self) -> list[dict[str, Any]]:
        """Every complete sample's manifest record, oldest first."""
        path = self.root / MANIFEST
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise ExportError(f"cannot read {path}: {exc}") from exc
        out = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                if number not in self._bad_lines:  # said once, not on every read of the manifest
                    self._bad_lines.add(number)
                    log.warning("%s line %d is not valid JSON; ignored", path, number)
                continue
            if isinstance(record, dict):
                out.append(record)
        return out

    def counts(self) -> dict[str, int]:
        """Samples exported per class (a multi-class image counts for each of its classes)."""
        counter: Counter[str] = Counter()
        for record in self.records():
            for name in record.get("classes") or [record.get("class", CLEAN_FOLDER)]:
                counter[name] += 1
        return dict(counter)

    def exported_keys(self) -> set[str]:
        """Resume keys (see `sample_key`) of every complete sample."""
        return {record["key"] for record in self.records() if "key" in record}

    def _known_ids(self) -> set[str]:
        path = self.root / MANIFEST
        size = path.stat().st_size if path.exists() else 0
        if size != self._manifest_size:
            self._manifest_ids = {str(r["id"]) for r in self.records() if "id" in r}
            self._manifest_size = size
        return self._manifest_ids

    def _id_taken(self, sample_id: str) -> bool:
        if sample_id in self._known_ids():
            return True
        if (self.root / "annotations" / f"{sample_id}.xml").exists() or (
            self.root / "labels" / f"{sample_id}.txt"
        ).exists():
            return True
        for kind, suffix in (("images", ".png"), ("masks", ".png"), ("labels", ".txt")):
            folder = self.root / kind
            if folder.is_dir() and any(
                (sub / f"{sample_id}{suffix}").exists() for sub in folder.iterdir() if sub.is_dir()
            ):
                return True
        return False

    # ---- writing ----------------------------------------------------------------------------------------

    def export(
        self,
        result: InpaintResult,
        variant: int = 0,
        source: LoadedImage | None = None,
        extra: dict[str, Any] | None = None,
        unless_exported: bool = False,
    ) -> str | None:
        """Write one variant as a new sample and return its id. `source` (the loaded original) makes the image
        come out in the source's mode and bit depth; `extra` is recorded in the manifest line as is.
        With `unless_exported`, a sample whose resume key is already in the manifest (another process writing
        into the same folder got there first) is not written again, and None comes back."""
        sample = make_sample(result, variant, source, self.class_names, extra)
        # One writer at a time per folder: choosing an id, checking the key and appending the line are one step
        # for every process, so two identical commands never write a sample twice.
        with self._folder_locked():
            return self._export_locked(sample, unless_exported)

    @contextlib.contextmanager
    def _folder_locked(self) -> Iterator[None]:
        """Hold the folder's lock (core.fsutil.folder_lock) for the block; ExportError when it cannot be had."""
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(folder_lock(self.root))
            except LinkOutError as exc:
                raise ExportError(str(exc)) from None
            except OSError as exc:
                raise self._fail("could not create or lock the folder", exc) from exc
            yield

    def _export_locked(self, sample: Sample, unless_exported: bool) -> str | None:
        self._clean_up_after_crash()
        record = sample.record
        if unless_exported and record["key"] in self.exported_keys():
            log.info("%s is already in %s; not exported again", record["key"], self.root)
            return None
        duplicate = self._exported_as(record)
        if duplicate is not None:
            raise AlreadyExportedError(self.root, duplicate)
        self._ensure_classes_file()
        for attempt in range(10_000):
            sample_id = sample.base_id if attempt == 0 else f"{sample.base_id}-{attempt}"
            if self._id_taken(sample_id):
                continue
            files = {Path("images", sample.folder, f"{sample_id}.png"): sample.image_png}
            files.update({Path("masks", name, f"{sample_id}.png"): data for name, data in sample.mask_pngs.items()})
            if sample.cleanup_png is not None:
                files[Path(CLEANUP_FOLDER, f"{sample_id}.png")] = sample.cleanup_png
            for writer in chosen_writers(self.options.formats):
                files.update(writer.sample_files(sample, sample_id, self.class_names))
            line = {
                "id": sample_id,
                **record,
                "files": [p.as_posix() for p in files],
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            if sample.cleanup_png is not None:
                line["cleanup_mask"] = f"{CLEANUP_FOLDER}/{sample_id}.png"
            try:
                self._commit(sample_id, files, line)
            except _IdTaken:
                continue
            log.info("exported %s (%s) to %s", sample_id, ", ".join(sample.present) or CLEAN_FOLDER, self.root)
            return sample_id
        raise ExportError(f"could not find a free id for {sample.base_id} in {self.root}")

    def _exported_as(self, record: dict[str, Any]) -> str | None:
        """The id of a sample with `record`'s resume key and byte-identical image (an exact re-run of a request
        exported before), else None. Samples recorded before image_sha256 was are hashed from disk."""
        for other in self.records():
            if other.get("key") != record["key"]:
                continue
            digest = other.get("image_sha256")
            if digest is None:
                image = next((f for f in other.get("files") or [] if f.startswith("images/")), None)
                path = self.root / image if image else None
                digest = sha256_file(path) if path is not None and path.is_file() else None
            if digest == record["image_sha256"]:
                return str(other.get("id"))
        return None

    # ---- files derived from the whole folder ------------------------------------------------------------

    def build(self) -> dict[str, list[str]]:
        """(Re)write the split lists, COCO instances and data.yaml from the manifest and the masks on disk, under
        the folder lock, each file replaced atomically. Returns the sample ids of each split."""
        with self._folder_locked():
            self._clean_up_after_crash()
            self._ensure_classes_file()
            try:
                return self._build_locked()
            except OSError as exc:
                raise self._fail("could not write the dataset files", exc) from exc

    def _build_locked(self) -> dict[str, list[str]]:
        try:
            return build_files(self.root, self.class_names, self.options, self.records(), self._replace)
        except BuildRefused as exc:
            raise ExportError(f"{self.root}: {exc}") from None

    def _replace(self, relative: Path, data: bytes | None) -> None:
        """Atomically replace one derived file (temp, then rename over it); None removes a stale one."""
        final = self.root / relative
        if data is None:
            self._check_inside([final.parent / "_"])  # a folder linked elsewhere: nothing there is removed either
            remove_quietly(final)
            return
        self._check_inside([final])
        final.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(final, lambda tmp: write_synced(tmp, data))

    def _clean_up_after_crash(self) -> None:
        """Once per exporter, under the folder lock: remove temp files a killed writer left (no live writer holds
        any, as temps exist only while the lock is held), and end a manifest whose last line lost its newline,
        so the next record is not glued onto it."""
        if getattr(self, "_cleaned", False):
            return
        self._cleaned = True
        folders = [self.root, self.root / "annotations"]
        for kind in ("images", "masks", "labels", CLEANUP_FOLDER):
            if (self.root / kind).is_dir():
                folders += [self.root / kind, *(p for p in (self.root / kind).iterdir() if p.is_dir())]
        manifest = self.root / MANIFEST
        try:
            if end_cut_off_line(manifest):
                log.warning("%s ended in a cut-off line; it is kept as its own line", manifest)
        except OSError as exc:
            raise self._fail("could not repair manifest.jsonl", exc) from exc
        set_orphans_aside(self.root, self.records())
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if is_temp_name(path.name) and path.is_file():
                    log.info("removing %s, left by an export that was killed", path)
                    remove_quietly(path)

    def _fail(self, what: str, exc: OSError) -> ExportError:
        where = f" ({exc.filename})" if exc.filename else ""
        hint = ""
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            hint = "; choose a folder you can write to"
        elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
            hint = "; free some space or choose another folder"
        return ExportError(f"{what} in {self.root}: {describe_os_error(exc)}{where}{hint}")

    def _ensure_classes_file(self) -> None:
        path = self.root / CLASSES_FILE
        if path.exists():
            self._check_classes_file()
            return
        data = "".join(f"{name}\n" for name in self.class_names).encode("utf-8")
        tmp = temp_sibling(path)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            write_synced(tmp, data)
            try:
                link_new(tmp, path)
            except FileExistsError:
                self._check_classes_file()  # written meanwhile by another exporter: it must agree
        except OSError as exc:
            raise self._fail("could not write classes.txt", exc) from exc
        finally:
            remove_quietly(tmp)

    def _check_inside(self, finals: list[Path]) -> None:
        """Prove every path of a sample lies in its own folder under the dataset root, and no two are one file,
        before anything is written (a class or id that slipped past the checks must never write elsewhere)."""
        resolved = set()
        for final in finals:
            relative = final.relative_to(self.root)
            if not inside(self.root / relative.parts[0], final) or ".." in relative.parts:
                raise ExportError(f"refusing to write {final}: it is not inside {self.root / relative.parts[0]}")
            try:
                require_inside(self.root, final)
            except LinkOutError as exc:
                raise ExportError(str(exc)) from None
            resolved.add(final.resolve())
        if len(resolved) != len(finals):
            raise ExportError(f"refusing to export into {self.root}: two of a sample's files would be one file")

    def _commit(self, sample_id: str, files: dict[Path, bytes], line: dict[str, Any]) -> None:
        temps: list[Path] = []
        placed: list[Path] = []
        created: list[Path] = []  # folders this sample made: an empty class folder would break ImageFolder
        manifest = self.root / MANIFEST
        finals = [self.root / relative for relative in files]
        self._check_inside(finals)
        try:
            for final, data in zip(finals, files.values(), strict=True):
                for folder in reversed(final.relative_to(self.root).parents[:-1]):
                    if not (self.root / folder).is_dir():
                        (self.root / folder).mkdir()
                        created.append(self.root / folder)
                temps.append(temp_sibling(final))
                write_synced(temps[-1], data)
            for tmp, final in zip(temps, finals, strict=True):
                try:
                    link_new(tmp, final)
                except FileExistsError:
                    raise _IdTaken(str(final)) from None
                placed.append(final)
            for folder in dict.fromkeys(final.parent for final in finals):
                fsync_dir(folder)
            append_line_synced(manifest, json.dumps(line, ensure_ascii=False) + "\n")
        except BaseException as exc:
            for tmp in temps:
                remove_quietly(tmp)
            for path in placed:
                remove_quietly(path)
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            if isinstance(exc, OSError):
                raise self._fail(f"could not export {sample_id}; nothing of it was kept", exc) from exc
            raise
        for tmp in temps:
            remove_quietly(tmp)
        self._manifest_ids.add(sample_id)
