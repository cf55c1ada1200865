"""Optional C extensions: Cython compiles the modules listed in
``src/asyncmsgr/_extensions.py`` (the same Python sources; they stay the
reference and the fallback). No compiler, no Cython, a failed build or
``ASYNCMSGR_NO_EXTENSIONS=1`` give a pure-Python install with a warning, never
a failed one. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def _warn(text: str) -> None:
    print(f"WARNING: asyncmsgr: {text}; the pure-Python modules will be used",
          file=sys.stderr)


def _modules() -> tuple[str, ...]:
    """``MODULES`` of _extensions.py, read without importing the package."""
    namespace: dict[str, Any] = {"__name__": "asyncmsgr_extensions_list"}
    source = (ROOT / "src" / "asyncmsgr" / "_extensions.py").read_text()
    exec(compile(source, "_extensions.py", "exec"), namespace)
    modules: tuple[str, ...] = namespace["MODULES"]
    return modules


def _extensions() -> list[Extension]:
    if os.environ.get("ASYNCMSGR_NO_EXTENSIONS", "") not in ("", "0"):
        return []
    try:
        from Cython.Build import cythonize  # noqa: PLC0415 - optional build tool
    except ImportError:
        _warn("Cython is not available, no C extensions are built")
        return []
    exts = [Extension(name, [os.path.join("src", *name.split(".")) + ".py"])
            for name in _modules()]
    try:
        built: list[Extension] = cythonize(
            exts, quiet=True, nthreads=os.cpu_count() or 1, build_dir="build/cython",
            compiler_directives={"language_level": 3, "binding": True,
                                 # Python semantics: annotations are not C types
                                 "annotation_typing": False})
    except Exception as exc:  # a Cython failure must not fail the install
        _warn(f"cythonize failed ({exc})")
        return []
    return built


class OptionalBuildExt(build_ext):
    """``build_ext`` that warns instead of failing (no compiler, compile errors)."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            _warn(f"building the C extensions failed ({exc})")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn(f"building {ext.name} failed ({exc})")


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
