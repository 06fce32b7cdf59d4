"""Measuring: latency, runtime by layer type, params/FLOPs, the environment, deployment runtimes.

Pure functions that return numbers or pandas DataFrames; nothing here writes a file.
"""
