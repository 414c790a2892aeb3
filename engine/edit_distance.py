"""How much an agent changed a drafted reply before sending it: normalised Levenshtein distance.

No Levenshtein library is installed, and a textbook dynamic programme over two 2,000-character replies is
four million Python steps (seconds). Hyyrö's bit-parallel form of Myers' algorithm keeps one column of the
table as bits of a Python integer, so each character of the longer text costs a dozen big-integer operations:
milliseconds for a reply, well under a second at the API's text limit. The common prefix and suffix (what an
agent left alone) are cut off first.
"""

from __future__ import annotations


def levenshtein(a: str, b: str) -> int:
    """The fewest single-character insertions, deletions and substitutions that turn ``a`` into ``b``."""
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if len(a) < len(b):
        a, b = b, a
    m = len(b)
    if m == 0:
        return len(a)
    positions: dict[str, int] = {}
    for i, char in enumerate(b):
        positions[char] = positions.get(char, 0) | (1 << i)
    full = (1 << m) - 1
    last = 1 << (m - 1)
    plus, minus, score = full, 0, m  # vertical deltas of the current column: all +1 against the empty prefix
    for char in a:
        eq = positions.get(char, 0)
        xv = eq | minus
        xh = (((eq & plus) + plus) ^ plus) | eq
        hp = minus | ~(xh | plus)
        hm = plus & xh
        if hp & last:
            score += 1
        elif hm & last:
            score -= 1
        hp = (hp << 1) | 1
        hm = hm << 1
        plus = (hm | ~(xv | hp)) & full
        minus = hp & xv & full
    return score


def normalised_distance(draft: str, sent: str) -> float:
    """``levenshtein`` over the longer text's length: 0.0 sent as drafted, 1.0 nothing of it kept."""
    longest = max(len(draft), len(sent))
    return round(levenshtein(draft, sent) / longest, 4) if longest else 0.0
