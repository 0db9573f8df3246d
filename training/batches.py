"""Which samples (with which of the 8 dihedral augmentations, and a random salt for crops) each step trains on:
a pure function of (seed, epoch, rank), so a resumed run picks up at exactly the batch it stopped at.

Sharding across ranks is torch's DistributedSampler; class balancing is a DistributedSampler whose epoch order
is drawn with replacement, weighted 1 / class count.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch.utils.data import DistributedSampler


class _Sized:
    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n


class ClassBalancedDistributedSampler(DistributedSampler):
    """Each epoch draws len(dataset) indices with replacement so every class is equally likely, then shards."""

    def __init__(self, labels: Sequence[int], num_replicas: int, rank: int, seed: int):
        super().__init__(
            _Sized(len(labels)), num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed, drop_last=False
        )
        labels_t = torch.as_tensor(list(labels), dtype=torch.long)
        counts = torch.bincount(labels_t - labels_t.min())
        self.weights = 1.0 / counts[labels_t - labels_t.min()].double()

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        indices = torch.multinomial(self.weights, len(self.weights), replacement=True, generator=g).tolist()
        indices += indices[: self.total_size - len(indices)]
        return iter(indices[self.rank : self.total_size : self.num_replicas])


@dataclass(frozen=True)
class Position:
    epoch: int = 0
    batch: int = 0  # batches of this epoch already trained


Item = tuple[int, int, int]  # (sample index, augmentation index, salt: a random 31-bit int, e.g. for a crop)


class EpochBatches:
    """Per-rank batches of Items."""

    def __init__(
        self,
        n_samples: int,
        batch_size: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        labels: Sequence[int] | None = None,
        n_augmentations: int = 1,
    ):
        if n_samples < 1:
            raise ValueError("no training samples")
        self.batch_size, self.seed, self.rank, self.n_aug = batch_size, seed, rank, n_augmentations
        if labels is not None:
            self.sampler: DistributedSampler = ClassBalancedDistributedSampler(labels, world_size, rank, seed)
        else:
            self.sampler = DistributedSampler(
                _Sized(n_samples), num_replicas=world_size, rank=rank, shuffle=True, seed=seed, drop_last=False
            )

    def epoch(self, epoch: int) -> list[list[Item]]:
        self.sampler.set_epoch(epoch)
        indices = list(self.sampler)
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) * 1009 + self.rank)
        augs = torch.randint(0, self.n_aug, (len(indices),), generator=g).tolist()
        salts = torch.randint(0, 2**31 - 1, (len(indices),), generator=g).tolist()
        pairs = list(zip(indices, augs, salts, strict=True))
        # Repeat short epochs so a tiny dataset still fills whole batches (every step sees batch_size items).
        while len(pairs) < self.batch_size:
            pairs += pairs
        n_batches = len(pairs) // self.batch_size
        return [pairs[i * self.batch_size : (i + 1) * self.batch_size] for i in range(n_batches)]

    def iterate(self, start: Position) -> Iterator[tuple[Position, list[Item]]]:
        """Batches forever from `start`; each comes with the position *after* it (what a checkpoint stores)."""
        epoch, first = start.epoch, start.batch
        while True:
            batches = self.epoch(epoch)
            for i in range(first, len(batches)):
                nxt = Position(epoch, i + 1) if i + 1 < len(batches) else Position(epoch + 1, 0)
                yield nxt, batches[i]
            epoch, first = epoch + 1, 0
