"""Field types: one class per type, registered by name.

Importing this package registers every built-in type in ``registry``.
"""

from cardfile.fieldtypes import (
    choice,
    files,
    keyed_text,
    links,
    numbers,
    skills,
    sub_records,
    temporal,
    text,
)
from cardfile.fieldtypes.base import (
    FieldType,
    InvalidValue,
    InvalidValues,
    MultiValueFieldType,
    Reference,
    SingleValueFieldType,
)
from cardfile.fieldtypes.registry import DuplicateFieldType, UnknownFieldType, registry

__all__ = [
    "DuplicateFieldType",
    "FieldType",
    "InvalidValue",
    "InvalidValues",
    "MultiValueFieldType",
    "Reference",
    "SingleValueFieldType",
    "UnknownFieldType",
    "choice",
    "files",
    "keyed_text",
    "links",
    "numbers",
    "registry",
    "skills",
    "sub_records",
    "temporal",
    "text",
]
