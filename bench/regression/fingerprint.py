"""The environment facts an instruction count depends on (CPU, ISA flags, torch, Python, valgrind):
a baseline under another fingerprint is never compared silently."""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
from pathlib import Path

import torch

# Flags that change which kernels run; the rest of /proc/cpuinfo's list does not matter here.
_ISA = re.compile(r"^(avx\w*|amx\w*|fma|f16c|sse4_[12]|ssse3|bmi[12]|vnni\w*|asimd\w*|sve\w*)$")


def _cpuinfo(path: Path = Path("/proc/cpuinfo")) -> tuple[str, list[str]]:
    """CPU model name and the kernel-relevant ISA flags of the first processor listed."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine(), []
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    flags = re.search(r"^(?:flags|Features)\s*:\s*(.+)$", text, re.MULTILINE)
    isa = sorted({f for f in (flags.group(1).split() if flags else []) if _ISA.match(f)})
    return (model.group(1).strip() if model else platform.machine()), isa


def valgrind_version() -> str:
    exe = shutil.which("valgrind")
    if exe is None:
        return "missing"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown"


def fingerprint(isa_cap: dict[str, str], threads: int = 1) -> dict[str, object]:
    cpu, isa = _cpuinfo()
    return {
        "cpu": cpu,
        "isa": isa,
        "machine": platform.machine(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": threads,
        "valgrind": valgrind_version(),
        "isa_cap": dict(sorted(isa_cap.items())),
    }


def differences(baseline: dict, current: dict) -> list[str]:
    """``key: baseline -> now`` per differing fact; a list (ISA flags) is compared as a set."""
    out = []
    for key in sorted(set(baseline) | set(current)):
        b, c = baseline.get(key), current.get(key)
        if isinstance(b, list) and isinstance(c, list):
            gone, new = sorted(set(b) - set(c)), sorted(set(c) - set(b))
            if gone or new:
                out.append(f"{key}: missing {' '.join(gone) or '-'}, extra {' '.join(new) or '-'}")
        elif b != c:
            out.append(f"{key}: {b!r} -> {c!r}")
    return out
