"""Which tokens a MaskGIT training example hides: grown defect holes, as people paint them."""

from __future__ import annotations

import torch

from training.masking import MAX_GROW, REGION, grow, make_masks


def test_grow_is_a_diamond_of_the_asked_number_of_tokens():
    region = torch.zeros(2, 9, 9, dtype=torch.bool)
    region[:, 4, 4] = True
    grown = grow(region, torch.tensor([1, 2]))
    assert grown[0].sum() == 5 and grown[1].sum() == 13  # a plus, then a diamond of radius 2
    assert grown[1, 4, 2] and not grown[1, 2, 2]  # rounder than a square


def test_grown_holes_cover_the_defect_and_reach_past_it_and_runs_without_them_hide_what_they_always_hid():
    region = torch.zeros(64, 12, 12, dtype=torch.bool)
    region[:, 5:7, 4:8] = True
    plain, kind = make_masks(region, torch.Generator().manual_seed(0), defect_share=1.0, box_share=0.0)
    assert (kind == REGION).all() and torch.equal(plain, region)
    again, _ = make_masks(region, torch.Generator().manual_seed(0), 1.0, 0.0, grown_share=0.0)
    assert torch.equal(again, plain)
    mask, kind = make_masks(region, torch.Generator().manual_seed(0), 1.0, 0.0, grown_share=0.5)
    assert (kind == REGION).all() and (mask | ~region).all()  # every hole still holds the whole defect
    beyond = (mask & ~region).flatten(1).sum(1)
    assert 0.25 < (beyond > 0).float().mean() < 0.75  # about half the holes were grown
    assert beyond.max() <= (grow(region[:1], torch.tensor([MAX_GROW])) & ~region[:1]).sum()
