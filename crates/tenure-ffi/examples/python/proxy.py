"""proxy.py — examples/proxy.c in Python, through ctypes.

    TENURE_FFI_LIB=target/debug/libtenure_ffi.so python3 proxy.py POLICY_FILE < requests.jsonl

Same protocol as proxy.c: one decision line per request line
(`allow|deny <version> <rule-id>,...` with `-` for none, `deny 0 error:<code> <message>`
for a malformed request), and `!reload` re-reads POLICY_FILE (`reloaded <version>`, or
`reload-failed <version> <first diagnostic>` with the old policy still serving).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tenure  # noqa: E402


def main():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} POLICY_FILE < requests.jsonl", file=sys.stderr)
        return 2
    lib = tenure.load()
    with open(sys.argv[1], "rb") as f:
        engine = tenure.Engine(lib, f.read())
    for raw in sys.stdin.buffer:
        line = raw.rstrip(b"\r\n")
        if not line:
            continue
        if line == b"!reload":
            try:
                with open(sys.argv[1], "rb") as f:
                    engine.reload(f.read())
                print(f"reloaded {engine.version}")
            except tenure.TenureError as e:
                print(f"reload-failed {engine.version} {e.message.splitlines()[0]}")
            except OSError as e:
                print(f"reload-failed {engine.version} {e}")
            sys.stdout.flush()
            continue
        try:
            identity, resource = tenure.request_from_json(lib, line)
            decision = engine.authorize(identity, resource)
            verdict = "allow" if decision.allowed else "deny"
            print(f"{verdict} {decision.version} {','.join(decision.reasons) or '-'}")
        except tenure.TenureError as e:
            print(f"deny 0 error:{e.code} {e.message.splitlines()[0]}")
        sys.stdout.flush()
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
