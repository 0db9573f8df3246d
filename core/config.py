"""Model and sampler configuration: dataclasses, named presets and a YAML round trip.

This is the one source of truth for every default the models and the sampler use.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration that cannot be used, with a message a user can act on."""


@dataclass(frozen=True)
class VQConfig:
    """LlamaGen VQ tokenizer. The defaults are upstream VQ-16 (16x downsampling, 16,384 codes of dim 8)."""

    in_channels: int = 3
    ch: int = 128
    ch_mult: tuple[int, ...] = (1, 1, 2, 2, 4)
    z_channels: int = 256
    encoder_res_blocks: int = 2
    # Upstream's decoder runs num_res_blocks + 1 = 3 blocks per level.
    decoder_res_blocks: int = 3
    codebook_size: int = 16384
    codebook_dim: int = 8
    codebook_l2_norm: bool = True
    codebook_show_usage: bool = True
    commit_beta: float = 0.25
    dropout: float = 0.0
    norm_groups: int = 32

    @property
    def downsample(self) -> int:
        return 2 ** (len(self.ch_mult) - 1)

    def validate(self) -> None:
        _bounded(
            self,
            "VQ",
            {
                "in_channels": (1, 16),
                "ch": (1, 1024),
                "z_channels": (1, 4096),
                "encoder_res_blocks": (0, 16),
                "decoder_res_blocks": (0, 16),
                "codebook_size": (2, 2**20),
                "codebook_dim": (1, 1024),
                "norm_groups": (1, 1024),
            },
        )
        if not 1 <= len(self.ch_mult) <= 8 or not all(isinstance(m, int) and 1 <= m <= 16 for m in self.ch_mult):
            raise ConfigError("VQ ch_mult must be 1 to 8 whole numbers from 1 to 16")
        if self.codebook_size < 2 or self.codebook_dim < 1:
            raise ConfigError("VQ codebook size must be >= 2 and dim >= 1")
        for mult in self.ch_mult:
            if (self.ch * mult) % self.norm_groups:
                raise ConfigError(
                    f"VQ channel width {self.ch}x{mult} is not divisible by {self.norm_groups} norm groups"
                )
        if self.z_channels < 1:
            raise ConfigError("VQ z_channels must be >= 1")


@dataclass(frozen=True)
class TransformerConfig:
    """Halton-MaskGIT transformer. Defaults are upstream 'tiny' for 256 px images with VQ-16."""

    input_size: int = 16
    hidden_dim: int = 384
    depth: int = 6
    heads: int = 6
    mlp_dim: int = 1536
    codebook_size: int = 16384
    num_classes: int = 1000
    register: int = 1
    dropout: float = 0.0

    @property
    def mask_token(self) -> int:
        return self.codebook_size

    @property
    def null_class(self) -> int:
        return self.num_classes

    @property
    def head_dim(self) -> int:
        return self.hidden_dim // self.heads

    @property
    def ffn_hidden(self) -> int:
        hidden = int(2 * self.mlp_dim / 3)
        return 256 * ((hidden + 255) // 256)

    def validate(self) -> None:
        _bounded(
            self,
            "transformer",
            {
                "input_size": (1, 128),
                "hidden_dim": (1, 8192),
                "depth": (1, 128),
                "heads": (1, 128),
                "mlp_dim": (1, 65536),
                "codebook_size": (2, 2**20),
                "num_classes": (1, 100_000),
                "register": (0, 64),
            },
        )
        if self.hidden_dim // self.heads < 1:
            raise ConfigError("transformer hidden_dim must be >= heads")
        if self.input_size < 1 or self.depth < 1 or self.num_classes < 1:
            raise ConfigError("transformer input_size, depth and num_classes must be >= 1")


# Sampler bounds (on the SamplerConfig fields below). Upstream uses CFG weights up to 3 and temperatures near 1;
# beyond these the logits overflow or the result is noise.
MAX_STEPS = 1024
MAX_CFG_WEIGHT = 20.0
MAX_TEMPERATURE = 20.0
# top_k beyond the largest codebook any preset allows (VQConfig.codebook_size) means nothing.
MAX_TOP_K = 2**20


@dataclass(frozen=True)
class Bounds:
    """Where a number setting may go. It sits on its config field (metadata "bounds"), and every reader takes it
    from there: the config's validate, the generated command-line flags (core.flags), the app's spin boxes and
    the settings file. Each test is written so NaN fails it (a comparison with NaN is always False)."""

    low: float
    high: float
    step: float = 1  # what one click of a spin box moves
    whole: bool = False  # whole numbers only
    above_low: bool = False  # strictly above `low` (a temperature of 0 means nothing)

    def contains(self, value: Any) -> bool:
        if not (_whole(value) if self.whole else _real(value)):
            return False
        return (self.low < value if self.above_low else self.low <= value) and value <= self.high

    def lowest(self, resolution: float) -> float:
        """The smallest value a control that shows `resolution` steps can hold (a spin box's minimum)."""
        return self.low + resolution if self.above_low else self.low

    def __str__(self) -> str:
        if self.whole:
            return f"a whole number from {self.low} to {self.high}"
        if self.above_low:
            return f"above {self.low} and at most {self.high}"
        return f"from {self.low} to {self.high}"


def check_bounds(config: Any) -> None:
    """ConfigError for the first field of `config` outside its Bounds. None passes only in a field whose default
    is None ("not set": a training job's sampler override)."""
    for f in dataclasses.fields(config):
        bounds, value = f.metadata.get("bounds"), getattr(config, f.name)
        if value is None and f.default is None:
            continue
        if bounds is not None and not bounds.contains(value):
            raise ConfigError(f"{f.metadata.get('what', f.name)} must be {bounds}, got {value!r}")


def _bounded(config: Any, what: str, bounds: dict[str, tuple[int, int]]) -> None:
    """Whole-number sizes within bounds, checked before a model is built (a huge size would exhaust memory)."""
    for name, (low, high) in bounds.items():
        value = getattr(config, name)
        if not low <= value <= high:
            raise ConfigError(f"{what} {name} must be from {low} to {high}, got {value}")


def _whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# CFG weight per upstream model size, from the Halton-MaskGIT README.
CFG_BY_PRESET = {"tiny": 1.5, "small": 1.0, "base": 0.7}


def _sampler_field(default: Any, help: str, **metadata: Any) -> Any:
    """A sampler setting with the help its generated flag shows (core.flags), and its Bounds with the words its
    error names it by (`what`)."""
    return dataclasses.field(default=default, metadata={"help": help, **metadata})


@dataclass(frozen=True)
class SamplerConfig:
    """Halton sampler settings: the one home of their defaults and bounds (Bounds on each number field). Defaults
    follow the upstream README for the tiny model. The app's sampler panel, its settings file, the flags of
    `defectforge synth`/`bench` and the training jobs' sampler overrides (`sampler_override`) all read them here."""

    steps: int = _sampler_field(
        32, "sampler steps for a full token grid", bounds=Bounds(1, MAX_STEPS, whole=True), what="sampler steps"
    )
    cfg_weight: float = _sampler_field(
        1.5,
        "classifier-free guidance weight (0 = off)",
        aliases=("--cfg",),
        bounds=Bounds(0, MAX_CFG_WEIGHT, step=0.1),
        what="the CFG weight",
    )
    temp_min: float = _sampler_field(
        1.0,
        "temperature at the first step (logits are multiplied by it)",
        bounds=Bounds(0, MAX_TEMPERATURE, step=0.05, above_low=True),
        what="sampler temperatures",
    )
    temp_max: float = _sampler_field(
        1.2,
        "temperature at the last step",
        bounds=Bounds(0, MAX_TEMPERATURE, step=0.05, above_low=True),
        what="sampler temperatures",
    )
    randomize: bool = _sampler_field(True, "start each variant at a seed-chosen place in the Halton order")
    top_k: int = _sampler_field(
        0,
        "sample among the k likeliest codes only (0 = off)",
        bounds=Bounds(0, MAX_TOP_K, whole=True),
        what="sampler top_k (0 = off)",
    )
    # Inpainting: spend steps in proportion to the masked share of the grid, so a small defect
    # is revealed at the same tokens-per-step pace a full image would be (never fewer than min_steps).
    scale_steps_to_mask: bool = _sampler_field(True, "spend steps in proportion to the masked share of the grid")
    min_steps: int = _sampler_field(
        4,
        "fewest steps an inpaint takes when steps are scaled to the mask",
        bounds=Bounds(1, MAX_STEPS, whole=True),
        what="sampler min_steps",
    )

    @classmethod
    def bounds(cls, name: str) -> Bounds:
        """The Bounds of field `name`: what the app's spin boxes, the settings file and every flag read."""
        return cls.__dataclass_fields__[name].metadata["bounds"]

    def validate(self) -> None:
        """Every field within its Bounds (whole numbers where whole numbers are meant, no NaN, no infinities,
        nothing negative), the temperature ramp from low to high, true/false switches."""
        check_bounds(self)
        if self.temp_min > self.temp_max:
            raise ConfigError(
                f"the temperature ramp runs from low to high: got {self.temp_min}:{self.temp_max} "
                f"(did you mean {self.temp_max}:{self.temp_min}?)"
            )
        for name in ("randomize", "scale_steps_to_mask"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"sampler {name} must be true or false, got {getattr(self, name)!r}")

    def temperature(self, step: int, total: int) -> float:
        """Logit multiplier at `step` of `total`, linear from temp_min to temp_max."""
        if total <= 1:
            return float(self.temp_min)
        return float(self.temp_min + (self.temp_max - self.temp_min) * step / (total - 1))

    def steps_for(self, n_masked: int, n_grid: int) -> int:
        """Number of steps to reveal `n_masked` of `n_grid` tokens; never more than n_masked."""
        if n_masked <= 0:
            return 0
        steps = self.steps
        if self.scale_steps_to_mask and n_masked < n_grid:
            steps = max(self.min_steps, math.ceil(self.steps * n_masked / n_grid))
        return max(1, min(steps, self.steps, n_masked))


_VQ8_GRAY = VQConfig(
    in_channels=1,
    ch=32,
    ch_mult=(1, 1, 2, 4),
    z_channels=64,
    encoder_res_blocks=1,
    decoder_res_blocks=2,
    codebook_size=128,
)

VQ_PRESETS: dict[str, VQConfig] = {
    # Upstream LlamaGen VQ-16: 72M parameters.
    "vq16": VQConfig(),
    # Same architecture and 16x downsampling, narrower, one res-block less per level and a smaller
    # codebook: about 2.5x cheaper per image than a full-depth ch=32 model, so it trains on a CPU.
    "vq16-cpu": VQConfig(
        ch=32, ch_mult=(1, 1, 2, 2, 4), z_channels=64, encoder_res_blocks=1, decoder_res_blocks=2, codebook_size=1024
    ),
    # The default model's tokenizer: LlamaGen's VQ layout with 8x downsampling (one level less), CPU-narrow.
    # Eight source pixels per code: at NEU's native 200 px a token covers a 8x8 patch instead of the 12.5 px
    # that upscaling to 256 for a VQ-16 gives, so fine crazing and pits survive the round trip.
    "vq8-cpu": VQConfig(
        ch=32, ch_mult=(1, 1, 2, 4), z_channels=64, encoder_res_blocks=1, decoder_res_blocks=2, codebook_size=1024
    ),
    # vq8-cpu for gray steel: one input and output channel (the model sees the channel mean; core.vq repeats its
    # output to RGB) and 128 codes. Measured on the default VQ (k-means of its latents, decoder unchanged):
    # 1,024 -> 128 codes costs 0.008 SSIM, and tokens that carry structure rather than grain are what a
    # transformer can predict; the decoder, trained with a PatchGAN, draws the grain.
    "vq8-gray": _VQ8_GRAY,
    # vq8-gray with 32 codes (campaign session 3's experiment): 128 codes were still used almost uniformly, on
    # grain. Measured from the 128-code tokenizer (k-means, then trained): held-out SSIM 0.64 after 250 steps
    # against 0.72, falling to 0.60 once its PatchGAN started, with an embossed texture: not adopted.
    "vq8-gray32": dataclasses.replace(_VQ8_GRAY, codebook_size=32),
    # Smallest working shape, for tests.
    "vq16-test": VQConfig(
        ch=32,
        ch_mult=(1, 1, 1, 1, 1),
        z_channels=32,
        encoder_res_blocks=1,
        decoder_res_blocks=1,
        codebook_size=64,
        codebook_dim=4,
    ),
}

TRANSFORMER_PRESETS: dict[str, TransformerConfig] = {
    "tiny": TransformerConfig(hidden_dim=384, depth=6, heads=6, mlp_dim=1536),
    "small": TransformerConfig(hidden_dim=512, depth=12, heads=6, mlp_dim=2048),
    "base": TransformerConfig(hidden_dim=768, depth=12, heads=12, mlp_dim=3072),
    # CPU-trainable: same layout, narrower, with the codebook of vq16-cpu.
    "cpu": TransformerConfig(hidden_dim=256, depth=6, heads=4, mlp_dim=1024, codebook_size=1024, num_classes=6),
    # What the bundled default model uses: trainable in well under an hour on 2 CPU cores.
    "cpu-small": TransformerConfig(hidden_dim=192, depth=4, heads=4, mlp_dim=768, codebook_size=1024, num_classes=6),
    "test": TransformerConfig(hidden_dim=64, depth=2, heads=2, mlp_dim=256, codebook_size=64, num_classes=6),
}


def vq_preset(name: str) -> VQConfig:
    try:
        return VQ_PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown VQ preset {name!r}; choose one of {sorted(VQ_PRESETS)}") from None


def transformer_preset(name: str, **overrides: Any) -> TransformerConfig:
    try:
        base = TRANSFORMER_PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown transformer preset {name!r}; choose one of {sorted(TRANSFORMER_PRESETS)}") from None
    return dataclasses.replace(base, **overrides)


def sampler_override(name: str, help: str, **metadata: Any) -> Any:
    """A field of another config (a training job's) that overrides SamplerConfig's `name` when set (None: keep
    the bundle's or preset's): it carries that field's Bounds, so its flag and its YAML refuse what the sampler
    would refuse, before any work starts."""
    own = SamplerConfig.__dataclass_fields__[name].metadata
    return dataclasses.field(
        default=None, metadata={"help": help, "bounds": own["bounds"], "what": own["what"], **metadata}
    )


def sampler_preset(name: str) -> SamplerConfig:
    """Upstream README sampler settings for a transformer preset (CFG weight depends on model size)."""
    return SamplerConfig(cfg_weight=CFG_BY_PRESET.get(name, SamplerConfig.cfg_weight))


def to_dict(config: Any) -> dict[str, Any]:
    """A plain dict (lists, not tuples) ready for YAML or JSON."""
    out = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def from_dict(cls: type[T], data: dict[str, Any] | None) -> T:
    """Build `cls` from a dict, refusing unknown keys so a typo never passes silently."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__} must be a mapping, got {type(data).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown keys {unknown}")
    kwargs = {}
    hints = typing.get_type_hints(cls)
    for name, value in data.items():
        default = getattr(cls, name, None) if known[name].default is not dataclasses.MISSING else None
        value = tuple(value) if isinstance(default, tuple) and isinstance(value, list) else value
        kwargs[name] = _typed(cls, name, value, hints.get(name))
    config = cls(**kwargs)
    check_bounds(config)
    validate = getattr(config, "validate", None)
    if validate:
        validate()
    return config


_TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


def _typed(cls: type, name: str, value: Any, hint: Any) -> Any:
    """`value` checked against the field's type (an int is a fine float), so a wrong type gets a message naming
    the field instead of a TypeError from deep inside a model."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    if value is None and type(None) in options:
        return value
    kind = next((o for o in options if o is not type(None)), hint)
    if typing.get_origin(kind) is tuple:
        inner = typing.get_args(kind)[0]
        if isinstance(value, tuple) and inner in _TYPE_WORDS:
            return tuple(_typed(cls, name, item, inner) for item in value)
        if isinstance(value, tuple):
            return value
        expected = f"a list of {_TYPE_WORDS.get(inner, 'values')}"
    elif kind in _TYPE_WORDS:
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        expected = _TYPE_WORDS[kind]
    else:
        return value
    raise ConfigError(f"{cls.__name__}: {name} must be {expected}, got {value!r}"[:300])


# A YAML file this small can expand to gigabytes through nested aliases ("billion laughs"): count the nodes the
# document stands for, sharing included, before building any Python object from it.
MAX_YAML_NODES = 100_000


def safe_yaml(text: str | bytes, where: str | Path) -> Any:
    """yaml.safe_load with the expanded size bounded; every failure is a ConfigError naming `where`."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply to read") from None
    if root is None:
        return None
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if depth > 100:
            raise ConfigError(f"{where}: nested too deeply to read")
        if id(node) not in sizes:
            sizes[id(node)] = 0  # a node met again while counting itself: a recursive alias, refused below
            children: list[yaml.Node] = []
            if isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            elif isinstance(node, yaml.MappingNode):
                children = [part for pair in node.value for part in pair]
            total = 1
            for child in children:
                total += size(child, depth + 1)
                if total > MAX_YAML_NODES:
                    break
            sizes[id(node)] = total
        elif sizes[id(node)] == 0:
            raise ConfigError(f"{where}: a YAML alias refers to itself")
        return sizes[id(node)]

    if size(root, 0) > MAX_YAML_NODES:
        raise ConfigError(
            f"{where}: the YAML expands to more than {MAX_YAML_NODES:,} values (nested aliases?); refused"
        )
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({str(exc).splitlines()[0]})") from exc


def save_yaml(config: Any, path: Path) -> None:
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False), encoding="utf-8")


def load_yaml(cls: type[T], path: Path) -> T:
    return from_dict(cls, safe_yaml(Path(path).read_text(encoding="utf-8"), path))
