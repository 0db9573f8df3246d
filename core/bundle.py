"""Model bundles: a folder with model.yaml + vq.safetensors + transformer.safetensors, checked on load.

Optional part: classifier.safetensors, the critic that scores variants (core.scoring). Listed in model.yaml's
weights_sha256 and checked like the weights when present; a bundle without it loads and simply has no critic.

Weights never come from pickle. Every failure is a BundleError whose message names the file and,
where it applies, the offending key.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from core.config import ConfigError, SamplerConfig, TransformerConfig, VQConfig, from_dict, safe_yaml, to_dict
from core.fsutil import sha256_file, staged_folder, write_atomic
from core.names import ClassNameError, check_class_names
from core.scoring import Critic, CriticError, load_critic
from core.transformer import MaskTransformer
from core.vq import VQModel

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "model.yaml"
VQ_FILE = "vq.safetensors"
TRANSFORMER_FILE = "transformer.safetensors"
CLASSIFIER_FILE = "classifier.safetensors"
# Tied to tok_emb.weight; stored once, re-tied on load.
_TIED_KEYS = ("head.weight",)


class BundleError(ValueError):
    """A model bundle that cannot be used."""


@dataclass
class BundleInfo:
    """What model.yaml says, without loading any weights (for pickers and checks)."""

    path: Path
    name: str
    class_names: list[str]
    image_size: int
    vq: VQConfig
    transformer: TransformerConfig
    sampler: SamplerConfig
    provenance: dict[str, Any] = field(default_factory=dict)
    weights_sha256: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""  # sha256 of model.yaml, which holds every weight file's sha256
    # Written by `train vq`: a trained tokenizer beside an untrained placeholder transformer. Loads only as a
    # VQ source for the training jobs; the app, synth and eval refuse it (it would paint noise).
    tokenizer_only: bool = False

    @property
    def grid_size(self) -> int:
        return self.image_size // self.vq.downsample


@dataclass
class ModelBundle:
    info: BundleInfo
    vq: VQModel
    transformer: MaskTransformer
    critic: Critic | None = None  # the optional classifier part: variant scores need it for fidelity and realism

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def class_names(self) -> list[str]:
        return self.info.class_names

    @property
    def device(self) -> torch.device:
        return next(self.transformer.parameters()).device

    def class_index(self, name: str) -> int:
        try:
            return self.info.class_names.index(name)
        except ValueError:
            raise BundleError(
                f"model {self.info.name!r} has no class {name!r}; it knows {', '.join(self.info.class_names)}"
            ) from None

    def to(self, device: torch.device | str) -> ModelBundle:
        self.vq.to(device)
        self.transformer.to(device)
        return self


def _refuse_pickle(path: Path) -> None:
    """safetensors starts with an 8-byte header length then '{'; pickles and torch zips do not."""
    with open(path, "rb") as fh:
        head = fh.read(9)
    if head[:2] == b"PK" or (head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5):
        raise BundleError(
            f"{path.name} is a pickle/PyTorch file, which can run code when loaded, so it was not opened. "
            "Bundles hold safetensors only; start from an upstream checkpoint with 'defectforge train vq "
            "--init-llamagen' or 'defectforge train maskgit --init-upstream', which read it safely and write a "
            "safetensors bundle."
        )
    if len(head) < 9 or head[8:9] != b"{":
        raise BundleError(f"{path.name} is not a safetensors file (corrupt or truncated)")


def read_bundle_info(path: Path | str) -> BundleInfo:
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"model bundle {path} not found (expected a folder with {MANIFEST})")
    manifest = path / MANIFEST
    if not manifest.is_file():
        raise BundleError(f"{path}: missing {MANIFEST}")
    raw = manifest.read_bytes()
    try:
        meta = safe_yaml(raw, manifest)
    except ConfigError as exc:
        raise BundleError(str(exc)) from exc
    if not isinstance(meta, dict):
        raise BundleError(f"{manifest}: expected a mapping at the top level")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleError(
            f"{manifest}: unknown format_version {version!r} (this DefectForge reads version {FORMAT_VERSION}); "
            "update DefectForge or re-export the bundle"
        )
    try:
        if not isinstance(meta["classes"], list):
            raise BundleError(f"{manifest}: classes must be a list of class names")
        classes = check_class_names([str(c) for c in meta["classes"]], str(manifest))
        vq_cfg = from_dict(VQConfig, meta.get("vq"))
        tr_cfg = from_dict(TransformerConfig, meta.get("transformer"))
        sampler = from_dict(SamplerConfig, meta.get("sampler"))
        image_size = int(meta.get("image_size", 256))
    except KeyError as exc:
        raise BundleError(f"{manifest}: missing required field {exc}") from exc
    except BundleError:
        raise
    except ClassNameError as exc:
        raise BundleError(str(exc)) from exc
    except (ConfigError, TypeError, ValueError) as exc:
        raise BundleError(f"{manifest}: {exc}") from exc
    if len(classes) != tr_cfg.num_classes:
        raise BundleError(f"{manifest}: {len(classes)} class names but the transformer has {tr_cfg.num_classes}")
    if tr_cfg.codebook_size != vq_cfg.codebook_size:
        raise BundleError(
            f"{manifest}: transformer codebook {tr_cfg.codebook_size} != VQ codebook {vq_cfg.codebook_size}"
        )
    if image_size % vq_cfg.downsample or image_size // vq_cfg.downsample != tr_cfg.input_size:
        raise BundleError(
            f"{manifest}: image_size {image_size} / {vq_cfg.downsample} does not give the "
            f"transformer's {tr_cfg.input_size}x{tr_cfg.input_size} tokens"
        )
    return BundleInfo(
        path=path,
        name=str(meta.get("name", path.name)),
        class_names=classes,
        image_size=image_size,
        vq=vq_cfg,
        transformer=tr_cfg,
        sampler=sampler,
        provenance=dict(meta.get("provenance") or {}),
        weights_sha256=dict(meta.get("weights_sha256") or {}),
        fingerprint=hashlib.sha256(raw).hexdigest(),
        tokenizer_only=_tokenizer_only(meta),
    )


def _tokenizer_only(meta: dict[str, Any]) -> bool:
    if meta.get("tokenizer_only") is True:
        return True
    # Bundles `train vq` wrote before the flag existed say so in their provenance.
    provenance = meta.get("provenance") or {}
    return isinstance(provenance, dict) and str(provenance.get("transformer", "")).startswith("untrained placeholder")


def _load_weights(file: Path, model: torch.nn.Module, expected_sha: str | None, verify: bool) -> None:
    if not file.is_file():
        raise BundleError(f"{file.parent}: missing {file.name}")
    _refuse_pickle(file)
    if verify:
        if not expected_sha:
            raise BundleError(f"{file.parent / MANIFEST}: no sha256 recorded for {file.name}")
        actual = sha256_file(file)
        if actual != expected_sha:
            raise BundleError(
                f"{file}: checksum mismatch (file changed or damaged): "
                f"expected {expected_sha[:12]}..., got {actual[:12]}..."
            )
    try:
        state = load_file(str(file))
    except (SafetensorError, OSError, ValueError) as exc:
        raise BundleError(f"{file}: unreadable safetensors ({exc})") from exc
    own = model.state_dict()
    for key in _TIED_KEYS:
        if key in own and key not in state and "tok_emb.weight" in state:
            state[key] = state["tok_emb.weight"]
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing:
        more = f" (+{len(missing) - 1} more)" if missing[1:] else ""
        raise BundleError(f"{file}: missing weight {missing[0]}{more}")
    if unexpected:
        raise BundleError(
            f"{file}: unexpected weight {unexpected[0]}" + (f" (+{len(unexpected) - 1} more)" if unexpected[1:] else "")
        )
    for key, tensor in state.items():
        if tuple(tensor.shape) != tuple(own[key].shape):
            raise BundleError(
                f"{file}: weight {key} has shape {tuple(tensor.shape)}, model.yaml implies {tuple(own[key].shape)}"
            )
    model.load_state_dict(state, strict=True)


def load_bundle(
    path: Path | str, device: torch.device | str = "cpu", verify: bool = True, tokenizer_only_ok: bool = False
) -> ModelBundle:
    """Load and check a bundle; models come back in eval mode on `device`.

    A tokenizer-only bundle (from `train vq`) is refused unless `tokenizer_only_ok` (the training jobs' VQ
    source): its transformer is untrained."""
    info = read_bundle_info(path)
    if info.tokenizer_only and not tokenizer_only_ok:
        raise BundleError(
            f"{info.path} holds only a trained tokenizer (from 'defectforge train vq'); its transformer "
            "is untrained. Train one on it with 'defectforge train tokenize' and 'train maskgit', "
            "and use that bundle"
        )
    vq = VQModel(info.vq)
    transformer = MaskTransformer(info.transformer)
    _load_weights(info.path / VQ_FILE, vq, info.weights_sha256.get(VQ_FILE), verify)
    _load_weights(info.path / TRANSFORMER_FILE, transformer, info.weights_sha256.get(TRANSFORMER_FILE), verify)
    bundle = ModelBundle(info, vq.eval(), transformer.eval(), _load_critic(info, verify))
    log.info("loaded model bundle %s (%d classes) from %s", info.name, len(info.class_names), info.path)
    return bundle.to(device)


def _load_critic(info: BundleInfo, verify: bool) -> Critic | None:
    """The optional classifier part, checked like the weights; a file model.yaml does not list is left unused
    (it was not added by 'defectforge train classifier', so nothing vouches for it)."""
    file = info.path / CLASSIFIER_FILE
    expected = info.weights_sha256.get(CLASSIFIER_FILE)
    if not file.is_file():
        if expected:
            log.warning(
                "%s: model.yaml lists %s but the file is missing; variants get no class scores",
                info.path,
                CLASSIFIER_FILE,
            )
        return None
    if not expected:
        log.warning(
            "%s: %s is not listed in model.yaml; ignored (add it with 'defectforge train classifier')",
            info.path,
            CLASSIFIER_FILE,
        )
        return None
    _refuse_pickle(file)
    if verify and sha256_file(file) != expected:
        raise BundleError(
            f"{file}: checksum mismatch (file changed or damaged); add it again with "
            "'defectforge train classifier' or delete it"
        )
    try:
        critic = load_critic(file)
    except CriticError as exc:
        raise BundleError(str(exc)) from exc
    if critic.classes != info.class_names:
        raise BundleError(f"{file}: the classifier knows {critic.classes}, the model {info.class_names}")
    return critic


def add_part(path: Path | str, file_name: str, write: Callable[[Path], None]) -> BundleInfo:
    """Add or replace an optional part of an existing bundle: `write(tmp_path)` writes it, then the part and
    model.yaml (with the part's sha256) are each replaced atomically. A crash between the two leaves a checksum
    mismatch that names the part, never a half-written file."""
    info = read_bundle_info(path)
    if file_name in (VQ_FILE, TRANSFORMER_FILE, MANIFEST):
        raise BundleError(f"{file_name} is not an optional part")
    manifest = info.path / MANIFEST
    meta = safe_yaml(manifest.read_bytes(), manifest)
    hashes = dict(meta.get("weights_sha256") or {})

    def write_and_hash(tmp: Path) -> None:
        write(tmp)
        hashes[file_name] = sha256_file(tmp)

    write_atomic(info.path / file_name, write_and_hash)
    meta["weights_sha256"] = hashes
    write_atomic(manifest, yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    return read_bundle_info(info.path)


def _state_for_file(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k not in _TIED_KEYS}


@dataclass
class BundleContents:
    """What `save_bundle` writes into a bundle: its name, classes (in index order), the two models and what
    model.yaml says about them. `image_size` defaults to the transformer's grid times the VQ's downsampling."""

    name: str
    class_names: list[str]
    vq: VQModel
    transformer: MaskTransformer
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    image_size: int | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    tokenizer_only: bool = False  # `train vq`'s bundle: its transformer is an untrained placeholder


def save_bundle(path: Path | str, contents: BundleContents, overwrite: bool = False) -> BundleInfo:
    """Write a bundle atomically: built in a sibling temp folder, then renamed into place."""
    path = Path(path)
    vq, transformer = contents.vq, contents.transformer
    if path.exists() and not overwrite:
        raise BundleError(f"{path} already exists; choose another folder or allow overwrite")
    if len(contents.class_names) != transformer.config.num_classes:
        raise BundleError(
            f"{len(contents.class_names)} class names for a transformer with {transformer.config.num_classes}"
        )
    image_size = contents.image_size or transformer.config.input_size * vq.downsample
    path.parent.mkdir(parents=True, exist_ok=True)
    with staged_folder(path, replace=overwrite) as tmp:
        save_file(_state_for_file(vq), str(tmp / VQ_FILE))
        save_file(_state_for_file(transformer), str(tmp / TRANSFORMER_FILE))
        meta = {
            "format_version": FORMAT_VERSION,
            "name": contents.name,
            "classes": list(contents.class_names),
            "image_size": image_size,
            "vq": to_dict(vq.config),
            "transformer": to_dict(transformer.config),
            "sampler": to_dict(contents.sampler),
            "provenance": contents.provenance,
            "weights_sha256": {f: sha256_file(tmp / f) for f in (VQ_FILE, TRANSFORMER_FILE)},
        }
        if contents.tokenizer_only:
            meta["tokenizer_only"] = True
        (tmp / MANIFEST).write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return read_bundle_info(path)
