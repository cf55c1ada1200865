"""CRUSH as Ceph Pacific computes it: hashes, the map and its encoding, the mapper.

Sans-I/O (layer 1): imports only :mod:`asyncmsgr.wire`, :mod:`asyncmsgr.errors` and the
standard library.
"""
