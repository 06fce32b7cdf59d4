"""Callgrind control from inside the measured process, and reading its dumps.

Valgrind's client requests (``valgrind.h``) are a no-op instruction sequence that valgrind
recognises; on x86-64 we run that sequence from a 28-byte stub in executable memory, so
instrumentation can start *after* the expensive start-up (import torch, build, warm up):
``--instr-atstart=no`` saves about 75 s of CPU per pass. Elsewhere the worker falls
back to instrumenting from the start, and only collection is toggled (torch's own
``torch._C._valgrind_toggle``, as ``torch.utils.benchmark``'s ``collect_callgrind`` does).
"""

from __future__ import annotations

import ctypes
import mmap
import platform
from collections.abc import Callable
from pathlib import Path

import torch

# valgrind.h / callgrind.h request codes
_RUNNING_ON_VALGRIND = 0x1001
_START_INSTRUMENTATION = 0x43540000 + 4  # VG_USERREQ_TOOL_BASE('C','T') + 4

# rax = rdi (args); rdx = 0 (default); the special preamble on rdi; xchg rbx,rbx; return rdx
_AMD64_STUB = bytes.fromhex("4889f8 31d2 48c1c703 48c1c70d 48c1c73d 48c1c733 4887db 4889d0 c3")


class ClientRequests:
    """Issue valgrind client requests on x86-64; ``available`` is False elsewhere."""

    available = platform.machine() in ("x86_64", "AMD64")

    def __init__(self) -> None:
        if not self.available:
            raise RuntimeError(f"client requests are not implemented on {platform.machine()}")
        self._page = mmap.mmap(
            -1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC
        )
        self._page.write(_AMD64_STUB)
        address = ctypes.addressof(ctypes.c_char.from_buffer(self._page))
        self._call = ctypes.CFUNCTYPE(ctypes.c_ulong, ctypes.c_void_p)(address)

    def request(self, code: int) -> int:
        args = (ctypes.c_ulong * 6)(code, 0, 0, 0, 0, 0)
        return int(self._call(ctypes.cast(args, ctypes.c_void_p)))

    def running_on_valgrind(self) -> bool:
        return self.request(_RUNNING_ON_VALGRIND) > 0

    def start_instrumentation(self) -> None:
        self.request(_START_INSTRUMENTATION)


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
