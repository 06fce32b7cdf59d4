"""Reporting: the paper's tables, notes, views, figures, the HTML page, writers, publishing."""
