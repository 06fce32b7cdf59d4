"""Accuracy: training, evaluation, scoring prediction files, the empirical receptive field."""
