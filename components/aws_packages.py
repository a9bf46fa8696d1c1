"""pulumi_aws service packages that load only the modules a program uses.

pulumi_aws already loads a service package (`pulumi_aws.sagemaker`) on first use, but that package's
`__init__` then imports every module of the service: sagemaker's ~70 resources, of which a plan uses
a handful. `load_on_use()` makes each not-yet-loaded service package find a name in the one module
that defines it instead, which takes about 0.2 s off a whole `mlops plan`.

pulumi's generator writes resource `FooBar` and its `FooBarArgs` to module `foo_bar`, function
`get_foo` (with `get_foo_output` and `GetFooResult`) to module `get_foo`, and the service's input
and output types to `_inputs`, `_enums` and `outputs`. A name found elsewhere, and anything that
wants the whole package (`dir()`, `__all__`), loads the package as pulumi_aws would, so a name is
never missing or different, only found sooner.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import types
from typing import Any

_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_TYPE_MODULES = ("_inputs", "_enums", "outputs")
_FUNCTION_RESULT = re.compile(r"(?:Awaitable)?(Get[A-Z]\w*)Result")
_MISSING = object()


class ServicePackage(types.ModuleType):
    """A pulumi_aws service package that has not run its `__init__`: a name is looked up in the
    module that defines it; anything else loads the package in full."""

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("__"):
            found = defined_in_own_module(self.__name__, name)
            if found is not _MISSING:
                setattr(self, name, found)
                return found
        return getattr(_load_in_full(self), name)

    def __dir__(self) -> list[str]:
        return dir(_load_in_full(self))


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


def defined_in_own_module(package: str, name: str) -> Any:
    """`name` as the module of `package` that defines it holds it (a submodule of that name is itself),
    or _MISSING when it is not where pulumi's generator puts such a name."""
    for module_name in modules_of(name):
        if importlib.util.find_spec(f"{package}.{module_name}") is None:
            continue
        module = importlib.import_module(f"{package}.{module_name}")
        if name in vars(module):
            return vars(module)[name]
        if module_name == name:
            return module
    return _MISSING


def _load_in_full(package: types.ModuleType) -> types.ModuleType:
    """Run the package's own `__init__` (its submodules already imported are reused, so every object
    stays the one handed out before)."""
    if type(package) is ServicePackage:
        package.__class__ = types.ModuleType  # type: ignore[assignment]  # a plain module from here on
        spec = package.__spec__
        if spec is None or spec.loader is None:
            raise ImportError(f"{package.__name__} has no loader")
        spec.loader.exec_module(package)
    return package
