"""Test helpers shipped with the package: sans-I/O protocol pairs, fakes."""
