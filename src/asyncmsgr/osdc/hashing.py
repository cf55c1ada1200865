"""Object-name hashing on the Objecter's hot path (sans-I/O).

Every op hashes its object's name (``ceph_str_hash``: Jenkins' lookup2 for pools with
the default ``rjenkins`` hash) to find its PG; in pure Python that costs several
microseconds per name. :func:`object_hash` is ``pg_pool_t::hash_key`` behind a
bounded LRU cache, so an object used again (read after written, rewritten, watched)
is not hashed again.
"""

from __future__ import annotations

import functools

from asyncmsgr.crush.hash import ceph_str_hash

#: Names remembered (about 200 bytes each).
CACHE_SIZE = 1 << 16


@functools.lru_cache(maxsize=CACHE_SIZE)
def object_hash(hash_type: int, key: str, nspace: str) -> int:
    """``pg_pool_t::hash_key``: the 32-bit placement hash of ``key`` in ``nspace``
    for a pool whose ``object_hash`` is ``hash_type``."""
    data = key.encode("utf-8", "surrogateescape")
    if nspace:
        data = nspace.encode("utf-8", "surrogateescape") + b"\x1f" + data
    return ceph_str_hash(hash_type, data)


__all__ = ["CACHE_SIZE", "object_hash"]
