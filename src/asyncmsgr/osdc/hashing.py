"""Object-name hashing on the Objecter's hot path (sans-I/O).

Every op hashes its object's name (``ceph_str_hash``: Jenkins' lookup2 for pools with
the default ``rjenkins`` hash) to find its PG. In pure Python lookup2 costs about
15,000 instructions per 12-byte block (32-bit arithmetic on Python ints), so:

* :func:`object_hash` is ``pg_pool_t::hash_key`` behind a bounded LRU cache: an
  object used again (read after written, rewritten, watched) is not hashed again;
* a new name is hashed from the lookup2 state after its prefix, cached by prefix
  (all its whole blocks, else all but the last): names that share a prefix —
  ``rados bench``'s ``benchmark_data_<host>_<pid>_object<N>``, RBD's
  ``rbd_data.<id>.<index>``, RGW's bucket markers — mix only their tail, or
  their last block and their tail.

Both caches hold answers of a pure function, so they change no result.
"""

from __future__ import annotations

import functools

from asyncmsgr.crush.hash import (
    CEPH_STR_HASH_RJENKINS,
    ceph_str_hash,
    ceph_str_hash_rjenkins,
    rjenkins_state,
)

#: Names remembered (about 200 bytes each).
CACHE_SIZE = 1 << 16
#: lookup2 prefix states remembered (the table is emptied when full).
PREFIX_CACHE_SIZE = 1 << 12

_prefix_states: dict[bytes, tuple[int, int, int]] = {}


def _remember(key: bytes, state: tuple[int, int, int]) -> None:
    if len(_prefix_states) >= PREFIX_CACHE_SIZE:
        _prefix_states.clear()
    _prefix_states[key] = state


def str_hash_rjenkins(data: bytes) -> int:
    """``ceph_str_hash_rjenkins(data)``, resumed from a cached prefix state: the
    state after all of ``data``'s whole blocks (names of one family and length
    share it: only the tail is mixed), else the state after all but the last
    (names that differ in their last whole block), from which the former is made
    and remembered."""
    full = len(data) // 12
    if full < 2:
        return ceph_str_hash_rjenkins(data)
    cut = full * 12
    whole = data[:cut]
    state = _prefix_states.get(whole)
    if state is None:
        inner = cut - 12
        key = data[:inner]
        before = _prefix_states.get(key)
        if before is None:
            before = rjenkins_state(key, full - 1)
            _remember(key, before)
        state = rjenkins_state(whole, full, before, inner)
        _remember(whole, state)
    return ceph_str_hash_rjenkins(data, state, cut)


@functools.lru_cache(maxsize=CACHE_SIZE)
def object_hash(hash_type: int, key: str, nspace: str) -> int:
    """``pg_pool_t::hash_key``: the 32-bit placement hash of ``key`` in ``nspace``
    for a pool whose ``object_hash`` is ``hash_type``."""
    data = key.encode("utf-8", "surrogateescape")
    if nspace:
        data = nspace.encode("utf-8", "surrogateescape") + b"\x1f" + data
    if hash_type == CEPH_STR_HASH_RJENKINS:
        return str_hash_rjenkins(data)
    return ceph_str_hash(hash_type, data)


def clear_caches() -> None:
    """Forget every cached name and prefix (benchmarks measuring cold hashing)."""
    object_hash.cache_clear()
    _prefix_states.clear()


__all__ = ["CACHE_SIZE", "PREFIX_CACHE_SIZE", "clear_caches", "object_hash",
           "str_hash_rjenkins"]
