#!/usr/bin/env python3
"""sockabuse: a hostile client of ebbd's control socket, for
tests/integration/it_socket_abuse.sh and bench/socket.sh.

  sockabuse.py hold SOCK N        open N connections; print how many ebbd
                                  kept and refused (and one refusal) on a
                                  line, then hold them, each sending a
                                  hello a second past idle_timeout, until
                                  stdin closes
  sockabuse.py send SOCK JSON     send one request; print its reply
  sockabuse.py ping SOCK          time one `queue` request on a new
                                  connection, connect to reply, in ms
  sockabuse.py partial SOCK       send half a frame; print the reply and the
                                  seconds until ebbd closed the connection
  sockabuse.py idle SOCK          send nothing; print the seconds until
                                  ebbd closed the connection
  sockabuse.py submit SOCK K LEN  submit K jobs whose argv holds LEN bytes
  sockabuse.py flood SOCK N K      send a cancel of 200,000 ids, then N
                                  cancels of K ids, at once; print the
                                  replies' errors, each once, when all came
  sockabuse.py pipeline SOCK N PID  send N `queue --all` requests at once
                                  and read nothing for 2 s; print ebbd's
                                  (PID) VmRSS growth in kB, then read every
                                  reply and print how many came
Frames are the protocol's: a 4-byte big-endian length, then JSON.
"""
import json
import select
import socket
import struct
import sys
import threading
import time


def frame(obj):
    body = json.dumps(obj, separators=(",", ":")).encode()
    return struct.pack(">I", len(body)) + body


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def read_frame(s, timeout):
    """One reply frame as a dict, or None at EOF or timeout."""
    s.settimeout(timeout)
    buf = b""
    try:
        while len(buf) < 4:
            b = s.recv(4 - len(buf))
            if not b:
                return None
            buf += b
        n = struct.unpack(">I", buf)[0]
        body = b""
        while len(body) < n:
            b = s.recv(min(n - len(body), 1 << 20))
            if not b:
                return None
            body += b
    except (socket.timeout, ConnectionResetError):
        return None
    return json.loads(body)


def until_closed(s, limit):
    """Seconds until the peer closes s (None after limit)."""
    t0 = time.monotonic()
    s.settimeout(limit)
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - t0


def rss_kb(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def hold(path, n):
    conns = [connect(path) for _ in range(n)]
    time.sleep(0.5)
    kept, refused, why = [], 0, ""
    for s in conns:
        p = select.poll()
        p.register(s, select.POLLIN)
        if p.poll(0):
            rep = read_frame(s, 1)
            if rep is not None and rep.get("code") == "busy":
                refused += 1
                why = rep["error"]
            s.close()
        else:
            kept.append(s)
    print("kept=%d refused=%d why=%s" % (len(kept), refused, why), flush=True)
    p = select.poll()
    p.register(sys.stdin, select.POLLIN)
    while not p.poll(1000):
        for s in kept:
            s.sendall(frame({"v": 1, "cmd": "hello", "args": {}}))
            read_frame(s, 10)


def send(path, text):
    s = connect(path)
    s.sendall(frame(json.loads(text)))
    print(json.dumps(read_frame(s, 30)))


def ping(path):
    t0 = time.monotonic()
    s = connect(path)
    s.sendall(frame({"v": 1, "cmd": "queue", "args": {}}))
    rep = read_frame(s, 10)
    ms = (time.monotonic() - t0) * 1000
    if rep is None or not rep.get("ok"):
        sys.exit("queue failed: %r" % (rep,))
    print("%.1f" % ms)


def partial(path):
    s = connect(path)
    body = json.dumps({"v": 1, "cmd": "hello", "args": {}}).encode()
    s.sendall(struct.pack(">I", len(body)) + body[:5])
    t0 = time.monotonic()
    rep = read_frame(s, 30)
    rest = until_closed(s, 30)
    took = time.monotonic() - t0 if rest is not None else None
    print(json.dumps({"reply": rep, "closed_after": took}))


def idle(path):
    s = connect(path)
    print(json.dumps({"closed_after": until_closed(s, 30)}))


def submit(path, k, length):
    s = connect(path)
    for _ in range(k):
        s.sendall(frame({"v": 1, "cmd": "submit", "args": {"job": {
            "argv": ["true", "x" * length], "workdir": "/tmp"}}}))
        rep = read_frame(s, 30)
        if rep is None or not rep.get("ok"):
            sys.exit("submit failed: %r" % (rep,))


def flood(path, n, k):
    s = connect(path)
    big = frame({"v": 1, "cmd": "cancel", "args": {
        "ids": list(range(1, 200001))}})
    small = frame({"v": 1, "cmd": "cancel", "args": {
        "ids": list(range(1000001, 1000001 + k))}})
    # A pipelining client reads while it sends: ebbd reads no more from
    # a connection whose replies are not being read.
    sender = threading.Thread(target=s.sendall, args=(big + small * n,))
    sender.start()
    errors = []
    for _ in range(n + 1):
        rep = read_frame(s, 60)
        if rep is None:
            break
        e = rep.get("error") or "ok"
        if e not in errors:
            errors.append(e)
    sender.join()
    print("\n".join(errors))


def pipeline(path, n, pid):
    s = connect(path)
    before = rss_kb(pid)
    s.sendall(frame({"v": 1, "cmd": "queue", "args": {"all": True}}) * n)
    time.sleep(2)
    grew = rss_kb(pid) - before
    got = 0
    while got < n and read_frame(s, 10) is not None:
        got += 1
    print("rss_growth_kb=%d replies=%d" % (grew, got))


def main(argv):
    cmd, path = argv[1], argv[2]
    if cmd == "hold":
        hold(path, int(argv[3]))
    elif cmd == "send":
        send(path, argv[3])
    elif cmd == "ping":
        ping(path)
    elif cmd == "partial":
        partial(path)
    elif cmd == "idle":
        idle(path)
    elif cmd == "submit":
        submit(path, int(argv[3]), int(argv[4]))
    elif cmd == "flood":
        flood(path, int(argv[3]), int(argv[4]))
    elif cmd == "pipeline":
        pipeline(path, int(argv[3]), argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
