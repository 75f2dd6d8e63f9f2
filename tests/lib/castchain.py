"""The hash chain of a .cast (record/chain.h), for tests that write sessions by hand.

  castchain.py append CAST LINE...   appends event lines as one chained block
  castchain.py manifest CAST         prints the manifest's "chain" object for CAST as it is
"""
import hashlib
import json
import sys


def seed(sid):
    return hashlib.sha256(b"ttyaudit-chain-v1\n" + sid.encode()).digest()


def seal(prev, block, t):
    """Returns (chain line, new head) for the block's bytes."""
    prefix = b'[%.6f, "h", "' % t
    head = hashlib.sha256(prev + block + prefix).digest()
    return prefix + head.hex().encode() + b'"]\n', head


def state(data):
    """(session id, head, blocks, header sha256) of a well-formed chained .cast's bytes."""
    nl = data.index(b"\n") + 1
    header = data[:nl]
    sid = json.loads(header)["ttyaudit"]["id"]
    head, blocks, at = seed(sid), 0, nl
    start = nl
    while at < len(data):
        end = data.index(b"\n", at) + 1
        line = data[at:end]
        if b', "h", "' in line and line.endswith(b'"]\n'):
            head = bytes.fromhex(line[-67:-3].decode())
            blocks += 1
            start = end
        at = end
    return sid, head, blocks, hashlib.sha256(header).hexdigest(), start


def append(path, lines, t=None):
    data = open(path, "rb").read()
    _, head, _, _, _ = state(data)
    block = b"".join(l.encode() if isinstance(l, str) else l for l in lines)
    if t is None:
        t = json.loads(block.splitlines()[-1])[0]
    chain_line, _ = seal(head, block, t)
    with open(path, "ab") as f:
        f.write(block + chain_line)


def manifest_chain(path):
    data = open(path, "rb").read()
    _, head, blocks, header_sha, _ = state(data)
    return {"version": 1, "head": head.hex(), "blocks": blocks, "size": len(data),
            "header_sha256": header_sha}


if __name__ == "__main__":
    if sys.argv[1] == "append":
        append(sys.argv[2], [l + "\n" for l in sys.argv[3:]])
    elif sys.argv[1] == "manifest":
        print(json.dumps(manifest_chain(sys.argv[2])))
