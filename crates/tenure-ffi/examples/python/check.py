"""check.py — the C API's conventions and thread safety, checked from Python (ctypes
releases the GIL during foreign calls, so the threads below really decide concurrently).

    TENURE_FFI_LIB=target/debug/libtenure_ffi.so python3 check.py      # prints `ok`
"""

import ctypes
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tenure  # noqa: E402

POLICY_A = '@id("dba") role = DBA grants type = postgres; @id("leavers") status != active denies *;'
POLICY_B = '@id("dba-all") role = DBA grants *;'


def expect_error(code, call):
    try:
        call()
    except tenure.TenureError as e:
        assert e.code == code, (e.code, e.message)
        return e
    raise AssertionError(f"expected error {code}")


def main():
    lib = tenure.load()
    assert lib.tenure_abi_version() == tenure.TENURE_ABI_VERSION

    e = expect_error(tenure.TENURE_ERROR_POLICY, lambda: tenure.Engine(lib, "role = grants"))
    assert "<policy>:1:" in e.message, e.message
    engine = tenure.Engine(lib, POLICY_A)
    assert tenure.last_error(lib) == ""
    dba = tenure.Entity(lib).set("role", "DBA").set("status", "active").set("clearance", 3).set("mfa", True)
    dba.add_to_set("groups", "dba")
    db = tenure.Entity.from_json(lib, '{"type": "postgres", "tags": {"env": "prod"}}')
    ssh = tenure.Entity(lib).set("type", "ssh").set_tag("env", "prod")

    d = engine.authorize(dba, db)
    assert (d.allowed, d.version, d.reasons) == (True, 1, ["dba"]), vars(d)
    assert not engine.is_allowed(dba, ssh)
    # Errors deny: NULL handles from Python are None pointers.
    assert not lib.tenure_is_allowed(None, dba._ptr, db._ptr)
    assert not lib.tenure_is_allowed(engine._ptr, None, db._ptr)
    expect_error(tenure.TENURE_ERROR_POLICY, lambda: engine.reload("role = DBA grants"))
    assert engine.version == 1 and engine.is_allowed(dba, db)
    expect_error(4, lambda: tenure.Entity.from_json(lib, '{"a": 1, "a": 2}'))
    expect_error(2, lambda: tenure.Entity(lib).set("role", b"\xff"))
    expect_error(7, lambda: dba.add_to_set("role", "x"))

    # Threads decide while the main thread reloads A and B alternately.
    reference = {1: tenure.Engine(lib, POLICY_A), 0: tenure.Engine(lib, POLICY_B)}
    expected = {k: (e.authorize(dba, ssh).allowed, e.authorize(dba, ssh).reasons) for k, e in reference.items()}
    failures = []
    stop = threading.Event()

    def decide():
        while not stop.is_set():
            d = engine.authorize(dba, ssh)
            if (d.allowed, d.reasons) != expected[d.version % 2]:
                failures.append((d.version, d.allowed, d.reasons))

    threads = [threading.Thread(target=decide) for _ in range(3)]
    for t in threads:
        t.start()
    for n in range(300):
        assert engine.reload(POLICY_B if n % 2 == 0 else POLICY_A) == n + 2
    stop.set()
    for t in threads:
        t.join()
    assert not failures, failures[:5]
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
