"""Tenure from Python through ctypes: no compiler needed, only libtenure_ffi.so.

    import tenure
    lib = tenure.load()                        # $TENURE_FFI_LIB, else ./libtenure_ffi.so
    engine = tenure.Engine(lib, 'role = DBA grants type = postgres;')
    dba = tenure.Entity.from_json(lib, '{"role": "DBA"}')
    db = tenure.Entity(lib).set("type", "postgres")
    decision = engine.authorize(dba, db)
    print(decision.allowed, decision.version, decision.reasons)

Every handle is freed when its Python object is collected (or explicitly with
`close()`). Errors raise `tenure.TenureError` with the result code and the message from
`tenure_last_error`; `Engine.is_allowed` returns False on any error, as the C API does.
"""

import ctypes
import os

TENURE_OK = 0
TENURE_ERROR_POLICY = 3
TENURE_ABI_VERSION = 1

TENURE_SUBJECT_ID = 1
TENURE_SUBJECT_EXTERNAL_ID = 2
TENURE_SUBJECT_EMAIL = 3


class TenureError(Exception):
    """A failed call: `code` is the tenure_result, `message` the library's last error."""

    def __init__(self, code, message):
        super().__init__(f"tenure error {code}: {message}")
        self.code = code
        self.message = message


class _Opaque(ctypes.Structure):
    pass


_P = ctypes.POINTER(_Opaque)
_PP = ctypes.POINTER(_P)
_str = ctypes.c_char_p
_size = ctypes.c_size_t
_result = ctypes.c_uint32

_SIGNATURES = {
    "tenure_engine_new": (_result, [_str, _size, _PP]),
    "tenure_engine_reload": (_result, [_P, _str, _size]),
    "tenure_engine_version": (ctypes.c_uint64, [_P]),
    "tenure_engine_free": (None, [_P]),
    "tenure_engine_apply_journal": (_result, [_P, _str, _size, ctypes.POINTER(ctypes.c_uint64)]),
    "tenure_engine_load_directory": (_result, [_P, _str, _size, ctypes.c_uint64]),
    "tenure_engine_journal_seq": (ctypes.c_uint64, [_P]),
    "tenure_entity_from_json": (_result, [_str, _size, _PP]),
    "tenure_request_from_json": (_result, [_str, _size, _PP, _PP]),
    "tenure_entity_new": (_P, []),
    "tenure_entity_set_string": (_result, [_P, _str, _size, _str, _size]),
    "tenure_entity_set_int": (_result, [_P, _str, _size, ctypes.c_int64]),
    "tenure_entity_set_bool": (_result, [_P, _str, _size, ctypes.c_bool]),
    "tenure_entity_add_to_set": (_result, [_P, _str, _size, _str, _size]),
    "tenure_entity_set_tag": (_result, [_P, _str, _size, _str, _size]),
    "tenure_entity_free": (None, [_P]),
    "tenure_is_allowed": (ctypes.c_bool, [_P, _P, _P]),
    "tenure_authorize": (_result, [_P, _P, _P, _PP]),
    "tenure_authorize_subject": (_result, [_P, ctypes.c_uint32, _str, _size, _P, _PP]),
    "tenure_decision_is_allowed": (ctypes.c_bool, [_P]),
    "tenure_decision_decided_by": (ctypes.c_uint32, [_P]),
    "tenure_decision_policy_version": (ctypes.c_uint64, [_P]),
    "tenure_decision_reason_count": (_size, [_P]),
    "tenure_decision_reason_id": (_result, [_P, _size, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(_size)]),
    "tenure_decision_free": (None, [_P]),
    "tenure_abi_version": (ctypes.c_uint32, []),
    "tenure_last_error": (_size, [ctypes.c_char_p, _size]),
}


def load(path=None):
    """Loads libtenure_ffi.so (from `path`, $TENURE_FFI_LIB, or the current directory)
    and declares every function's signature; checks the ABI version."""
    path = path or os.environ.get("TENURE_FFI_LIB") or os.path.abspath("libtenure_ffi.so")
    lib = ctypes.CDLL(path)
    for name, (restype, argtypes) in _SIGNATURES.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    if lib.tenure_abi_version() != TENURE_ABI_VERSION:
        raise TenureError(0, f"library ABI {lib.tenure_abi_version()}, bindings {TENURE_ABI_VERSION}")
    return lib


def _bytes(text):
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)


def last_error(lib):
    """The calling thread's last error message ('' after a success)."""
    length = lib.tenure_last_error(None, 0)
    buf = ctypes.create_string_buffer(length + 1)
    lib.tenure_last_error(buf, length + 1)
    return buf.value.decode("utf-8", "replace")


def _check(lib, code):
    if code != TENURE_OK:
        raise TenureError(code, last_error(lib))


class _Handle:
    _free = None

    def __init__(self, lib, pointer):
        self._lib = lib
        self._ptr = pointer

    def close(self):
        if self._ptr:
            getattr(self._lib, self._free)(self._ptr)
            self._ptr = None

    def __del__(self):
        self.close()


class Entity(_Handle):
    """An identity or a resource."""

    _free = "tenure_entity_free"

    def __init__(self, lib, pointer=None):
        super().__init__(lib, pointer if pointer is not None else lib.tenure_entity_new())

    @classmethod
    def from_json(cls, lib, text):
        out = _P()
        data = _bytes(text)
        _check(lib, lib.tenure_entity_from_json(data, len(data), ctypes.byref(out)))
        return cls(lib, out)

    def set(self, name, value):
        n = _bytes(name)
        if isinstance(value, bool):
            code = self._lib.tenure_entity_set_bool(self._ptr, n, len(n), value)
        elif isinstance(value, int):
            code = self._lib.tenure_entity_set_int(self._ptr, n, len(n), value)
        else:
            v = _bytes(value)
            code = self._lib.tenure_entity_set_string(self._ptr, n, len(n), v, len(v))
        _check(self._lib, code)
        return self

    def add_to_set(self, name, value):
        n, v = _bytes(name), _bytes(value)
        _check(self._lib, self._lib.tenure_entity_add_to_set(self._ptr, n, len(n), v, len(v)))
        return self

    def set_tag(self, key, value):
        k, v = _bytes(key), _bytes(value)
        _check(self._lib, self._lib.tenure_entity_set_tag(self._ptr, k, len(k), v, len(v)))
        return self


def request_from_json(lib, text):
    """A request `{"identity": ..., "resource": ...}` as two entities."""
    identity, resource = _P(), _P()
    data = _bytes(text)
    _check(lib, lib.tenure_request_from_json(data, len(data), ctypes.byref(identity), ctypes.byref(resource)))
    return Entity(lib, identity), Entity(lib, resource)


class Decision:
    """A decision, copied out of its handle (which is freed at once)."""

    def __init__(self, lib, pointer):
        try:
            self.allowed = bool(lib.tenure_decision_is_allowed(pointer))
            self.decided_by = lib.tenure_decision_decided_by(pointer)
            self.version = lib.tenure_decision_policy_version(pointer)
            self.reasons = []
            for i in range(lib.tenure_decision_reason_count(pointer)):
                text, length = ctypes.c_void_p(), _size()
                _check(lib, lib.tenure_decision_reason_id(pointer, i, ctypes.byref(text), ctypes.byref(length)))
                self.reasons.append(ctypes.string_at(text, length.value).decode("utf-8"))
        finally:
            lib.tenure_decision_free(pointer)


class Engine(_Handle):
    """A hot-swappable compiled policy."""

    _free = "tenure_engine_free"

    def __init__(self, lib, policy):
        out = _P()
        data = _bytes(policy)
        _check(lib, lib.tenure_engine_new(data, len(data), ctypes.byref(out)))
        super().__init__(lib, out)

    @property
    def version(self):
        return self._lib.tenure_engine_version(self._ptr)

    def reload(self, policy):
        """Serves `policy` as the next version; on error raises, and the old policy stays."""
        data = _bytes(policy)
        _check(self._lib, self._lib.tenure_engine_reload(self._ptr, data, len(data)))
        return self.version

    def is_allowed(self, identity, resource):
        return bool(self._lib.tenure_is_allowed(self._ptr, identity._ptr, resource._ptr))

    def authorize(self, identity, resource):
        out = _P()
        _check(self._lib, self._lib.tenure_authorize(self._ptr, identity._ptr, resource._ptr, ctypes.byref(out)))
        return Decision(self._lib, out)

    def apply_journal(self, records):
        """Applies `GET /v1/journal` lines to the engine's directory; returns its seq."""
        data = _bytes(records)
        seq = ctypes.c_uint64()
        _check(self._lib, self._lib.tenure_engine_apply_journal(self._ptr, data, len(data), ctypes.byref(seq)))
        return seq.value

    def authorize_subject(self, kind, subject, resource):
        out = _P()
        data = _bytes(subject)
        _check(self._lib, self._lib.tenure_authorize_subject(self._ptr, kind, data, len(data), resource._ptr, ctypes.byref(out)))
        return Decision(self._lib, out)
