"""Accuracy: training with the paper's recipe, evaluation, scoring prediction files, and the
empirical receptive field."""
