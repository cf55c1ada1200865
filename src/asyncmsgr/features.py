"""Ceph feature bits (``ceph_features.h``) and msgr2 protocol feature bits.

A feature has a bit and an *incarnation*: bits retired by older releases were
reused, and ``HAVE_FEATURE(x, F)`` requires the bit **and** the incarnation
marker bits (``FEATUREMASK``). Constants keep Ceph's names:
``CEPH_FEATURE_<NAME>`` is the bit, ``CEPH_FEATUREMASK_<NAME>`` the full mask.
Use :func:`has_feature` with a mask.

Values are those of Pacific (16.2); :data:`CEPH_FEATURES_SUPPORTED_DEFAULT`
equals what a Pacific daemon advertises on the wire, ``0x3f01cfbdfffdffff``.
"""

from __future__ import annotations

INCARNATION_1 = 0
INCARNATION_2 = 1 << 57  # SERVER_JEWEL
INCARNATION_3 = (1 << 57) | (1 << 28)  # SERVER_MIMIC

_INCARNATIONS = {1: INCARNATION_1, 2: INCARNATION_2, 3: INCARNATION_3}

#: (bit, incarnation, name) of every feature defined (not retired) in Pacific.
FEATURE_TABLE: tuple[tuple[int, int, str], ...] = (
    (0, 1, "UID"),
    (1, 1, "NOSRCADDR"),
    (2, 3, "SERVER_NAUTILUS"),
    (3, 1, "FLOCK"),
    (4, 1, "SUBSCRIBE2"),
    (5, 1, "MONNAMES"),
    (6, 1, "RECONNECT_SEQ"),
    (7, 1, "DIRLAYOUTHASH"),
    (8, 1, "OBJECTLOCATOR"),
    (9, 1, "PGID64"),
    (10, 1, "INCSUBOSDMAP"),
    (11, 1, "PGPOOL3"),
    (12, 1, "OSDREPLYMUX"),
    (13, 1, "OSDENC"),
    (14, 2, "SERVER_KRAKEN"),
    (15, 1, "MONENC"),
    (16, 3, "SERVER_OCTOPUS"),
    (16, 3, "OSD_REPOP_MLCOD"),
    (18, 1, "CRUSH_TUNABLES"),
    (19, 2, "OSD_PGLOG_HARDLIMIT"),
    (20, 3, "SERVER_PACIFIC"),
    (21, 2, "SERVER_LUMINOUS"),
    (21, 2, "RESEND_ON_SPLIT"),
    (21, 2, "RADOS_BACKOFF"),
    (21, 2, "OSDMAP_PG_UPMAP"),
    (21, 2, "CRUSH_CHOOSE_ARGS"),
    (22, 2, "OSD_FIXED_COLLECTION_LIST"),
    (23, 1, "MSG_AUTH"),
    (24, 2, "RECOVERY_RESERVATION_2"),
    (25, 1, "CRUSH_TUNABLES2"),
    (26, 1, "CREATEPOOLID"),
    (27, 1, "REPLY_CREATE_INODE"),
    (28, 2, "SERVER_MIMIC"),
    (29, 1, "MDSENC"),
    (30, 1, "OSDHASHPSPOOL"),
    (31, 1, "MON_SINGLE_PAXOS"),
    (32, 3, "STRETCH_MODE"),
    (34, 3, "RANGE_BLOCKLIST"),
    (35, 1, "OSD_CACHEPOOL"),
    (36, 1, "CRUSH_V2"),
    (37, 1, "EXPORT_PEER"),
    (39, 1, "OSDMAP_ENC"),
    (40, 1, "MDS_INLINE_DATA"),
    (41, 1, "CRUSH_TUNABLES3"),
    (41, 1, "OSD_PRIMARY_AFFINITY"),
    (42, 1, "MSGR_KEEPALIVE2"),
    (43, 1, "OSD_POOLRESEND"),
    (46, 1, "OSD_FADVISE_FLAGS"),
    (47, 1, "MDS_QUOTA"),
    (48, 1, "CRUSH_V4"),
    (56, 1, "NEW_OSDOP_ENCODING"),
    (57, 1, "MON_STATEFUL_SUB"),
    (57, 1, "MON_ROUTE_OSDMAP"),
    (57, 1, "SERVER_JEWEL"),
    (58, 1, "CRUSH_TUNABLES5"),
    (58, 1, "NEW_OSDOPREPLY_ENCODING"),
    (58, 1, "FS_FILE_LAYOUT_V2"),
    (59, 1, "FS_BTIME"),
    (59, 1, "FS_CHANGE_ATTR"),
    (59, 1, "MSG_ADDR2"),
    (60, 1, "OSD_RECOVERY_DELETES"),
    (61, 1, "CEPHX_V2"),
)

CEPH_FEATURE_UID = 1 << 0
CEPH_FEATURE_NOSRCADDR = 1 << 1
CEPH_FEATURE_SERVER_NAUTILUS = 1 << 2
CEPH_FEATURE_RECONNECT_SEQ = 1 << 6
CEPH_FEATURE_SERVER_OCTOPUS = 1 << 16
CEPH_FEATURE_SERVER_PACIFIC = 1 << 20
CEPH_FEATURE_SERVER_LUMINOUS = 1 << 21
CEPH_FEATURE_MSG_AUTH = 1 << 23
CEPH_FEATURE_SERVER_MIMIC = 1 << 28
CEPH_FEATURE_MSGR_KEEPALIVE2 = 1 << 42
CEPH_FEATURE_SERVER_JEWEL = 1 << 57
CEPH_FEATURE_MON_STATEFUL_SUB = 1 << 57
CEPH_FEATURE_MSG_ADDR2 = 1 << 59
CEPH_FEATURE_CEPHX_V2 = 1 << 61
CEPH_FEATURE_RESERVED = 1 << 62
CEPH_FEATURE_RESERVED_BROKEN = 1 << 63

CEPH_FEATUREMASK_UID = CEPH_FEATURE_UID
CEPH_FEATUREMASK_NOSRCADDR = CEPH_FEATURE_NOSRCADDR
CEPH_FEATUREMASK_SERVER_NAUTILUS = CEPH_FEATURE_SERVER_NAUTILUS | INCARNATION_3
CEPH_FEATUREMASK_RECONNECT_SEQ = CEPH_FEATURE_RECONNECT_SEQ
CEPH_FEATUREMASK_SERVER_OCTOPUS = CEPH_FEATURE_SERVER_OCTOPUS | INCARNATION_3
CEPH_FEATUREMASK_SERVER_PACIFIC = CEPH_FEATURE_SERVER_PACIFIC | INCARNATION_3
CEPH_FEATUREMASK_SERVER_LUMINOUS = CEPH_FEATURE_SERVER_LUMINOUS | INCARNATION_2
CEPH_FEATUREMASK_MSG_AUTH = CEPH_FEATURE_MSG_AUTH
CEPH_FEATUREMASK_SERVER_MIMIC = CEPH_FEATURE_SERVER_MIMIC | INCARNATION_2
CEPH_FEATUREMASK_MSGR_KEEPALIVE2 = CEPH_FEATURE_MSGR_KEEPALIVE2
CEPH_FEATUREMASK_SERVER_JEWEL = CEPH_FEATURE_SERVER_JEWEL
CEPH_FEATUREMASK_MSG_ADDR2 = CEPH_FEATURE_MSG_ADDR2
CEPH_FEATUREMASK_CEPHX_V2 = CEPH_FEATURE_CEPHX_V2


def _all_features() -> int:
    mask = 0
    for bit, _inc, _name in FEATURE_TABLE:
        mask |= 1 << bit
    return mask


#: ``CEPH_FEATURES_ALL``: every feature Pacific defines (``0x3f01cfbdfffdffff``).
CEPH_FEATURES_ALL = _all_features()
#: What a messenger advertises by default (``features_supported`` of a Policy).
CEPH_FEATURES_SUPPORTED_DEFAULT = CEPH_FEATURES_ALL
#: The features msgr2 frames are encoded with (``msgr2_frame_assumed``).
MSGR2_FRAME_ASSUMED = CEPH_FEATUREMASK_MSG_ADDR2 | CEPH_FEATUREMASK_SERVER_NAUTILUS
#: msgr2 requires every peer to understand the new address encoding.
MSGR2_REQUIRED = CEPH_FEATUREMASK_MSG_ADDR2

# msgr2 protocol features (banner), a separate namespace; incarnation is always 0.
CEPH_MSGR2_FEATURE_REVISION_1 = 1 << 0
CEPH_MSGR2_FEATURE_COMPRESSION = 1 << 1  # Quincy and later; Pacific never sends it
#: What we put in our banner: msgr2.1, no compression (as Pacific does).
CEPH_MSGR2_SUPPORTED_FEATURES = CEPH_MSGR2_FEATURE_REVISION_1
CEPH_MSGR2_REQUIRED_FEATURES = 0


def feature_mask(name: str) -> int:
    """The FEATUREMASK of a feature by Ceph name (``"MSG_ADDR2"``); KeyError if unknown."""
    for bit, inc, fname in FEATURE_TABLE:
        if fname == name:
            return (1 << bit) | _INCARNATIONS[inc]
    raise KeyError(name)


def has_feature(features: int, mask: int) -> bool:
    """``HAVE_FEATURE``: every bit of the mask (bit and incarnation) is present."""
    return features & mask == mask


def feature_names(features: int) -> list[str]:
    """Names of the features present (their full masks set), for logs and tools."""
    return [name for bit, inc, name in FEATURE_TABLE
            if has_feature(features, (1 << bit) | _INCARNATIONS[inc])]
