#!/usr/bin/env python3
"""pyzmq_reference.py: swift-zmq's pyzmq + zmq.asyncio reference for the workloads of
Benchmarks/README.md, written the way a Python user of the same patterns would write them.

    python3 Benchmarks/pyzmq_reference.py WORKLOAD SIZE COUNT      (needs: pip install pyzmq)

Every socket is a zmq.asyncio socket and every side of a workload is a coroutine on one event
loop, except the proxy itself, which runs zmq.proxy_steerable on a thread (as pyzmq users run a
device). Prints the same one line as zmq-bench and zmq-reference:

    workload=W size=S count=N msgs_per_s=V | usec_rtt=V | cpu_us_per_msg=V

Exit status: 0 done, 1 failed (a libzmq error, a wrong or lost message: see Watchdog),
2 bad arguments.

A message is checked by its length (and the paced and churn payloads by their bytes); a lost one
leaves a receiver waiting, which the watchdog turns into a failure. The thr/lat payloads are not
stamped with sequence numbers as the Swift and C programs do: in Python that means building a
new bytes object per message (a second copy of every 64 KiB message), which would measure the
stamping more than pyzmq.
"""
import asyncio
import os
import random
import resource
import subprocess
import sys
import threading
import time

try:
    import zmq
    import zmq.asyncio
except ImportError:
    sys.exit("pyzmq_reference.py: pyzmq is not installed (pip install pyzmq)")

PROGRAM = "pyzmq_reference.py"
# zmq-bench uses 25591/25592 and zmq-reference 25581/25582: each program has its own ports, so a
# run of one cannot stop a run of another.
THR_TCP = "tcp://127.0.0.1:25583"
LAT_TCP = "tcp://127.0.0.1:25584"
MAX_SIZE = 1 << 20          # message sizes, as zmq-bench accepts them
MAX_RATE = 1_000_000        # paced-*: msg/s per socket; poll: sockets; churn-inproc: waiters
POLL_RATE = 10_000          # poll: the rate of its one stream
PACED_MESSAGE = b"\x01\x02\x03\x04"
STALL_SECONDS = 20

SIZED = ("thr-inproc", "thr-ipc", "thr-tcp", "proxy-inproc", "lat-inproc", "lat-tcp")
RATED = ("paced-inproc", "paced-tcp", "paced-recv-tcp", "poll", "churn-inproc")

USAGE = f"""usage: python3 {PROGRAM} WORKLOAD SIZE COUNT
  thr-inproc | thr-ipc | thr-tcp | proxy-inproc  SIZE bytes, COUNT >= 2 messages
  lat-inproc | lat-tcp                          SIZE bytes, COUNT >= 1 round trips
  paced-inproc | paced-tcp | paced-recv-tcp     SIZE = msg/s per socket, COUNT = socket pairs
  poll                                          SIZE = sockets polled, COUNT = messages
  churn-inproc                                  SIZE = waiting coroutines, COUNT >= 2 messages
  SIZE: 0..{MAX_SIZE} bytes, or 1..{MAX_RATE} for paced-*, poll and churn-inproc
  env ZMQ_BENCH_SENDER: the program paced-recv-tcp runs as `$ZMQ_BENCH_SENDER paced-send RATE ENDPOINT...`"""


def fail(message):
    """Ends the run at once, from any thread or coroutine, with status 1."""
    sys.stderr.write(f"{PROGRAM}: {message}\n")
    sys.stderr.flush()
    os._exit(1)


def usage(problem=None):
    if problem:
        print(f"{PROGRAM}: {problem}", file=sys.stderr)
    print(USAGE, file=sys.stderr)
    sys.exit(2)


def number(text, low, high, what):
    try:
        value = int(text, 10)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        bound = f"of at least {low}" if high is None or high == sys.maxsize else f"in {low}..{high}"
        usage(f"{what} must be a whole number {bound}, got '{text}'")
    return value


def cpu_seconds():
    """The whole process's CPU time (user + system), as getrusage reports it."""
    usage_ = resource.getrusage(resource.RUSAGE_SELF)
    return usage_.ru_utime + usage_.ru_stime


class Watchdog:
    """A lost message leaves a receiver awaiting forever; this thread turns that into a failed run.
    The workload stores its progress in `done` (a plain attribute store per message); the thread
    looks once a second. `child`, when set, is the sender process, whose failure ends the run."""

    def __init__(self, expected):
        self.done = 0
        self.expected = expected
        self.child = None
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        last, still = -1, 0
        while True:
            time.sleep(1)
            child = self.child
            if child is not None and child.poll() not in (None, 0):
                fail(f"the sender process failed (status {child.returncode}) after {self.done} of {self.expected} messages arrived")
            done = self.done
            if done != last:
                last, still = done, 0
                continue
            still += 1
            if still >= STALL_SECONDS:
                fail(f"no progress for {STALL_SECONDS} s after {done} of {self.expected} messages: messages were lost or the run hung")


def socket(ctx, kind):
    """A socket that drops what is still queued when it closes: every workload closes its sockets
    only once everything has arrived."""
    s = ctx.socket(kind)
    s.linger = 0
    return s


def make_room(ctx, sockets):
    """Lets the process open `sockets` libzmq sockets (each holds a descriptor)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if ctx.get(zmq.MAX_SOCKETS) < sockets + 16:
        ctx.set(zmq.MAX_SOCKETS, sockets + 16)


# ---- thr-*, proxy-inproc, lat-* ------------------------------------------------------------

async def throughput(ctx, recv_ep, bind_recv, send_ep, size, count, watch):
    """A PULL receives `count` messages of `size` bytes that a PUSH coroutine sends; returns msg/s
    from the first to the last message received."""
    pull = socket(ctx, zmq.PULL)
    (pull.bind if bind_recv else pull.connect)(recv_ep)
    push = socket(ctx, zmq.PUSH)
    push.connect(send_ep)
    payload = bytes(size)

    async def send():
        for _ in range(count):
            await push.send(payload)

    sender = asyncio.create_task(send())
    start = 0.0
    for index in range(count):
        message = await pull.recv()
        if len(message) != size:
            fail(f"message {index} has {len(message)} bytes, expected {size}")
        if index == 0:
            start = time.perf_counter()
        watch.done = index + 1
    elapsed = time.perf_counter() - start
    await sender
    push.close()
    pull.close()
    return (count - 1) / elapsed


async def latency(ctx, ep, size, count, watch):
    """REQ binds, a REP coroutine connects and echoes; returns the mean round trip in µs."""
    req = socket(ctx, zmq.REQ)
    req.bind(ep)
    rep = socket(ctx, zmq.REP)
    rep.connect(ep)
    payload = bytes(size)

    async def echo():
        for _ in range(count):
            await rep.send(await rep.recv())

    echoer = asyncio.create_task(echo())
    start = time.perf_counter()
    for index in range(count):
        await req.send(payload)
        reply = await req.recv()
        if len(reply) != size:
            fail(f"reply {index} has {len(reply)} bytes, expected {size}")
        watch.done = index + 1
    elapsed = time.perf_counter() - start
    await echoer
    rep.close()
    req.close()
    return elapsed * 1e6 / count


async def proxied(ctx, size, count, watch):
    """PUSH -> (PULL frontend, PUSH backend) zmq.proxy_steerable on a thread -> PULL."""
    # The proxy's sockets are plain blocking ones on the same libzmq context (inproc endpoints
    # belong to one context), used only by the proxy thread after they are made.
    sync = zmq.Context.shadow(ctx.underlying)
    frontend, backend = socket(sync, zmq.PULL), socket(sync, zmq.PUSH)
    control, controller = socket(sync, zmq.PAIR), socket(sync, zmq.PAIR)
    frontend.bind("inproc://proxy-frontend")
    backend.bind("inproc://proxy-backend")
    control.bind("inproc://proxy-control")
    controller.connect("inproc://proxy-control")
    proxy = threading.Thread(target=zmq.proxy_steerable, args=(frontend, backend, None, control), daemon=True)
    proxy.start()
    rate = await throughput(ctx, "inproc://proxy-backend", False, "inproc://proxy-frontend", size, count, watch)
    controller.send(b"TERMINATE")
    proxy.join()
    for s in (frontend, backend, control, controller):
        s.close()
    return rate


# ---- paced-inproc, paced-tcp, paced-recv-tcp ------------------------------------------------

async def paced_send(push, rate, count):
    """Message i goes at start + (i+1)/rate on the loop's clock: sleeping to absolute times, a late
    wake-up shortens the next sleep instead of slowing the rate."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for index in range(1, count + 1):
        delay = start + index / rate - loop.time()
        await asyncio.sleep(delay if delay > 0 else 0)
        await push.send(PACED_MESSAGE)


async def paced_recv(pull, count, watch):
    for _ in range(count):
        message = await pull.recv()
        if message != PACED_MESSAGE:
            fail(f"a paced message arrived with {len(message)} wrong bytes")
        watch.done += 1


def bind_any_tcp(pull):
    pull.bind("tcp://127.0.0.1:*")
    return pull.getsockopt(zmq.LAST_ENDPOINT).decode()


async def paced(ctx, tcp, rate, pairs, watch):
    """`pairs` PUSH -> PULL pairs, each sender paced at `rate` for two seconds; returns the
    process's CPU µs per message received, from the start of sending to the last message."""
    per_socket = rate * 2
    sockets = []
    for index in range(pairs):
        pull = socket(ctx, zmq.PULL)
        if tcp:
            ep = bind_any_tcp(pull)
        else:
            ep = f"inproc://paced-{index}"
            pull.bind(ep)
        push = socket(ctx, zmq.PUSH)
        push.connect(ep)
        sockets.append((pull, push))
    start = cpu_seconds()
    await asyncio.gather(*(job for pull, push in sockets
                           for job in (paced_recv(pull, per_socket, watch), paced_send(push, rate, per_socket))))
    used = cpu_seconds() - start
    for pull, push in sockets:
        pull.close()
        push.close()
    return used * 1e6 / (per_socket * pairs)


async def paced_receive_only(ctx, rate, pairs, watch, sender):
    """paced-recv-tcp: the receiving side alone; the sender is `$ZMQ_BENCH_SENDER paced-send RATE
    ENDPOINT...`, a process of its own, whose CPU RUSAGE_SELF does not count. Prints the line
    itself, then fails if the sender failed."""
    per_socket = rate * 2
    pulls = [socket(ctx, zmq.PULL) for _ in range(pairs)]
    endpoints = [bind_any_tcp(pull) for pull in pulls]
    start = cpu_seconds()
    try:
        child = subprocess.Popen([sender, "paced-send", str(rate), *endpoints])
    except OSError as error:
        fail(f"cannot start the sender {sender}: {error}")
    watch.child = child
    await asyncio.gather(*(paced_recv(pull, per_socket, watch) for pull in pulls))
    used = cpu_seconds() - start
    print(f"workload=paced-recv-tcp size={rate} count={pairs} cpu_us_per_msg={used * 1e6 / (per_socket * pairs):.2f}", flush=True)
    status = child.wait()
    if status != 0:
        fail(f"the sender {sender} failed (status {status})")
    for pull in pulls:
        pull.close()


# ---- poll ----------------------------------------------------------------------------------

async def polled(ctx, sockets, count, watch):
    """`sockets` PULLs on one zmq.asyncio.Poller, the middle one fed `count` messages at POLL_RATE;
    each readable socket is drained with NOBLOCK receives. Returns CPU µs per message."""
    make_room(ctx, sockets)
    pulls = []
    poller = zmq.asyncio.Poller()
    for index in range(sockets):
        pull = socket(ctx, zmq.PULL)
        pull.bind(f"inproc://poll-{index}")
        poller.register(pull, zmq.POLLIN)
        pulls.append(pull)
    push = socket(ctx, zmq.PUSH)
    push.connect(f"inproc://poll-{sockets // 2}")
    loop = asyncio.get_running_loop()

    async def send():
        # Paced as paced_send, except that a message already due goes at once, without a turn of
        # the loop: one poll over many sockets takes longer than the 100 µs between two messages,
        # and yielding once per message would hold the stream to one message per poll.
        begin = loop.time()
        for index in range(1, count + 1):
            delay = begin + index / POLL_RATE - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await push.send(PACED_MESSAGE)

    start = cpu_seconds()
    sender = asyncio.create_task(send())
    received = 0
    while received < count:
        for sock, events in await poller.poll():
            if not events & zmq.POLLIN:
                continue
            while True:
                try:
                    message = await sock.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
                if message != PACED_MESSAGE:
                    fail(f"a polled message arrived with {len(message)} wrong bytes")
                received += 1
                watch.done = received
    if received != count:
        fail(f"{received} messages arrived, {count} were sent")
    used = cpu_seconds() - start
    await sender
    push.close()
    for pull in pulls:
        pull.close()
    return used * 1e6 / count


# ---- churn-inproc --------------------------------------------------------------------------

async def churn(ctx, waiters, count, watch):
    """`waiters` coroutines loop on `asyncio.wait_for(pull.recv(), 1..50 ms)` on one PULL while a
    sender sends `count` numbered messages: most receives time out and are made again at once.
    Every message must arrive exactly once. Returns msg/s from the first to the last message."""
    pull = socket(ctx, zmq.PULL)
    pull.bind("inproc://churn")
    push = socket(ctx, zmq.PUSH)
    push.connect("inproc://churn")
    seen = bytearray(count)
    times = [0.0, 0.0]

    async def send():
        for index in range(count):
            await push.send(index.to_bytes(8, "little"))

    async def wait():
        rng = random.Random()
        while watch.done < count:
            try:
                message = await asyncio.wait_for(pull.recv(), timeout=rng.randint(1, 50) / 1000)
            except asyncio.TimeoutError:
                continue
            if len(message) != 8:
                fail(f"a message of {len(message)} bytes arrived, expected 8")
            index = int.from_bytes(message, "little")
            if index >= count:
                fail(f"message {index} was never sent")
            if seen[index]:
                fail(f"message {index} arrived twice")
            seen[index] = 1
            now = time.perf_counter()
            if watch.done == 0:
                times[0] = now
            times[1] = now
            watch.done += 1

    sender = asyncio.create_task(send())
    await asyncio.gather(*(wait() for _ in range(waiters)))
    await sender
    push.close()
    pull.close()
    return (count - 1) / (times[1] - times[0])


# ---- main ----------------------------------------------------------------------------------

async def run(workload, size, count, sender):
    ctx = zmq.asyncio.Context()
    prefix = f"workload={workload} size={size} count={count}"
    if workload.startswith("thr-"):
        ep = {"thr-inproc": "inproc://thr", "thr-ipc": f"ipc:///tmp/pyzmq-reference-{os.getpid()}", "thr-tcp": THR_TCP}[workload]
        rate = await throughput(ctx, ep, True, ep, size, count, Watchdog(count))
        if ep.startswith("ipc://"):
            # libzmq leaves a bound ipc endpoint's socket file behind when the socket closes.
            os.unlink(ep[len("ipc://"):])
        print(f"{prefix} msgs_per_s={rate:.0f}")
    elif workload == "proxy-inproc":
        print(f"{prefix} msgs_per_s={await proxied(ctx, size, count, Watchdog(count)):.0f}")
    elif workload.startswith("lat-"):
        ep = "inproc://lat" if workload == "lat-inproc" else LAT_TCP
        print(f"{prefix} usec_rtt={await latency(ctx, ep, size, count, Watchdog(count)):.2f}")
    elif workload in ("paced-inproc", "paced-tcp"):
        us = await paced(ctx, workload == "paced-tcp", size, count, Watchdog(size * 2 * count))
        print(f"{prefix} cpu_us_per_msg={us:.2f}")
    elif workload == "paced-recv-tcp":
        await paced_receive_only(ctx, size, count, Watchdog(size * 2 * count), sender)
    elif workload == "poll":
        print(f"{prefix} cpu_us_per_msg={await polled(ctx, size, count, Watchdog(count)):.2f}")
    else:
        print(f"{prefix} msgs_per_s={await churn(ctx, size, count, Watchdog(count)):.0f}")
    sys.stdout.flush()
    ctx.destroy(linger=0)


def main(argv):
    if len(argv) == 1 and argv[0] in ("-h", "--help"):
        usage()
    if len(argv) != 3:
        usage("expected WORKLOAD SIZE COUNT")
    workload = argv[0]
    if workload not in SIZED + RATED:
        usage(f"unknown workload '{workload}'")
    if workload in SIZED:
        size = number(argv[1], 0, MAX_SIZE, "SIZE")
    else:
        size = number(argv[1], 1, MAX_RATE, "SIZE")
    least = 1 if workload.startswith(("lat-", "paced-")) or workload == "poll" else 2
    count = number(argv[2], least, 100_000 if workload.startswith("paced-") else sys.maxsize, "COUNT")
    sender = None
    if workload == "paced-recv-tcp":
        sender = os.environ.get("ZMQ_BENCH_SENDER")
        if not sender:
            print(f"{PROGRAM}: paced-recv-tcp needs ZMQ_BENCH_SENDER, the program to run as "
                  "`$ZMQ_BENCH_SENDER paced-send RATE ENDPOINT...` (zmq-reference will do; Benchmarks/compare sets it)",
                  file=sys.stderr)
            sys.exit(2)
    try:
        asyncio.run(run(workload, size, count, sender))
    except zmq.ZMQError as error:
        fail(f"{workload}: {error}")


if __name__ == "__main__":
    main(sys.argv[1:])
