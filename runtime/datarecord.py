"""`@record`: dataclass-like value classes without the `dataclasses` module, for the CLI's hot path.

`kubelite runtime run --rm` builds a dozen small value types (the run request, the container
record, the bundle request, the image, its reference, the sandbox network ...). With
`dataclasses` that costs ~8 ms of a 100 ms budget on these machines: the module imports
`inspect` (and with it ast, dis, tokenize, linecache), and every decorated class compiles its
generated `__init__`/`__repr__`/`__eq__` with exec(). A `@record` class shares one generic
`__init__` driven by its field table instead, and mypy still checks it as a dataclass (PEP 681
`dataclass_transform`).

What it supports is what those types use: positional or keyword arguments, defaults,
`field(default_factory=...)`, `__post_init__`, `frozen=True` (immutable and hashable), value
equality and repr, and module functions `fields`, `asdict`, `replace`. No ordering, slots,
kw_only, InitVar or ClassVar handling: use `dataclasses` for a type that needs those.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform, overload

    T = TypeVar("T")

_MISSING: Any = object()
FIELDS = "__record_fields__"


class FrozenInstanceError(AttributeError):
    """An assignment to a field of a frozen record."""


class Field:
    __slots__ = ("default", "default_factory", "name")

    def __init__(
        self, name: str = "", default: Any = _MISSING, default_factory: Callable[[], Any] | None = None
    ):
        self.name, self.default, self.default_factory = name, default, default_factory

    def __repr__(self) -> str:
        return f"Field(name={self.name!r})"


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None) -> Any:
    """A field's default (`default_factory` for mutable ones), as `dataclasses.field` takes them."""
    if default is not _MISSING and default_factory is not None:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default=default, default_factory=default_factory)


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    table: tuple[Field, ...] = getattr(cls, FIELDS)
    if len(args) > len(table):
        raise TypeError(f"{cls.__name__}() takes {len(table)} arguments but {len(args)} were given")
    put = object.__setattr__  # also for frozen records
    for i, f in enumerate(table):
        if i < len(args):
            if f.name in kwargs:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {f.name!r}")
            value = args[i]
        elif f.name in kwargs:
            value = kwargs.pop(f.name)
        elif f.default_factory is not None:
            value = f.default_factory()
        elif f.default is not _MISSING:
            value = f.default
        else:
            raise TypeError(f"{cls.__name__}() missing required argument: {f.name!r}")
        put(self, f.name, value)
    if kwargs:
        raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {next(iter(kwargs))!r}")
    post = getattr(self, "__post_init__", None)
    if post is not None:
        post()


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, f.name) for f in getattr(type(self), FIELDS))


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _repr(self: Any) -> str:
    inner = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in getattr(type(self), FIELDS))
    return f"{type(self).__qualname__}({inner})"


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _hash(self: Any) -> int:
    return hash(_values(self))


def _make(cls: type[T], frozen: bool) -> type[T]:
    table: list[Field] = []
    for base in reversed(cls.__mro__[1:]):
        table.extend(getattr(base, FIELDS, ()))
    # the class's own annotations, in order (strings: postponed); inspect.get_annotations would import inspect
    for name in cls.__dict__.get("__annotations__", {}):  # noqa: RUF063
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, Field):
            f = Field(name, value.default, value.default_factory)
            if value.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, value.default)
        else:
            f = Field(name, value)
        table = [t for t in table if t.name != name] + [f]
    setattr(cls, FIELDS, tuple(table))
    methods: dict[str, Any] = {"__init__": _init, "__eq__": _eq}
    if "__repr__" not in cls.__dict__:
        methods["__repr__"] = _repr
    if frozen:
        methods.update(__setattr__=_frozen_setattr, __delattr__=_frozen_delattr, __hash__=_hash)
    else:
        methods["__hash__"] = None  # mutable and compared by value, as with dataclasses
    for name, method in methods.items():
        setattr(cls, name, method)
    return cls


if TYPE_CHECKING:

    @overload
    @dataclass_transform(field_specifiers=(field,))
    def record(cls: type[T], /) -> type[T]: ...

    @overload
    @dataclass_transform(field_specifiers=(field,))
    def record(*, frozen: bool = False) -> Callable[[type[T]], type[T]]: ...

    def record(cls: type[T] | None = None, /, *, frozen: bool = False) -> Any: ...
else:

    def record(cls=None, /, *, frozen=False):
        """Make `cls` a record (see the module docstring); `@record` or `@record(frozen=True)`."""
        if cls is None:
            return lambda c: _make(c, frozen)
        return _make(cls, frozen)


def is_record(obj: object) -> bool:
    return hasattr(type(obj) if not isinstance(obj, type) else obj, FIELDS)


def fields(obj: object) -> tuple[Field, ...]:
    """The fields of a record class or instance, in declaration order."""
    found: tuple[Field, ...] | None = getattr(obj if isinstance(obj, type) else type(obj), FIELDS, None)
    if found is None:
        raise TypeError(f"{obj!r} is not a record")
    return found


_SCALARS = frozenset({str, int, float, bool})


def asdict(obj: Any) -> dict[str, Any]:
    """A record as plain dicts and lists, recursively (for JSON)."""
    if not is_record(obj) or isinstance(obj, type):
        raise TypeError(f"asdict() wants a record instance, not {obj!r}")
    return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}


def _plain(value: Any) -> Any:
    if value is None or type(value) in _SCALARS:  # most values: no further checks
        return value
    if is_record(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def replace(obj: T, **changes: Any) -> T:
    """A copy of a record with some fields changed (runs `__post_init__` again, as dataclasses does)."""
    values = {f.name: getattr(obj, f.name) for f in fields(obj)}
    values.update(changes)
    return type(obj)(**values)
