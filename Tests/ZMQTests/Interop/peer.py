"""pyzmq peer for the interoperability tests (Tests/ZMQTests/InteropTests.swift).

Usage: python3 peer.py ROLE ENDPOINT [COUNT]
A role that binds prints its resolved endpoint on the first line of stdout.
Exits 0 when its part of the exchange checked out, 1 (with a message on stderr) when not.
Every receive has a timeout, so a broken exchange fails instead of hanging.
"""
import sys
import time

import zmq

role, endpoint = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 1
ctx = zmq.Context()


def make(kind, bind):
    s = ctx.socket(kind)
    s.setsockopt(zmq.RCVTIMEO, 10000)
    s.setsockopt(zmq.SNDTIMEO, 10000)
    s.setsockopt(zmq.LINGER, 2000)
    if bind:
        s.bind(endpoint)
        print(s.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
    else:
        s.connect(endpoint)
    return s


def fail(message):
    print(message, file=sys.stderr, flush=True)
    sys.exit(1)


if role == "rep-echo":  # echoes COUNT requests, multipart-aware
    s = make(zmq.REP, False)
    for _ in range(count):
        s.send_multipart(s.recv_multipart())
elif role == "req-client":  # sends COUNT requests (the last one 1 MiB), checks each echo
    s = make(zmq.REQ, False)
    for i in range(count):
        payload = bytes(range(256)) * 4096 if i == count - 1 else f"request {i}".encode()
        s.send(payload)
        if s.recv() != payload:
            fail(f"reply {i} differs from its request")
elif role == "pub":  # publishes weather and news until killed (or for 60 s at most)
    s = make(zmq.PUB, True)
    i = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        s.send_string(f"weather {i}")
        s.send_string(f"news {i}")
        i += 1
        time.sleep(0.001)
elif role == "sub":  # subscribes to weather, checks COUNT messages are all weather
    s = make(zmq.SUB, False)
    s.setsockopt(zmq.SUBSCRIBE, b"weather")
    for _ in range(count):
        m = s.recv()
        if not m.startswith(b"weather"):
            fail(f"received {m!r} without subscribing to it")
elif role == "router":  # answers COUNT multipart messages with their frames reversed
    s = make(zmq.ROUTER, True)
    for _ in range(count):
        identity, *frames = s.recv_multipart()
        s.send_multipart([identity, *reversed(frames)])
elif role == "dealer":  # sends COUNT multipart messages, checks each comes back reversed
    s = make(zmq.DEALER, False)
    for i in range(count):
        frames = [f"part {i}".encode(), b"", bytes(70000), b"last"]
        s.send_multipart(frames)
        if s.recv_multipart() != list(reversed(frames)):
            fail(f"reply {i} is not the request reversed")
elif role == "create-certificates":  # ENDPOINT is a directory: writes python.key(_secret), prints the keys
    import zmq.auth
    _, secret_file = zmq.auth.create_certificates(endpoint, "python", metadata={"made-by": "pyzmq"})
    public, secret = zmq.auth.load_certificate(secret_file)
    print(public.decode(), flush=True)
    print(secret.decode(), flush=True)
elif role == "load-certificate":  # ENDPOINT is a certificate file: prints its public and secret key
    import zmq.auth
    public, secret = zmq.auth.load_certificate(endpoint)
    print(public.decode(), flush=True)
    print(secret.decode() if secret else "None", flush=True)
elif role == "load-certificates":  # ENDPOINT is a directory: prints the public keys of its *.key files
    import zmq.auth
    for public in sorted(zmq.auth.load_certificates(endpoint)):
        print(public.decode(), flush=True)
    print("end", flush=True)
else:
    fail(f"unknown role {role}")
