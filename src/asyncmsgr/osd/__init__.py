"""RADOS data types, pools and the OSDMap (Ceph ``src/osd/``), sans-I/O."""
