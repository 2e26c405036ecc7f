"""Provisional word ids for blocks of tokens, from a compiled hash table (no Python object per token).

Does: given a block as bytes in which tokens are separated by b" " and lines end with b"\\n",
give every token the id of its word, words numbered in first-seen order across all blocks (a new
word gets the next id), and count the tokens of each line segment (the block split at b"\\n").
Words are kept as UTF-8 bytes in one growing pool; `words()` decodes them once, at the end.
`absorb` merges the table of a later part of the text into this one (parallel reading); `counts`
gives how often each word was encoded.
Does not: decide what a token is (corpus.py tokenises and writes the block), cut sentences or
build the vocabulary.

Why: mapping 19M token strings to ids through a Python dict took 2.5 of the 3.5 s of reading
the 100 MB corpus; here the strings are never made.
Key and hash: a word's first 8 bytes read as one little-endian integer (its key, zero-padded)
decide a match for words of up to 8 bytes by one comparison, with the length; longer words also
compare the rest of their bytes. The hash mixes the key, an FNV-1a hash of the bytes past the 8th
and the length (two multiply-xorshift rounds); open addressing with linear probing over a
power-of-two table kept at most half full. Equal keys and lengths with different tails only cost
time, never ids. (Until 2026-12-05 the hash was FNV-1a over every byte, a 4-cycle chain per byte,
and every match compared byte by byte: ~1.1x the time, bench/README.md. Most of the ~38 ns a
token is the lookup, not the hash: scanning and hashing alone take ~13 ns.)
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import _numba_setup  # noqa: F401

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)  # splitmix64's finaliser constants
_MIX_2 = np.uint64(0x94D049BB133111EB)
_KEY_BYTES = 8
_SPACE = 32
_NEWLINE = 10


@njit(cache=True, nogil=True, inline="always")
def _mixed(key, tail, size):
    """The table hash of a word from its key, the FNV-1a hash of its bytes past the key, and its size."""
    x = key ^ (tail * _MIX_2) ^ np.uint64(size)
    x = (x ^ (x >> np.uint64(30))) * _MIX_1
    x = (x ^ (x >> np.uint64(27))) * _MIX_2
    return x ^ (x >> np.uint64(31))


@njit(cache=True, nogil=True)
def _insert_slot(slots, h, w):
    mask = slots.shape[0] - 1
    s = np.int64(h & np.uint64(mask))
    while slots[s] >= 0:
        s = (s + 1) & mask
    slots[s] = w


@njit(cache=True, nogil=True)
def _rehash(slots, info, n):
    slots[:] = -1
    for w in range(n):
        _insert_slot(slots, info[w, 0], w)


@njit(cache=True, nogil=True, inline="always")
def _find_or_add(slots, info, starts, pool, n, h, key, src, i, size):
    """The id of the word src[i:i + size] (hash h, key `key`), adding it as id n if new; returns
    (id, n). info[w] = (hash, key) of word w."""
    mask = slots.shape[0] - 1
    s = np.int64(h & np.uint64(mask))
    while True:
        w = slots[s]
        if w < 0:  # a new word: the next id
            w = n
            slots[s] = w
            info[w, 0] = h
            info[w, 1] = key
            a = starts[w]
            for k in range(size):
                pool[a + k] = src[i + k]
            starts[w + 1] = a + size
            return w, n + 1
        if info[w, 1] == key and starts[w + 1] - starts[w] == size:
            same = True
            if size > _KEY_BYTES:  # the key holds the first 8 bytes: compare the rest
                a = starts[w]
                for k in range(_KEY_BYTES, size):
                    if pool[a + k] != src[i + k]:
                        same = False
                        break
            if same:
                return w, n
        s = (s + 1) & mask


@njit(cache=True, nogil=True)
def _encode(data, slots, info, starts, pool, n, ids, segs, state, counts):
    """Scan `data` from state = (position, tokens, segments, tokens in the open segment), updated
    in place, counting each token's word in `counts`; returns (words, done). Stops before a token
    that might not fit (a new word past half the slots or the id arrays, or past the pool), so the
    caller can grow the table and call again: capacity grows with the words, not with the block
    (WordTable.encode)."""
    length = data.shape[0]
    i, nt, ns, in_seg = state[0], state[1], state[2], state[3]
    cap_words = min(info.shape[0], slots.shape[0] // 2)
    done = True
    while i < length:
        b = data[i]
        if b == _NEWLINE:
            segs[ns] = in_seg
            ns += 1
            in_seg = 0
            i += 1
            continue
        if b == _SPACE:
            i += 1
            continue
        # the key builds while the token's end is found (a 1-cycle chain per byte, no multiply)
        j = i
        key = np.uint64(0)
        shift = np.uint64(0)
        while j < length and shift < np.uint64(8 * _KEY_BYTES):
            c = data[j]
            if c == _SPACE or c == _NEWLINE:
                break
            key |= np.uint64(c) << shift
            shift += np.uint64(8)
            j += 1
        tail = _FNV_OFFSET
        if shift == np.uint64(8 * _KEY_BYTES):  # a long word: the rest goes into the tail hash
            while j < length and data[j] != _SPACE and data[j] != _NEWLINE:
                tail = (tail ^ np.uint64(data[j])) * _FNV_PRIME
                j += 1
        if n >= cap_words or starts[n] + (j - i) > pool.shape[0]:
            done = False
            break
        w, n = _find_or_add(slots, info, starts, pool, n, _mixed(key, tail, j - i), key, data, i, j - i)
        counts[w] += 1
        ids[nt] = w
        nt += 1
        in_seg += 1
        i = j
    if done:
        segs[ns] = in_seg  # the last segment has no newline after it (possibly empty)
        ns += 1
    state[0], state[1], state[2], state[3] = i, nt, ns, in_seg
    return n, done


@njit(cache=True, nogil=True)
def _absorb(slots, info, starts, pool, n, o_info, o_starts, o_pool, o_n, remap):
    """Every word of another table, in its id order, found or added here; remap[its id] = our id."""
    for v in range(o_n):
        a = o_starts[v]
        remap[v], n = _find_or_add(slots, info, starts, pool, n, o_info[v, 0], o_info[v, 1], o_pool, a,
                                   o_starts[v + 1] - a)
    return n


class WordTable:
    """Words seen so far, in first-seen order, and the hash table that finds them."""

    def __init__(self) -> None:
        self.n = 0
        self._slots = np.full(1 << 16, -1, np.int32)
        self._info = np.zeros((1 << 15, 2), np.uint64)  # per word: (hash, key)
        self._starts = np.zeros((1 << 15) + 1, np.int64)
        self._pool = np.zeros(1 << 18, np.uint8)
        self._counts = np.zeros(1 << 15, np.int64)
        self._ids = np.zeros(0, np.int32)  # encode's scratch, reused from block to block

    def __len__(self) -> int:
        return self.n

    def _reserve(self, new_words: int, new_bytes: int) -> None:
        """Room for `new_words` more words of `new_bytes` bytes in all, the slots at most half
        full; each array at least doubles when it grows."""
        most = self.n + new_words
        if self._info.shape[0] < most:
            cap = max(most, 2 * self._info.shape[0])
            info = np.zeros((cap, 2), np.uint64)
            info[: self.n] = self._info[: self.n]
            self._info = info
            self._starts = np.resize(self._starts, cap + 1)
            counts = np.zeros(cap, np.int64)
            counts[: self.n] = self._counts[: self.n]
            self._counts = counts
        need_pool = int(self._starts[self.n]) + new_bytes
        if self._pool.shape[0] < need_pool:
            self._pool = np.resize(self._pool, max(need_pool, 2 * self._pool.shape[0]))
        if self._slots.shape[0] < 2 * most:
            size = self._slots.shape[0]
            while size < 2 * most:
                size *= 2
            self._slots = np.full(size, -1, np.int32)
            _rehash(self._slots, self._info, self.n)

    def encode(self, block: bytes) -> tuple[np.ndarray, np.ndarray]:
        """(ids (T,) int32 of the block's tokens, tokens per line segment (block.count(b"\\n") + 1,) int64)."""
        data = np.frombuffer(block, dtype=np.uint8)
        if self._ids.shape[0] < data.shape[0] // 2 + 1:  # the most tokens a block can hold
            self._ids = np.empty(data.shape[0] // 2 + 1, np.int32)
        ids = self._ids
        segs = np.empty(block.count(b"\n") + 1, np.int64)
        state = np.zeros(4, np.int64)
        while True:
            self.n, done = _encode(data, self._slots, self._info, self._starts, self._pool, self.n, ids, segs, state,
                                   self._counts)
            if done:
                break
            # subtle: grown by what the words need (doubling), not by the most a block could hold
            # (half its bytes in new words: 25 MB of table per reader thread for 1 MB blocks)
            self._reserve(1, data.shape[0] - int(state[0]))  # the rest of the block holds any token
        return ids[: state[1]].copy(), segs[: state[2]]

    def absorb(self, other: WordTable) -> np.ndarray:
        """Add `other`'s words not yet here, in `other`'s id order; returns (len(other),) int32,
        other's id -> id here. A table that read text A and absorbed the table of the text B
        that follows it numbers words exactly as one table that read A then B."""
        used = int(other._starts[other.n])
        self._reserve(other.n, used)
        remap = np.empty(other.n, np.int32)
        self.n = _absorb(self._slots, self._info, self._starts, self._pool, self.n, other._info, other._starts,
                         other._pool, other.n, remap)
        return remap

    def counts(self) -> np.ndarray:
        """(len(self),) int64: how many tokens of each word `encode` has seen (absorb adds none)."""
        return self._counts[: self.n].copy()

    def words(self) -> list[str]:
        """Every word so far, by id (UTF-8 decoded)."""
        starts = self._starts[: self.n + 1].tolist()
        pool = self._pool[: starts[-1]].tobytes()
        return [pool[a:b].decode("utf-8") for a, b in zip(starts[:-1], starts[1:], strict=True)]
