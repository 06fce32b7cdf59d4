"""Reporting: the tables' frames and notes, headline views, plots, the HTML page, and publishing
a run's files as one result set."""
