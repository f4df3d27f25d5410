"""Classic algorithms on arrays: scans, sorting, searching, dynamic programming, recursion."""

import numpy as np


def prefix_scans(x):
    n = len(x)
    csum = np.zeros(n)
    cmax = np.zeros(n)
    s = 0.0
    m = -np.inf
    for i in range(n):
        s += x[i]
        m = max(m, x[i])
        csum[i] = s
        cmax[i] = m
    return csum, cmax, np.cumsum(x)


def exclusive_scan_int(a):
    out = np.zeros(len(a), dtype=np.int64)
    running = 0
    for i, v in enumerate(a):
        out[i] = running
        running += v
    return out, running


def insertion_sort(x):
    a = x.copy()
    for i in range(1, len(a)):
        key = a[i]
        j = i - 1
        while j >= 0 and a[j] > key:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = key
    return a


def bubble_sort_count_swaps(x):
    a = x.copy()
    n = len(a)
    swaps = 0
    swapped = True
    while swapped:
        swapped = False
        for i in range(n - 1):
            if a[i] > a[i + 1]:
                a[i], a[i + 1] = a[i + 1], a[i]
                swaps += 1
                swapped = True
        n -= 1
    return a, swaps


def binary_search(sorted_x, target):
    lo = 0
    hi = len(sorted_x) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if sorted_x[mid] == target:
            return mid
        elif sorted_x[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return -(lo + 1)


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def factorial(n):
    return 1 if n <= 1 else n * factorial(n - 1)


def fast_power(x, n):
    # recursive exponentiation by squaring; n >= 0
    if n == 0:
        return 1.0
    half = fast_power(x, n // 2)
    if n % 2 == 0:
        return half * half
    return half * half * x


def recursion_driver(n, x):
    return fib(n), factorial(n), fast_power(x, n), np.array([fib(k) for k in range(n + 1)])


def edit_distance(a, b):
    n = len(a)
    m = len(b)
    D = np.zeros((n + 1, m + 1), dtype=np.int64)
    for i in range(n + 1):
        D[i, 0] = i
    for j in range(m + 1):
        D[0, j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            D[i, j] = min(D[i - 1, j] + 1, D[i, j - 1] + 1, D[i - 1, j - 1] + cost)
    return D[n, m]


def longest_increasing_subsequence(x):
    n = len(x)
    L = np.ones(n, dtype=np.int64)
    for i in range(1, n):
        for j in range(i):
            if x[j] < x[i] and L[j] + 1 > L[i]:
                L[i] = L[j] + 1
    return L.max(), L


def kadane(x):
    best = x[0]
    cur = x[0]
    start = 0
    best_start = 0
    best_end = 0
    for i in range(1, len(x)):
        if cur < 0.0:
            cur = x[i]
            start = i
        else:
            cur += x[i]
        if cur > best:
            best = cur
            best_start = start
            best_end = i
    return best, best_start, best_end


def sieve(n):
    is_p = np.ones(n + 1, dtype=bool)
    is_p[0] = False
    is_p[1] = False
    i = 2
    while i * i <= n:
        if is_p[i]:
            is_p[i * i::i] = False
        i += 1
    return np.arange(n + 1)[is_p], is_p.sum()


def merge_sorted(a, b):
    out = np.zeros(len(a) + len(b))
    i = 0
    j = 0
    k = 0
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            out[k] = a[i]
            i += 1
        else:
            out[k] = b[j]
            j += 1
        k += 1
    while i < len(a):
        out[k] = a[i]
        i += 1
        k += 1
    while j < len(b):
        out[k] = b[j]
        j += 1
        k += 1
    return out


def counting_sort(a, max_val):
    counts = np.zeros(max_val + 1, dtype=np.int64)
    for v in a:
        counts[v] += 1
    out = np.zeros(len(a), dtype=np.int64)
    pos = 0
    for value in range(max_val + 1):
        for _ in range(counts[value]):
            out[pos] = value
            pos += 1
    return out, counts


def knapsack(weights, values, capacity):
    best = np.zeros(capacity + 1)
    for item in range(len(weights)):
        w = weights[item]
        for c in range(capacity, w - 1, -1):
            cand = best[c - w] + values[item]
            if cand > best[c]:
                best[c] = cand
    return best[capacity], best


def running_max_drawdown(prices):
    peak = prices[0]
    worst = 0.0
    for p in prices:
        if p > peak:
            peak = p
        dd = (peak - p) / peak
        worst = dd if dd > worst else worst
    return worst


def collatz_lengths(n):
    lengths = []
    for start in range(1, n + 1):
        k = start
        steps = 0
        while k != 1:
            k = k // 2 if k % 2 == 0 else 3 * k + 1
            steps += 1
        lengths.append(steps)
    arr = np.array(lengths)
    return arr, np.argmax(arr) + 1


_rng = np.random.default_rng(14)
_x = _rng.normal(size=15)
_ints = _rng.integers(0, 10, size=20)
_sorted = np.sort(_rng.uniform(0.0, 10.0, size=16))

CASES = [
    (prefix_scans, (_x,)),
    (prefix_scans, (np.array([2.0]),)),
    (exclusive_scan_int, (_ints,)),
    (insertion_sort, (_x,)),
    (insertion_sort, (_ints,)),
    (insertion_sort, (np.arange(5.0),)),
    (bubble_sort_count_swaps, (_x[:10],)),
    (bubble_sort_count_swaps, (np.array([3, 2, 1]),)),
    (binary_search, (_sorted, _sorted[5])),
    (binary_search, (_sorted, -1.0)),
    (binary_search, (_sorted, 100.0)),
    (binary_search, (np.arange(0, 40, 3), 21)),
    (fib, (0,)),
    (fib, (12,)),
    (factorial, (0,)),
    (factorial, (15,)),
    (fast_power, (1.0001, 37)),
    (fast_power, (-2.0, 0)),
    (recursion_driver, (10, 1.5)),
    (edit_distance, (np.array([1, 2, 3, 4, 5]), np.array([1, 3, 4, 6, 5, 7]))),
    (edit_distance, (np.array([7]), np.array([7]))),
    (edit_distance, (_ints[:8], _ints[8:18])),
    (longest_increasing_subsequence, (_x,)),
    (longest_increasing_subsequence, (_ints,)),
    (kadane, (_x,)),
    (kadane, (np.array([-3.0, -1.0, -2.0]),)),
    (sieve, (2,)),
    (sieve, (60,)),
    (merge_sorted, (np.sort(_x[:6]), np.sort(_x[6:]))),
    (merge_sorted, (np.array([1.0, 2.0]), np.array([5.0]))),
    (counting_sort, (_ints, 9)),
    (knapsack, (np.array([2, 3, 4, 5]), np.array([3.0, 4.0, 5.0, 6.0]), 5)),
    (knapsack, (np.array([1, 3, 4]), np.array([15.0, 20.0, 30.0]), 4)),
    (running_max_drawdown, (100.0 + np.cumsum(_x),)),
    (collatz_lengths, (30,)),
]
