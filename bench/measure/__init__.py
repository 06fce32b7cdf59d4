"""Measuring: latency, layer profile, params/FLOPs, environment, runtimes; nothing writes a file."""
