"""Callgrind control from inside the measured process, and reading its dumps.

On x86-64 a 28-byte stub issues valgrind's client request to start instrumenting after start-up
and warm-up (``--instr-atstart=no`` saves ~75 s of CPU per pass); elsewhere valgrind instruments
from the start. Collection is toggled around each call with torch's ``_valgrind_toggle``.
"""

from __future__ import annotations

import ctypes
import mmap
import platform
from collections.abc import Callable
from pathlib import Path

import torch

LATE_INSTRUMENTATION = platform.machine() in ("x86_64", "AMD64")
_START_INSTRUMENTATION = 0x43540000 + 4  # callgrind.h: VG_USERREQ_TOOL_BASE('C','T') + 4
# rax = rdi (args); rdx = 0 (default); the special preamble on rdi; xchg rbx,rbx; return rdx
_AMD64_STUB = bytes.fromhex("4889f8 31d2 48c1c703 48c1c70d 48c1c73d 48c1c733 4887db 4889d0 c3")


def client_request(code: int) -> int:
    """Valgrind's client request ``code`` (valgrind.h); 0 outside valgrind. x86-64 only."""
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(_AMD64_STUB)
    call = ctypes.CFUNCTYPE(ctypes.c_ulong, ctypes.c_void_p)(
        ctypes.addressof(ctypes.c_char.from_buffer(page))
    )
    args = (ctypes.c_ulong * 6)(code, 0, 0, 0, 0, 0)
    return int(call(ctypes.cast(args, ctypes.c_void_p)))


def start_instrumentation() -> None:
    if LATE_INSTRUMENTATION:
        client_request(_START_INSTRUMENTATION)


class CallgrindCounter:
    """Instructions of one call, read from the dump callgrind writes when collection stops."""

    def __init__(self, out_file: Path) -> None:
        self.out_file = out_file
        self.dumps = 0

    def __call__(self, fn: Callable[[], object]) -> int:
        torch._C._valgrind_toggle()
        fn()
        torch._C._valgrind_toggle_and_dump_stats()
        self.dumps += 1
        return read_total(Path(f"{self.out_file}.{self.dumps}"))


def read_total(dump: Path) -> int:
    """The ``totals:`` (or ``summary:``) line of a callgrind dump: instructions (Ir)."""
    for line in dump.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise ValueError(f"{dump}: no totals line (is this a callgrind dump?)")
