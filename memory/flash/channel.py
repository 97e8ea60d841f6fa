"""A flash channel shared by commands, vectors, results and page data, with an explicit arbitration policy.

`priority`: when the bus frees, the oldest transfer of the most urgent class goes next (command >
vector > result > data); page data moves in `slice_bytes` pieces, so a vector or result waits at
most one slice (Cambricon-LLM's Slice Control). `fifo`: one queue in arrival order; a page's later
slices keep their place at the head, so slicing without priority behaves like no slicing, as the
event prototype in the reference measured. Bus time is integer picoseconds, exact per transfer.
"""
from __future__ import annotations

from collections import deque
from fractions import Fraction
from typing import Callable

from archsim.engine import PS_PER_S, Engine
from archsim.errors import ConfigError

POLICIES = ("priority", "fifo")
CLASSES = {"command": 0, "vector": 1, "result": 2, "data": 3}


def check_policy(policy: str, where: str = "arbitration.policy") -> str:
    if policy not in POLICIES:
        raise ConfigError(f"{where}: unknown channel arbitration policy {policy!r}; "
                          f"expected one of {', '.join(POLICIES)}")
    return policy


class ArbitratedChannel:
    """One serial bus at `bandwidth` bytes/s; `send` queues a transfer and calls `done()` when it ends."""

    def __init__(self, engine: Engine, bandwidth: float, policy: str = "priority", slice_bytes: int | None = None):
        self.engine, self.policy = engine, check_policy(policy)
        self.slice = slice_bytes
        ps = Fraction(PS_PER_S) / Fraction(bandwidth).limit_denominator(10**6)
        self._num, self._den = ps.numerator, ps.denominator
        self.queues: list[deque] = [deque() for _ in range(len(CLASSES) if policy == "priority" else 1)]
        self.busy = False
        self.busy_ps = 0
        self.bytes_by_class = dict.fromkeys(CLASSES, 0)

    def send(self, nbytes: int, cls: str, done: Callable[[], None]) -> None:
        job = [nbytes, cls, done]
        self.queues[CLASSES[cls] if self.policy == "priority" else 0].append(job)
        self.bytes_by_class[cls] += nbytes
        if not self.busy:
            self._next()

    def _next(self) -> None:
        for q in self.queues:
            if q:
                job = q[0]
                n = job[0] if (self.slice is None or job[1] != "data") else min(job[0], self.slice)
                ps = -((-n * self._num) // self._den)
                self.busy = True
                self.busy_ps += ps
                self.engine.after(ps, self._end, q, job, n)
                return
        self.busy = False

    def _end(self, q: deque, job: list, n: int) -> None:
        job[0] -= n
        if job[0] == 0:
            q.popleft()
            job[2]()
        self._next()
