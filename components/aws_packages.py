"""pulumi_aws service packages that load only the modules a program uses.

pulumi_aws already loads a service package (`pulumi_aws.sagemaker`) on first use, but that package's
`__init__` then imports every module of the service: sagemaker's ~70 resources, of which a plan uses
a handful. `load_on_use()` makes each not-yet-loaded service package find a name in the one module
that defines it instead, which takes about 0.2 s off a whole `mlops plan`.

pulumi's generator writes resource `FooBar` and its `FooBarArgs` to module `foo_bar`, function
`get_foo` (with `get_foo_output` and `GetFooResult`) to module `get_foo`, and the service's input
types and enums to `_inputs` and `_enums`; `outputs` stays a submodule. A name is taken from such a
module only if the package's `__init__` star-imports it and the module exports the name (`__all__`),
as the `__init__` would take it. Any other name, and anything that wants the whole package (`dir()`,
`__all__`, deleting a name), loads the package as pulumi_aws would, so a name is never missing or
different, only found sooner (checked over every public name of all 239 services).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
import sys
import types
from pathlib import Path
from typing import Any

_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_TYPE_MODULES = ("_inputs", "_enums")
_FUNCTION_RESULT = re.compile(r"(?:Awaitable)?(Get[A-Z]\w*)Result")
_STAR_IMPORT = re.compile(r"^from \.(\w+) import \*$", re.MULTILINE)
_MISSING = object()


class ServicePackage(types.ModuleType):
    """A pulumi_aws service package that has not run its `__init__`: a name is looked up in the
    module that defines it; anything else loads the package in full."""

    def __getattr__(self, name: str) -> Any:
        if name.isidentifier() and not name.startswith("__") and star_imported(self.__name__) is not None:
            found = defined_in_own_module(self.__name__, name)
            if found is not _MISSING:
                setattr(self, name, found)
                return found
        return getattr(_load_in_full(self), name)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        # Python sets each submodule it loads on its package. The package's `__init__` then imports the
        # submodule's names, so that a function named as its module (`kms.get_key`) hides the module:
        # done here too, whoever imported the submodule.
        submodule = isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}"
        if submodule and name in (star_imported(self.__name__) or ()):
            for exported in _exports(value):
                # A name set on the package already (a caller's stand-in) stays, as it would have.
                if exported == name or exported not in vars(self):
                    super().__setattr__(exported, getattr(value, exported))

    def __delattr__(self, name: str) -> None:
        # Deleting a name not looked up yet must find it first, and it must not come back: as pulumi's own
        # lazy module does, the package loads in full (only tests delete names).
        delattr(_load_in_full(self), name)

    def __dir__(self) -> list[str]:
        return dir(_load_in_full(self))

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Pickled by name, as pickle and dill (Pulumi's dynamic providers) take a plain module.
        return importlib.import_module, (self.__name__,)


def load_on_use() -> None:
    """Turn every pulumi_aws service package not loaded yet into a ServicePackage. One already loaded
    stays as it is; with a pulumi whose lazy modules this does not know, nothing changes."""
    import pulumi._utils
    import pulumi_aws  # noqa: F401 - registers the service packages as lazy modules

    lazy_module = getattr(pulumi._utils, "_LazyModule", None)
    if lazy_module is None:
        return
    for name, module in list(sys.modules.items()):
        if name.startswith("pulumi_aws.") and type(module) is lazy_module:
            module.__class__ = ServicePackage


def modules_of(name: str) -> list[str]:
    """The modules pulumi's generator writes `name` to: `BucketV2Args` -> `bucket_v2`; a function's
    `get_key_output` and its `GetKeyResult` / `AwaitableGetKeyResult` -> `get_key`; then the type modules."""
    result = _FUNCTION_RESULT.fullmatch(name)
    if result:
        own = _snake(result.group(1))
    elif name.endswith("_output"):
        own = name.removesuffix("_output")
    else:
        own = _snake(name.removesuffix("Args") if name != "Args" else name)
    return [own, *_TYPE_MODULES]


def _snake(name: str) -> str:
    return _WORD_START.sub("_", name).lower()


@functools.cache
def star_imported(package: str) -> frozenset[str] | None:
    """The submodules whose names the package's own `__init__` imports (`from .bucket_v2 import *`);
    None when its source cannot be read (an install of bytecode only): the package then loads in full."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    try:
        return frozenset(_STAR_IMPORT.findall(Path(spec.origin).read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError):
        return None


def _exports(module: types.ModuleType) -> list[str]:
    """What `from module import *` takes."""
    names = getattr(module, "__all__", None)
    return list(names) if names is not None else [n for n in vars(module) if not n.startswith("_")]


def defined_in_own_module(package: str, name: str) -> Any:
    """`name` as the package's `__init__` would give it, when it comes from the module pulumi's generator
    puts such a name in (or a submodule of that name, as `outputs`); else _MISSING."""
    star = star_imported(package) or frozenset()
    for module_name in modules_of(name):
        if module_name in star:
            module = importlib.import_module(f"{package}.{module_name}")
            if name in _exports(module):
                return getattr(module, name)
    if importlib.util.find_spec(f"{package}.{name}") is not None:
        return importlib.import_module(f"{package}.{name}")  # `outputs`, or a resource's own module
    return _MISSING


def _load_in_full(package: types.ModuleType) -> types.ModuleType:
    """Run the package's own `__init__` (its submodules already imported are reused, so every object
    stays the one handed out before). What was set on the package before stays as it was, as on a
    package loaded at once: a name handed out, or one a caller replaced (as `mock.patch` does)."""
    if type(package) is ServicePackage:
        kept = {name: value for name, value in vars(package).items() if not name.startswith("__")}
        package.__class__ = types.ModuleType  # type: ignore[assignment]  # a plain module from here on
        spec = package.__spec__
        if spec is None or spec.loader is None:
            raise ImportError(f"{package.__name__} has no loader")
        spec.loader.exec_module(package)
        vars(package).update(kept)
    return package
