import numpy as np
import pytest
import torch

from core.config import SamplerConfig, transformer_preset
from core.halton import halton_flat_order, reveal_schedule
from core.sampler import HaltonSampler
from core.transformer import MaskTransformer


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = MaskTransformer(transformer_preset("test")).eval()
    # AdaLN-zero makes a fresh model ignore its blocks; wake them so class and context matter.
    with torch.no_grad():
        for block in m.transformer.layers:
            block.mlp[1].weight.normal_(0, 0.05)
    return m


def _mask(rows: slice, cols: slice) -> torch.Tensor:
    mask = torch.zeros(16, 16, dtype=torch.bool)
    mask[rows, cols] = True
    return mask


def _last(steps):
    return list(steps)[-1]


def test_inpaint_never_changes_tokens_outside_the_mask(model):
    codes = torch.randint(0, 64, (3, 16, 16))
    mask = _mask(slice(4, 9), slice(2, 12))
    final = _last(HaltonSampler(model).inpaint(codes, mask, [0, 1, 2], seeds=[1, 2, 3]))
    assert torch.equal(final.codes[:, ~mask], codes[:, ~mask])
    assert final.known.all()
    assert (final.codes[:, mask] < 64).all()  # the mask token (64) is never sampled


def test_same_seed_gives_bit_identical_codes_and_other_seeds_differ(model):
    codes = torch.randint(0, 64, (1, 16, 16))
    mask = _mask(slice(0, 8), slice(0, 16))
    sampler = HaltonSampler(model)
    a = _last(sampler.inpaint(codes, mask, [2], seeds=[7])).codes
    b = _last(sampler.inpaint(codes, mask, [2], seeds=[7])).codes
    c = _last(sampler.inpaint(codes, mask, [2], seeds=[8])).codes
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_stopping_midway_leaves_no_state_behind(model):
    codes = torch.randint(0, 64, (1, 16, 16))
    mask = _mask(slice(2, 10), slice(2, 10))
    sampler = HaltonSampler(model)
    reference = _last(sampler.inpaint(codes, mask, [1], seeds=[5])).codes
    run = sampler.inpaint(codes, mask, [1], seeds=[5])
    next(run)
    next(run)
    run.close()  # the caller cancels between steps
    assert not model.training
    again = _last(sampler.inpaint(codes, mask, [1], seeds=[5])).codes
    assert torch.equal(again, reference)


def test_reveal_follows_the_halton_order_filtered_to_the_mask(model):
    codes = torch.randint(0, 64, (1, 16, 16))
    mask = _mask(slice(3, 11), slice(5, 13))
    cfg = SamplerConfig(steps=8, randomize=False, scale_steps_to_mask=False)
    steps = list(HaltonSampler(model, cfg).inpaint(codes, mask, [0], seeds=[0]))
    order = halton_flat_order(16)
    expected = order[mask.flatten().numpy()[order]]
    counts = reveal_schedule(int(mask.sum()), 8)
    start = 0
    for step, count in zip(steps, counts, strict=True):
        got = np.flatnonzero(step.revealed[0].flatten().numpy())
        assert sorted(got) == sorted(expected[start : start + count])
        start += count


def _rolls_matching(model, cfg: SamplerConfig, seed: int) -> list[int]:
    """Every roll k of the base Halton order whose per-step reveal sets are the ones the sampler produced."""
    steps = list(HaltonSampler(model, cfg).generate([0], seeds=[seed], config=cfg))
    revealed = [set(np.flatnonzero(step.revealed[0].flatten().numpy()).tolist()) for step in steps]
    order = halton_flat_order(16).tolist()
    counts = reveal_schedule(256, 16)
    matching = []
    for k in range(256):
        rolled, start, ok = np.roll(order, k).tolist(), 0, True
        for count, got in zip(counts, revealed, strict=True):
            if set(rolled[start : start + count]) != got:
                ok = False
                break
            start += count
        if ok:
            matching.append(k)
    return matching


def test_randomize_is_a_cyclic_roll_of_the_same_order_that_the_seed_picks(model):
    rolls = {seed: _rolls_matching(model, SamplerConfig(steps=16, randomize=True), seed) for seed in range(4)}
    assert all(len(found) == 1 for found in rolls.values())  # each run is exactly one roll of the order
    assert len({found[0] for found in rolls.values()}) > 1  # and the seed chooses which
    assert _rolls_matching(model, SamplerConfig(steps=16, randomize=False), 3) == [0]  # off: the order itself


def test_steps_never_exceed_the_masked_count_and_scale_with_mask_size(model):
    codes = torch.randint(0, 64, (1, 16, 16))
    tiny = _mask(slice(0, 1), slice(0, 3))
    assert len(list(HaltonSampler(model, SamplerConfig(steps=32)).inpaint(codes, tiny, [0], seeds=0))) == 3
    small = _mask(slice(0, 4), slice(0, 10))  # 40 of 256 tokens
    steps = list(HaltonSampler(model, SamplerConfig(steps=32)).inpaint(codes, small, [0], seeds=0))
    assert len(steps) == 5 and steps[-1].total == 5


def test_only_revealed_positions_are_sampled(model, monkeypatch):
    sampled = []
    original = torch.multinomial

    def spy(probs, *args, **kwargs):  # one draw per position of one image: (positions, codebook)
        sampled.append(probs.shape[0])
        return original(probs, *args, **kwargs)

    monkeypatch.setattr(torch, "multinomial", spy)
    cfg = SamplerConfig(steps=8)
    list(HaltonSampler(model, cfg).generate([1], seeds=0))
    assert sampled == reveal_schedule(256, 8)


def test_cfg_runs_as_one_doubled_batch(model, monkeypatch):
    batches = []
    original = model.forward

    def spy(codes, labels, drop=None, positions=None):
        batches.append((codes.shape[0], None if drop is None else drop.tolist()))
        return original(codes, labels, drop, positions)

    monkeypatch.setattr(model, "forward", spy)
    list(HaltonSampler(model, SamplerConfig(steps=4, cfg_weight=2.0)).generate([1, 2], seeds=0))
    assert batches and all(b == (4, [False, False, True, True]) for b in batches)
    batches.clear()
    list(HaltonSampler(model, SamplerConfig(steps=4, cfg_weight=0.0)).generate([1], seeds=0))
    assert all(b == (1, None) for b in batches)


def test_class_changes_the_result(model):
    a = _last(HaltonSampler(model).generate([0], seeds=[4])).codes
    b = _last(HaltonSampler(model).generate([5], seeds=[4])).codes
    assert not torch.equal(a, b)


def test_bad_inputs_give_clear_errors(model):
    sampler = HaltonSampler(model)
    codes = torch.zeros(1, 16, 16, dtype=torch.long)
    with pytest.raises(ValueError, match="empty"):
        sampler.inpaint(codes, torch.zeros(16, 16, dtype=torch.bool), [0])
    with pytest.raises(ValueError, match="class ids"):
        sampler.inpaint(codes, torch.ones(16, 16, dtype=torch.bool), [99])
    with pytest.raises(ValueError, match="16x16"):
        sampler.inpaint(torch.zeros(1, 8, 8, dtype=torch.long), torch.ones(8, 8, dtype=torch.bool), [0])


def test_variants_batch_uses_one_seed_each(model):
    codes = torch.randint(0, 64, (1, 16, 16)).repeat(3, 1, 1)
    mask = _mask(slice(0, 8), slice(0, 8))
    final = _last(HaltonSampler(model).inpaint(codes, mask, [1], seeds=10))
    assert not torch.equal(final.codes[0], final.codes[1])


def test_the_most_likely_guess_before_the_last_step_is_what_a_greedy_last_step_draws(model):
    """A preview fills the tokens not revealed yet with the model's current guess: with greedy sampling
    (top-k 1) the guess one step before the end is exactly the result; context and revealed tokens stay."""
    codes = torch.randint(0, 64, (2, 16, 16))
    mask = _mask(slice(3, 11), slice(2, 13))
    config = SamplerConfig(steps=5, cfg_weight=1.0, top_k=1, scale_steps_to_mask=False)
    sampler = HaltonSampler(model, config)
    steps = list(sampler.inpaint(codes, mask, [1, 2], seeds=[4, 5]))
    before_last, last = steps[-2], steps[-1]
    guess = sampler.most_likely(before_last.codes, before_last.known, [1, 2])
    assert (~before_last.known).any() and (guess < 64).all()  # nothing left as the mask token
    assert torch.equal(guess[before_last.known], before_last.codes[before_last.known])
    assert torch.equal(guess, last.codes)
