"""Benchmark harness: complexity counts, latency, tables (GCPM, Osokin 2019, and baselines)."""
