"""The CI latency regression gate (instruction counts under callgrind): docs/regression-gate.md."""
