"""asyncmsgr: Ceph's AsyncMessenger in Python (see README.md).

``ASYNCMSGR_NO_EXTENSIONS=1`` makes the compiled modules (:mod:`asyncmsgr._extensions`)
load from their Python source.
"""

import os as _os

if _os.environ.get("ASYNCMSGR_NO_EXTENSIONS", "") not in ("", "0"):
    from asyncmsgr._extensions import source_only as _source_only

    _source_only()
