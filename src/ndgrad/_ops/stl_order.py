"""torch's CPU order among equal values where NumPy's stable sort picks otherwise: kthvalue's
quickselect and topk's libstdc++ std::partial_sort / std::nth_element + std::sort, emulated on
the lines (rows along the reduced dim) where ties make them differ. Plain Python on lists: it
runs only on such lines (and on every line of an unsorted topk)."""

from __future__ import annotations

import numpy as np


def stl_topk(a, full, idx, d, k, largest, unsorted):
    """torch's CPU topk: std::partial_sort for k * 64 <= n, else std::nth_element at k - 1 then
    (sorted) std::sort of the first k - 1, with NaN as the largest. Their order among equal
    values, and nth_element's unsorted order, are libstdc++'s: rerun here on the lines where they
    matter (all lines when unsorted)."""
    n = a.shape[d]
    partial = k * 64 <= n
    unsorted = unsorted and not partial
    srt = np.moveaxis(np.take_along_axis(a, full, axis=d), d, -1)[..., :k + 1]
    if unsorted:
        lines = np.ones(srt.shape[:-1], bool)
    else:  # equal neighbours among the first k + 1 sorted values
        same = srt[..., 1:] == srt[..., :-1]
        if srt.dtype.kind in "fc":
            same |= np.isnan(srt[..., 1:]) & np.isnan(srt[..., :-1])
        lines = same.any(-1)
        if not lines.any():
            return idx
    comp = _gt_or_nan if largest else _lt_or_nan
    rows = np.moveaxis(a, d, -1)
    out = np.moveaxis(idx, d, -1).copy()
    for at in zip(*np.nonzero(lines)) if lines.ndim else [()]:
        at = tuple(int(i) for i in at)
        out[at] = topk_line(rows[at].tolist(), k, comp, unsorted)
    return np.moveaxis(out, -1, d)


def topk_line(v: list, k: int, comp, unsorted: bool = False) -> list:
    """The indices torch's CPU topk gives one line ``v`` (``comp``: "comes first"): libstdc++'s
    std::partial_sort for k * 64 <= n, else std::nth_element at k - 1 then (sorted) std::sort of
    the first k - 1 (multinomial without replacement draws through it too)."""
    n = len(v)
    s = _StlSort(v, list(range(n)), comp)
    if k * 64 <= n:
        s.heap_select(0, k, n)
        s.sort_heap(0, k)
    else:
        s.nth_element(0, k - 1, n)
        if not unsorted:
            s.sort(0, k - 1)
    return s.ind[:k]


class _StlSort:
    """libstdc++'s std::nth_element and std::sort (introselect / introsort, median-of-three
    pivot, insertion sort below 16 elements) on ``v``, moving ``ind`` along."""

    def __init__(self, v, ind, comp):
        self.v, self.ind, self.comp = v, ind, comp

    def swap(self, i, j):
        v, ind = self.v, self.ind
        v[i], v[j] = v[j], v[i]
        ind[i], ind[j] = ind[j], ind[i]

    def nth_element(self, first, nth, last):
        depth = 2 * ((last - first).bit_length() - 1)
        while last - first > 3:
            if depth == 0:  # (the recursion depth spent: a heap)
                self.heap_select(first, nth + 1, last)
                self.swap(first, nth)
                return
            depth -= 1
            cut = self.partition_pivot(first, last)
            if cut <= nth:
                first = cut
            else:
                last = cut
        self.insertion_sort(first, last)

    def sort(self, first, last):
        if last - first < 2:
            return
        self.introsort(first, last, 2 * ((last - first).bit_length() - 1))
        if last - first > 16:
            self.insertion_sort(first, first + 16)
            for i in range(first + 16, last):
                self.linear_insert(i)
        else:
            self.insertion_sort(first, last)

    def introsort(self, first, last, depth):
        while last - first > 16:
            if depth == 0:  # (the recursion depth spent: heapsort)
                self.heap_select(first, last, last)
                self.sort_heap(first, last)
                return
            depth -= 1
            cut = self.partition_pivot(first, last)
            self.introsort(cut, last, depth)
            last = cut

    def partition_pivot(self, first, last):
        mid = first + (last - first) // 2
        self.median_to_first(first, first + 1, mid, last - 1)
        v, comp = self.v, self.comp
        lo, hi = first + 1, last
        while True:
            while comp(v[lo], v[first]):
                lo += 1
            hi -= 1
            while comp(v[first], v[hi]):
                hi -= 1
            if not lo < hi:
                return lo
            self.swap(lo, hi)
            lo += 1

    def heap_select(self, first, middle, last):
        """std::__heap_select: a heap of [first, middle), each later element that comes before
        its top swapped in."""
        n, v = middle - first, self.v
        for parent in range((n - 2) // 2, -1, -1):
            self.adjust(first, parent, n, (v[first + parent], self.ind[first + parent]))
        for i in range(middle, last):
            if self.comp(v[i], v[first]):
                self.pop(first, middle, i)

    def sort_heap(self, first, last):
        while last - first > 1:
            last -= 1
            self.pop(first, last, last)

    def pop(self, first, last, result):
        """std::__pop_heap: the top to ``result``, the value there sifted into the heap."""
        v, ind = self.v, self.ind
        value = (v[result], ind[result])
        v[result], ind[result] = v[first], ind[first]
        self.adjust(first, 0, last - first, value)

    def adjust(self, first, hole, n, value):
        """std::__adjust_heap of the heap of n at ``first``: ``value`` placed from ``hole``."""
        v, ind, comp = self.v, self.ind, self.comp
        top = child = hole
        while child < (n - 1) // 2:
            child = 2 * (child + 1)
            if comp(v[first + child], v[first + child - 1]):
                child -= 1
            v[first + hole], ind[first + hole] = v[first + child], ind[first + child]
            hole = child
        if n % 2 == 0 and child == (n - 2) // 2:
            child = 2 * (child + 1)
            v[first + hole], ind[first + hole] = v[first + child - 1], ind[first + child - 1]
            hole = child - 1
        parent = (hole - 1) // 2
        while hole > top and comp(v[first + parent], value[0]):
            v[first + hole], ind[first + hole] = v[first + parent], ind[first + parent]
            hole, parent = parent, (parent - 1) // 2
        v[first + hole], ind[first + hole] = value

    def median_to_first(self, result, a, b, c):
        v, comp = self.v, self.comp
        if comp(v[a], v[b]):
            m = b if comp(v[b], v[c]) else c if comp(v[a], v[c]) else a
        else:
            m = a if comp(v[a], v[c]) else c if comp(v[b], v[c]) else b
        self.swap(result, m)

    def insertion_sort(self, first, last):
        v, ind = self.v, self.ind
        for i in range(first + 1, last):
            if self.comp(v[i], v[first]):
                v[first:i + 1] = [v[i]] + v[first:i]
                ind[first:i + 1] = [ind[i]] + ind[first:i]
            else:
                self.linear_insert(i)

    def linear_insert(self, i):
        v, ind = self.v, self.ind
        val, vi = v[i], ind[i]
        j = i - 1
        while j >= 0 and self.comp(val, v[j]):  # (libstdc++ relies on a smaller element first)
            v[j + 1], ind[j + 1] = v[j], ind[j]
            j -= 1
        v[j + 1], ind[j + 1] = val, vi


def _lt_or_nan(x, y) -> bool:
    return (x == x and y != y) or x < y


def _gt_or_nan(x, y) -> bool:
    return (x != x and y == y) or x > y


def _torch_quickselect(v: list, k: int) -> int:
    """The index torch's CPU kthvalue returns: its quick_select_template (median-of-three pivot)
    run on ``v``, which picks among equal values in its own order."""
    ind = list(range(len(v)))

    def swap(i, j):
        v[i], v[j] = v[j], v[i]
        ind[i], ind[j] = ind[j], ind[i]

    lo, hi = 0, len(v) - 1
    while hi > lo:
        if hi == lo + 1:
            if _gt_or_nan(v[lo], v[hi]):
                swap(lo, hi)
            break
        swap(lo + (hi - lo) // 2, lo + 1)
        if _gt_or_nan(v[lo + 1], v[hi]):
            swap(lo + 1, hi)
        if _gt_or_nan(v[lo], v[hi]):
            swap(lo, hi)
        if _gt_or_nan(v[lo + 1], v[lo]):
            swap(lo + 1, lo)
        i, j, piv = lo + 1, hi, v[lo]
        while True:
            i += 1
            while _gt_or_nan(piv, v[i]):
                i += 1
            j -= 1
            while _gt_or_nan(v[j], piv):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return ind[k]


def quickselect_ties(a, srt, pos, idx, d):
    """kthvalue's indices where the k-th value is tied (a stable sort picks the first of the
    ties, torch its quickselect's): the lines with a tie rerun torch's selection."""
    n = srt.shape[d]
    k = int(pos.reshape(-1)[0]) if pos.size else 0
    s = np.moveaxis(srt, d, -1)
    kth = s[..., k]
    tied = np.zeros(kth.shape, bool)
    for j in (k - 1, k + 1):
        if 0 <= j < n:
            tied |= (s[..., j] == kth) | (np.isnan(s[..., j]) & np.isnan(kth))
    if not tied.any():
        return idx
    lines = np.moveaxis(a, d, -1)
    out = np.moveaxis(idx, d, -1).copy()
    for at in zip(*np.nonzero(tied)) if tied.ndim else [()]:
        out[tuple(at) + (0,)] = _torch_quickselect(lines[tuple(at)].tolist(), k)
    return np.moveaxis(out, -1, d)


def mode_ties(a, srt, idx, d):
    """torch's CPU mode index: the (value, index) pairs sorted by value with std::sort (not stable
    past 16 elements; NaN unordered), the last pair of the first longest run of equal values.
    Rerun on the lines with a repeated value or a NaN (elsewhere the run is one element)."""
    s = np.moveaxis(srt, d, -1)
    lines = (s[..., 1:] == s[..., :-1]).any(-1)
    if s.dtype.kind in "fc":
        lines |= np.isnan(s).any(-1)
    if not lines.any():
        return idx
    rows = np.moveaxis(a, d, -1)
    out = np.moveaxis(idx, d, -1).copy()
    n = a.shape[d]
    for at in zip(*np.nonzero(lines)) if lines.ndim else [()]:
        at = tuple(int(i) for i in at)
        v, ind = rows[at].tolist(), list(range(n))
        _StlSort(v, ind, lambda x, y: x < y).sort(0, n)
        best, run = -1, 0
        for i in range(n):
            run += 1
            if i == n - 1 or v[i] != v[i + 1]:
                if run > best:
                    best, out[at + (0,)] = run, ind[i]
                run = 0
    return np.moveaxis(out, -1, d)
