#!/usr/bin/python3
"""Plays kubelet against containerd's CRI plugin, for tests/integration/cri_*.sh.

The CRI messages the tests need are written by hand from the field numbers of k8s.io/cri-api
(pkg/apis/runtime/v1/api.proto); gRPC is python3-grpcio, with raw bytes in and out. Exec
streams are attached as kubectl attaches them: a WebSocket with the v4.channel.k8s.io
subprotocol (channel 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize).

Usage (SOCK: containerd's gRPC socket):
  cri.py image-tar ROOTFS REF OUT.tar CMD...      a docker-archive image of a root filesystem
  cri.py image-id SOCK REF                        ImageStatus: the image's id
  cri.py run-pod SOCK POD.json HANDLER            RunPodSandbox; prints the pod sandbox id
  cri.py create SOCK POD_ID POD.json CTR.json     CreateContainer; prints the container id
  cri.py start SOCK CONTAINER_ID                  StartContainer
  cri.py exec SOCK CONTAINER_ID STEPS.json [--tty] [--stdin] -- CMD...
        Exec, then attach to its URL and play STEPS ([{"send": s}, {"expect": s},
        {"resize": [w, h]}, {"sleep": secs}]); prints {"protocol", "stdout", "stderr",
        "status", "exit_code"} as JSON
  cri.py exec-sync SOCK CONTAINER_ID TIMEOUT -- CMD...   ExecSync; prints JSON as exec does
  cri.py cleanup SOCK                             stops and removes every pod sandbox
POD.json: {"name", "namespace", "uid", "labels", "annotations", "cgroup_parent",
"log_directory"}; the pod uses the node's network. CTR.json: {"name", "image", "command",
"labels", "annotations", "log_path"}.
"""
import base64
import hashlib
import io
import json
import os
import platform
import socket
import struct
import sys
import tarfile
import threading
import time
import urllib.parse

import grpc

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}  # uname -m to OCI platform names
NAMESPACE_CONTAINER = 1
NAMESPACE_NODE = 2


# --- protobuf, by hand ---------------------------------------------------------------------

def _varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_int(num, value):
    """A varint field (int32, int64, uint32, bool, enum); proto3 omits zero."""
    if not value:
        return b""
    return _varint(num << 3) + _varint(int(value))


def f_bytes(num, value):
    """A length-delimited field (string, bytes, message); proto3 omits empty strings."""
    if isinstance(value, str):
        value = value.encode()
    return _varint(num << 3 | 2) + _varint(len(value)) + value


def f_str(num, value):
    return f_bytes(num, value) if value else b""


def f_msg(num, value):
    """A nested message, sent even when empty (presence matters for messages)."""
    return f_bytes(num, value)


def f_strs(num, values):
    return b"".join(f_bytes(num, v) for v in values)


def f_map(num, mapping):
    return b"".join(f_bytes(num, f_str(1, k) + f_str(2, v)) for k, v in sorted(mapping.items()))


def decode(data):
    """A message's fields: {number: [value, ...]}, bytes for length-delimited, ints otherwise."""
    fields = {}
    i = 0

    def varint():
        nonlocal i
        shift = n = 0
        while True:
            b = data[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n

    while i < len(data):
        key = varint()
        num, wire = key >> 3, key & 7
        if wire == 0:
            value = varint()
        elif wire == 2:
            n = varint()
            value = bytes(data[i:i + n])
            i += n
        elif wire == 1:
            value = data[i:i + 8]
            i += 8
        elif wire == 5:
            value = data[i:i + 4]
            i += 4
        else:
            raise ValueError(f"protobuf wire type {wire} unsupported")
        fields.setdefault(num, []).append(value)
    return fields


def first(fields, num, default=b""):
    return fields.get(num, [default])[0]


# --- CRI messages --------------------------------------------------------------------------

def pod_sandbox_config(pod):
    metadata = f_str(1, pod["name"]) + f_str(2, pod["uid"]) + f_str(3, pod["namespace"])
    ns_options = f_int(1, NAMESPACE_NODE) + f_int(2, NAMESPACE_CONTAINER)
    security = f_msg(1, ns_options)
    linux = f_str(1, pod.get("cgroup_parent", "")) + f_msg(2, security)
    return (f_msg(1, metadata) + f_str(2, pod.get("hostname", "")) +
            f_str(3, pod.get("log_directory", "")) + f_map(6, pod.get("labels", {})) +
            f_map(7, pod.get("annotations", {})) + f_msg(8, linux))


def container_config(ctr):
    ns_options = f_int(1, NAMESPACE_NODE) + f_int(2, NAMESPACE_CONTAINER)
    linux = f_msg(2, f_msg(3, ns_options))
    envs = b"".join(f_msg(6, f_str(1, k) + f_str(2, v)) for k, v in ctr.get("env", {}).items())
    return (f_msg(1, f_str(1, ctr["name"])) + f_msg(2, f_str(1, ctr["image"])) +
            f_strs(3, ctr.get("command", [])) + f_strs(4, ctr.get("args", [])) + envs +
            f_map(9, ctr.get("labels", {})) + f_map(10, ctr.get("annotations", {})) +
            f_str(11, ctr.get("log_path", "")) + f_msg(15, linux))


class Cri:
    """RuntimeService and ImageService of CRI runtime.v1 (else v1alpha2, same numbers)."""

    def __init__(self, sock):
        self.channel = grpc.insecure_channel("unix:" + sock)
        self.version = "v1"

    def call(self, service, method, request, timeout=60):
        for version in (self.version, "v1alpha2"):
            rpc = self.channel.unary_unary(f"/runtime.{version}.{service}/{method}",
                                           request_serializer=lambda b: b,
                                           response_deserializer=lambda b: b)
            try:
                response = rpc(request, timeout=timeout)
                self.version = version
                return decode(response)
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.UNIMPLEMENTED or version == "v1alpha2":
                    raise SystemExit(f"cri.py: {method}: {e.code().name}: {e.details()}")
        raise AssertionError("unreachable")

    def runtime(self, method, request, timeout=60):
        return self.call("RuntimeService", method, request, timeout)

    def image(self, method, request):
        return self.call("ImageService", method, request)


# --- the WebSocket client kubectl's exec uses -----------------------------------------------

STDIN, STDOUT, STDERR, ERROR, RESIZE = range(5)


class ExecStream:
    """One exec's streams over a WebSocket (RFC 6455) with a channel.k8s.io subprotocol."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "http":
            raise SystemExit(f"cri.py: streaming URL {url!r}: only http is expected here")
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + ("?" + u.query if u.query else "")
        request = (f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   f"Sec-WebSocket-Version: 13\r\nOrigin: http://{u.netloc}\r\n"
                   "Sec-WebSocket-Protocol: v4.channel.k8s.io, channel.k8s.io\r\n\r\n")
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise SystemExit(f"cri.py: {url}: connection closed during the handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise SystemExit(f"cri.py: {url}: no WebSocket upgrade: {lines[0]}")
        headers = {k.strip().lower(): v.strip() for k, v in
                   (line.split(":", 1) for line in lines[1:] if ":" in line)}
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            raise SystemExit(f"cri.py: {url}: bad Sec-WebSocket-Accept")
        self.protocol = headers.get("sec-websocket-protocol", "")
        self.out = {STDOUT: bytearray(), STDERR: bytearray(), ERROR: bytearray()}
        self.closed = False
        self.cond = threading.Condition()
        self.send_lock = threading.Lock()
        self.sock.settimeout(None)
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _read_frame(self):
        b0, b1 = self._recv_exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._recv_exact(8))[0]
        mask = self._recv_exact(4) if b1 & 0x80 else None
        payload = self._recv_exact(n)
        if mask:
            payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        return b0 & 0x80, b0 & 0x0F, payload

    def _read_loop(self):
        message = b""
        try:
            while True:
                fin, opcode, payload = self._read_frame()
                if opcode == 8:
                    break
                if opcode == 9:
                    self._send_frame(10, payload)
                    continue
                if opcode == 10:
                    continue
                message += payload
                if not fin:
                    continue
                data, message = message, b""
                if opcode == 1 and self.protocol.startswith("base64"):
                    data = data[:1] + base64.b64decode(data[1:])
                if len(data) > 1 and data[0] in self.out:
                    with self.cond:
                        self.out[data[0]] += data[1:]
                        self.cond.notify_all()
        except (EOFError, OSError):
            pass
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = bytes([0x80 | opcode, 0x80 | n])
        elif n < 1 << 16:
            head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack(">H", n)
        else:
            head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        with self.send_lock:
            self.sock.sendall(head + mask + masked)

    def send(self, channel, data):
        if isinstance(data, str):
            data = data.encode()
        self._send_frame(2, bytes([channel]) + data)

    def resize(self, width, height):
        self.send(RESIZE, json.dumps({"Width": width, "Height": height}))

    def expect(self, text, timeout=15):
        deadline = time.monotonic() + timeout
        want = text.encode()
        with self.cond:
            while want not in self.out[STDOUT]:
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise SystemExit(f"cri.py: {text!r} not seen on stdout; got "
                                     f"{bytes(self.out[STDOUT])!r}")
                self.cond.wait(left)

    def wait_closed(self, timeout=30):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit("cri.py: the exec stream did not end")
                self.cond.wait(left)
        self.sock.close()

    def result(self):
        status_text = bytes(self.out[ERROR]).decode(errors="replace")
        return {"protocol": self.protocol,
                "stdout": bytes(self.out[STDOUT]).decode(errors="replace"),
                "stderr": bytes(self.out[STDERR]).decode(errors="replace"),
                "status": status_text, "exit_code": exit_code_of(status_text)}


def exit_code_of(status_text):
    """The exit code a v4 error channel reports: kubectl's reading of a metav1.Status."""
    if not status_text:
        return None
    status = json.loads(status_text)
    if status.get("status") == "Success":
        return 0
    for cause in status.get("details", {}).get("causes", []):
        if cause.get("reason") == "ExitCode":
            return int(cause["message"])
    return None


# --- images --------------------------------------------------------------------------------

def image_tar(rootfs, ref, out, cmd):
    """A docker-archive (what `docker save` writes, what `ctr images import` reads)."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(rootfs)):
            t.add(os.path.join(rootfs, name), arcname=name)
    layer = layer.getvalue()
    config = json.dumps({
        "architecture": ARCH.get(platform.machine(), platform.machine()), "os": "linux",
        "config": {"Cmd": cmd, "Env": ["PATH=/bin:/sbin:/usr/bin:/usr/sbin"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
    }).encode()
    manifest = json.dumps([{"Config": "config.json", "RepoTags": [ref],
                            "Layers": ["layer.tar"]}]).encode()
    with tarfile.open(out, "w") as t:
        for name, data in (("layer.tar", layer), ("config.json", config),
                           ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


# --- commands ------------------------------------------------------------------------------

def exec_stream(cri, cid, steps, tty, stdin, cmd):
    request = (f_str(1, cid) + f_strs(2, cmd) + f_int(3, tty) + f_int(4, stdin) + f_int(5, True) +
               f_int(6, not tty))
    url = first(cri.runtime("Exec", request), 1).decode()
    stream = ExecStream(url)
    for step in steps:
        if "send" in step:
            stream.send(STDIN, step["send"])
        elif "expect" in step:
            stream.expect(step["expect"], step.get("timeout", 15))
        elif "resize" in step:
            stream.resize(*step["resize"])
        elif "sleep" in step:
            time.sleep(step["sleep"])
    stream.wait_closed()
    return stream.result()


def cleanup(cri):
    for item in cri.runtime("ListPodSandbox", b"").get(1, []):
        pod_id = first(decode(item), 1).decode()
        cri.runtime("StopPodSandbox", f_str(1, pod_id))
        cri.runtime("RemovePodSandbox", f_str(1, pod_id))


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd, args = argv[1], argv[2:]
    rest = []
    if "--" in args:
        i = args.index("--")
        args, rest = args[:i], args[i + 1:]
    if cmd == "image-tar":
        image_tar(args[0], args[1], args[2], args[3:] + rest)
        return
    cri = Cri(args[0])
    if cmd == "image-id":
        status = cri.image("ImageStatus", f_msg(1, f_str(1, args[1])))
        print(first(decode(first(status, 1)), 1).decode())
    elif cmd == "run-pod":
        pod = json.load(open(args[1]))
        response = cri.runtime("RunPodSandbox", f_msg(1, pod_sandbox_config(pod)) +
                               f_str(2, args[2]))
        print(first(response, 1).decode())
    elif cmd == "create":
        pod, ctr = json.load(open(args[2])), json.load(open(args[3]))
        request = (f_str(1, args[1]) + f_msg(2, container_config(ctr)) +
                   f_msg(3, pod_sandbox_config(pod)))
        print(first(cri.runtime("CreateContainer", request), 1).decode())
    elif cmd == "start":
        cri.runtime("StartContainer", f_str(1, args[1]))
    elif cmd == "exec":
        steps = json.load(open(args[2]))
        result = exec_stream(cri, args[1], steps, "--tty" in args, "--stdin" in args, rest)
        print(json.dumps(result))
    elif cmd == "exec-sync":
        timeout = int(args[2])
        response = cri.runtime("ExecSync", f_str(1, args[1]) + f_strs(2, rest) +
                               f_int(3, timeout), timeout=timeout + 30)
        code = first(response, 3, 0)
        if code >= 1 << 63:
            code -= 1 << 64
        print(json.dumps({"stdout": first(response, 1).decode(errors="replace"),
                          "stderr": first(response, 2).decode(errors="replace"),
                          "exit_code": code}))
    elif cmd == "cleanup":
        cleanup(cri)
    else:
        raise SystemExit(f"cri.py: unknown command {cmd}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv)
