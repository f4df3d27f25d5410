"""Scalar loops: accumulators, integer arithmetic, while loops with data-dependent trip counts."""

import math


def harmonic(n):
    # int-to-float widening: s starts as an int and becomes a float in the loop (n >= 1)
    s = 0
    for k in range(1, n + 1):
        s += 1.0 / k
    return s


def leibniz_pi(n_terms):
    total = 0.0
    sign = 1.0
    for k in range(n_terms):
        total += sign / (2 * k + 1)
        sign = -sign
    return 4.0 * total


def collatz_steps(n):
    steps = 0
    peak = n
    while n != 1:
        if n % 2 == 0:
            n //= 2
        else:
            n = 3 * n + 1
        steps += 1
        if n > peak:
            peak = n
    return steps, peak


def gcd_lcm(a, b):
    x, y = a, b
    while y != 0:
        x, y = y, x % y
    return x, a // x * b


def digit_sum(n):
    s = 0
    while n > 0:
        s += n % 10
        n //= 10
    return s


def integer_arithmetic(a, b):
    # Python floor semantics for // and % with negative operands, bitwise operators on ints
    q1 = a // b
    r1 = a % b
    q2 = -a // b
    r2 = -a % b
    q3 = a // -b
    r3 = a % -b
    cube = a ** 3
    bits = (a & b, a | b, a ^ b, ~a, ~b & 0xFF)
    d = divmod(a, b)
    p = pow(b, 2)
    return q1, r1, q2, r2, q3, r3, cube, bits, d, p


def float_arithmetic(x, y):
    q = x // y
    r = x % y
    rn = -x % y
    p = x ** y
    p2 = x ** 2
    p_half = y ** 0.5
    t = abs(-x) - abs(y)
    return q, r, rn, p, p2, p_half, t, x / y, -x / y


def augmented_assignments(x, n):
    a = x
    a += 1.5
    a -= 0.25
    a *= 3.0
    a /= 2.0
    a **= 2
    b = n
    b += 7
    b -= 2
    b *= 3
    b //= 4
    b %= 5
    b **= 2
    c = a
    c //= 1.5
    c %= 1.25
    return a, b, c


def count_primes(n):
    count = 0
    for i in range(2, n):
        is_prime = True
        d = 2
        while d * d <= i:
            if i % d == 0:
                is_prime = False
                break
            d += 1
        if is_prime:
            count += 1
    return count


def sum_countdown(n, step):
    s = 0
    for i in range(n, 0, -step):
        s += i * i
    t = 0
    for j in range(n - 1, -1, -1):
        t = 2 * t + j % 3
    return s, t


def sqrt_babylonian(a, tol=1e-14):
    x = a if a > 1.0 else 1.0
    it = 0
    while abs(x * x - a) > tol * a and it < 200:
        x = 0.5 * (x + a / x)
        it += 1
    return x, it, math.sqrt(a)


def exp_series(x, n_terms=30):
    term = 1.0
    total = 1.0
    for k in range(1, n_terms):
        term *= x / k
        total += term
    return total, math.exp(x)


def triangular_grid_sum(n):
    # nested loops whose inner bounds depend on the outer variable
    s = 0
    w = 0.0
    for i in range(n):
        for j in range(i, n, 2):
            s += i * j
            w += 1.0 / (1 + i + j)
    return s, w


CASES = [
    (harmonic, (1,)),
    (harmonic, (10,)),
    (harmonic, (250,)),
    (leibniz_pi, (1,)),
    (leibniz_pi, (400,)),
    (collatz_steps, (1,)),
    (collatz_steps, (6,)),
    (collatz_steps, (27,)),
    (collatz_steps, (97,)),
    (gcd_lcm, (12, 18)),
    (gcd_lcm, (17, 5)),
    (gcd_lcm, (1071, 462)),
    (digit_sum, (0,)),
    (digit_sum, (9875321,)),
    (integer_arithmetic, (7, 3)),
    (integer_arithmetic, (-7, 3)),
    (integer_arithmetic, (100, 7)),
    (integer_arithmetic, (5, -2)),
    (float_arithmetic, (7.5, 2.0)),
    (float_arithmetic, (3.25, 0.75)),
    (float_arithmetic, (0.1, 3.0)),
    (augmented_assignments, (1.0, 4)),
    (augmented_assignments, (-2.5, 11)),
    (count_primes, (2,)),
    (count_primes, (50,)),
    (count_primes, (300,)),
    (sum_countdown, (10, 1)),
    (sum_countdown, (17, 3)),
    (sum_countdown, (1, 5)),
    (sqrt_babylonian, (2.0,)),
    (sqrt_babylonian, (0.25,)),
    (sqrt_babylonian, (12345.678,)),
    (exp_series, (1.0,)),
    (exp_series, (-2.5, 40)),
    (exp_series, (0.5, 5)),
    (triangular_grid_sum, (1,)),
    (triangular_grid_sum, (12,)),
]
