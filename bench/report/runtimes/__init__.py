"""Reporting of the deployment runtimes: the table, its headline view, plots, the CPU real-time
comparison with the paper, and the writers ``bench.tables`` publishes."""
