"""Event-kernel throughput: events per second of wall time for a self-rescheduling workload.

Baseline in the same process: a bare heapq push/pop loop of the same length, so the printed ratio
(kernel / bare heap) is comparable across noisy machines.
"""
from __future__ import annotations

import heapq
import time

from archsim.engine import Engine

N_EVENTS = 1_000_000
CHAINS = 64  # concurrent event chains, like requests in flight


def kernel_rate(n: int = N_EVENTS) -> float:
    e = Engine()
    left = [n]

    def step(chain: int) -> None:
        if left[0] > 0:
            left[0] -= 1
            e.after(1 + (chain * 7) % 13, step, chain)

    for c in range(CHAINS):
        e.at(0, step, c)
    t0 = time.perf_counter()
    e.run()
    dt = time.perf_counter() - t0
    return e.events_run / dt


def bare_heap_rate(n: int = N_EVENTS) -> float:
    h: list = []
    seq = 0
    for c in range(CHAINS):
        heapq.heappush(h, (0, c, c))
    left = n
    t0 = time.perf_counter()
    done = 0
    while h:
        t, _s, c = heapq.heappop(h)
        done += 1
        if left > 0:
            left -= 1
            seq += 1
            heapq.heappush(h, (t + 1 + (c * 7) % 13, seq, c))
    return done / (time.perf_counter() - t0)


def main() -> None:
    k = kernel_rate()
    b = bare_heap_rate()
    print(f"event kernel: {k / 1e6:.2f} M events/s; bare heapq loop: {b / 1e6:.2f} M/s; "
          f"kernel/bare = {k / b:.2f}")


if __name__ == "__main__":
    main()
