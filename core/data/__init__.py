"""Readers for public surface-defect datasets, all yielding the same DatasetSample records."""
