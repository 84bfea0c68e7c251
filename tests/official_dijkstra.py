"""Straightforward Python ports of the Salient360! 2017 toolbox's cheapest-path search.

Reference implementations for tests and benchmarks only (slow on purpose, one pair at a
time). Both follow the toolbox: tentative distances start at 1000 (the cell (0, 0) at
S[0, 0]); the unsettled cell with the smallest distance is settled, the first one in
row-major order among equals; its down, right and diagonal neighbours are relaxed with a
strict comparison, so an equal candidate never replaces the stored predecessor; the search
stops when the last cell is settled and the path is traced back through the predecessors.

``scan_dijkstra`` is the literal form (a full row-major scan per settled cell, O((nm)^2));
``heap_dijkstra`` is the same algorithm with a priority queue keyed by
(distance, row, column), which pops exactly the cell the scan would pick.
"""

from __future__ import annotations

import heapq

import numpy as np

SENTINEL = 1000.0


def _trace(pred: dict, n: int, m: int) -> int:
    """Number of steps from the last cell back to (0, 0) through the stored predecessors."""
    cell, steps = (n - 1, m - 1), 0
    while cell != (0, 0):
        if cell not in pred:
            raise RuntimeError("the toolbox's search would fail here (cell never reached)")
        cell = pred[cell]
        steps += 1
    return steps


def _relax(cost: np.ndarray, dist, pred: dict, r: int, c: int, push=None) -> None:
    """Relax the down, right and diagonal neighbours of a settled cell (strict comparison)."""
    n, m = cost.shape
    d = dist[r][c]
    for rr, cc in ((r + 1, c), (r, c + 1), (r + 1, c + 1)):
        if rr < n and cc < m:
            cand = d + float(cost[rr, cc])
            if dist[rr][cc] > cand:
                dist[rr][cc] = cand
                pred[(rr, cc)] = (r, c)
                if push is not None:
                    push(cand, rr, cc)


def heap_dijkstra(cost: np.ndarray) -> tuple[float, int]:
    """Toolbox cheapest path with a heap: (total cost, number of steps)."""
    cost = np.asarray(cost, dtype=np.float64)
    n, m = cost.shape
    dist = [[SENTINEL] * m for _ in range(n)]
    dist[0][0] = float(cost[0, 0])
    settled = [[False] * m for _ in range(n)]
    pred: dict = {}
    heap = [(dist[0][0], 0, 0)]

    def push(d, r, c):
        heapq.heappush(heap, (d, r, c))

    while heap:
        d, r, c = heapq.heappop(heap)
        if settled[r][c] or d != dist[r][c]:
            continue  # stale entry
        settled[r][c] = True
        if (r, c) == (n - 1, m - 1):
            break
        _relax(cost, dist, pred, r, c, push)
    return dist[n - 1][m - 1], _trace(pred, n, m)


def scan_dijkstra(cost: np.ndarray) -> tuple[float, int]:
    """Toolbox cheapest path, literally: a row-major scan for the minimum at every step."""
    cost = np.asarray(cost, dtype=np.float64)
    n, m = cost.shape
    dist = [[SENTINEL] * m for _ in range(n)]
    dist[0][0] = float(cost[0, 0])
    settled = [[False] * m for _ in range(n)]
    pred: dict = {}
    for _ in range(n * m):
        best, at = 10000.0, None
        for r in range(n):
            for c in range(m):
                if not settled[r][c] and dist[r][c] < best:
                    best, at = dist[r][c], (r, c)
        r, c = at
        settled[r][c] = True
        _relax(cost, dist, pred, r, c)
        if (r, c) == (n - 1, m - 1):
            break
    return dist[n - 1][m - 1], _trace(pred, n, m)


def pair_cost(cost: np.ndarray) -> float:
    """Toolbox pair cost from the heap port: total / steps (NaN for 0 steps)."""
    total, steps = heap_dijkstra(cost)
    return total / steps if steps else float("nan")
