/* zmq-reference: swift-zmq's raw-libzmq reference for the workloads of Benchmarks/README.md.
 *
 * It runs each workload the plainest way libzmq allows (blocking calls, one thread per socket), so
 * that zmq-bench's figures can be read against what the same libzmq does on the same machine.
 *
 *   cc -O2 -o zmq-reference Benchmarks/reference.c -lzmq -lpthread
 *   zmq-reference WORKLOAD SIZE COUNT
 *
 * It prints one line on stdout, `workload=W size=S count=N FIGURE=V`, and nothing else. Exit status:
 * 0 done, 1 a libzmq or system call failed (or a message was lost: see the watchdog), 2 bad
 * arguments, 3 the workload cannot be written with raw libzmq.
 *
 * ZMQ_REFERENCE_SPIN=1 makes every send and receive of thr-*, lat-* and proxy-* busy-poll with
 * ZMQ_DONTWAIT instead of blocking: no thread ever sleeps, so no wake-up is ever paid. That is the
 * most libzmq can do here, at the price of a core per thread, and the bound no wrapper can pass.
 */
#define _GNU_SOURCE
#include <zmq.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

extern char **environ;

/* The Swift bench uses 25591/25592; these keep a run of one from stopping a run of the other. All are
   below 32768, outside Linux's ephemeral ports, which a connection's client side may hold. */
#define THR_TCP_ENDPOINT "tcp://127.0.0.1:25581"
#define LAT_TCP_ENDPOINT "tcp://127.0.0.1:25582"
#define MAX_SIZE (1L << 20)       /* message sizes, as zmq-bench accepts them */
#define MAX_RATE 1000000L         /* paced-*: messages per second per socket; poll: sockets */
#define POLL_RATE 10000L          /* poll: the rate of its one stream */
#define STALL_SECONDS 20          /* the watchdog's limit without progress */

/* The paced workloads' message, the same bytes zmq-bench checks. */
static const unsigned char paced_message[4] = {1, 2, 3, 4};

static const char *program = "zmq-reference";

/* ---- failures ---------------------------------------------------------------------------- */

static void fail(const char *format, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stderr, "%s: ", program);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    _exit(1); /* not exit(): other threads may be inside libzmq */
}

/* Ends the run with libzmq's reason when a call returned -1 (or any negative value). */
#define ZCHECK(call)                                                            \
    do {                                                                        \
        if ((call) < 0) fail("%s: %s", #call, zmq_strerror(zmq_errno()));      \
    } while (0)

static void usage(const char *problem) {
    if (problem) fprintf(stderr, "%s: %s\n", program, problem);
    fprintf(stderr,
            "usage: %s WORKLOAD SIZE COUNT\n"
            "       %s paced-send RATE ENDPOINT...   (the sender process of paced-recv-tcp)\n"
            "  thr-inproc | thr-ipc | thr-tcp | proxy-inproc  SIZE bytes, COUNT >= 2 messages\n"
            "  lat-inproc | lat-tcp                          SIZE bytes, COUNT >= 1 round trips\n"
            "  paced-inproc | paced-tcp | paced-recv-tcp     SIZE = msg/s per socket, COUNT = socket pairs\n"
            "  poll                                          SIZE = sockets polled, COUNT = messages\n"
            "  churn-inproc                                  (not expressible in C: exits 3)\n"
            "  SIZE: 0..%ld bytes, or 1..%ld for paced-*, poll and churn-inproc\n"
            "  env ZMQ_REFERENCE_SPIN=1: busy-poll with ZMQ_DONTWAIT (thr-*, lat-*, proxy-*)\n"
            "  env ZMQ_BENCH_SENDER: the paced-send program paced-recv-tcp starts\n",
            program, program, MAX_SIZE, MAX_RATE);
    exit(2);
}

/* A whole number in min..max, or a usage error. */
static long number(const char *text, long min, long max, const char *what) {
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end || value < min || value > max) {
        char problem[256];
        if (max == LONG_MAX)
            snprintf(problem, sizeof problem, "%s must be a whole number of at least %ld, got '%s'", what, min, text);
        else
            snprintf(problem, sizeof problem, "%s must be a whole number in %ld..%ld, got '%s'", what, min, max, text);
        usage(problem);
    }
    return value;
}

/* ---- clocks ------------------------------------------------------------------------------ */

static int64_t monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Sleeps to an absolute time, so that a late wake-up shortens the next sleep instead of slowing
 * the rate. */
static void sleep_until(int64_t ns) {
    struct timespec t = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {}
}

/* The time of message `index` of a stream paced at `rate` a second that starts at `start`. */
static int64_t paced_time(int64_t start, long index, long rate) {
    return start + (int64_t)index * 1000000000 / rate;
}

/* The whole process's CPU time (user + system) so far, in seconds. */
static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

/* ---- watchdog ---------------------------------------------------------------------------- */

/* A lost message would leave its receiver blocked forever; the watchdog turns that into a failed
 * run. Each receiving thread owns one counter (a relaxed store per message, no locked
 * instruction), on a cache line of its own; the watchdog thread sums them once a second. */
struct counter {
    _Atomic long value;
    char pad[64 - sizeof(_Atomic long)];
};
static struct counter *progress;
static int progress_slots;
static long progress_expected;
static _Atomic pid_t watched_child; /* paced-recv-tcp: the sender process, whose failure ends the run at once */

static inline void advance(int slot, long done) {
    atomic_store_explicit(&progress[slot].value, done, memory_order_relaxed);
}

static void *watchdog(void *unused) {
    (void)unused;
    long last = -1;
    int still = 0;
    for (;;) {
        sleep(1);
        long done = 0;
        for (int i = 0; i < progress_slots; i++) done += atomic_load_explicit(&progress[i].value, memory_order_relaxed);
        pid_t child = atomic_load(&watched_child);
        if (child > 0) {
            siginfo_t info = {0};
            /* WNOWAIT: look without reaping, main still waits for the child. */
            if (waitid(P_PID, (id_t)child, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0 &&
                !(info.si_code == CLD_EXITED && info.si_status == 0))
                fail("the sender process failed (%s %d) after %ld of %ld messages arrived",
                     info.si_code == CLD_EXITED ? "exit status" : "signal", info.si_status, done, progress_expected);
        }
        if (done != last) {
            last = done;
            still = 0;
        } else if (++still >= STALL_SECONDS) {
            fail("no progress for %d s after %ld of %ld messages: messages were lost or the run hung", STALL_SECONDS,
                 done, progress_expected);
        }
    }
    return NULL;
}

/* Starts watching `slots` counters that should reach `expected` messages in all. */
static void watch(int slots, long expected) {
    progress = aligned_alloc(64, sizeof *progress * (size_t)slots);
    if (!progress) fail("out of memory");
    memset(progress, 0, sizeof *progress * (size_t)slots);
    progress_slots = slots;
    progress_expected = expected;
    pthread_t thread;
    if (pthread_create(&thread, NULL, watchdog, NULL)) fail("cannot start the watchdog thread");
    pthread_detach(thread);
}

/* ---- sockets, sends and receives --------------------------------------------------------- */

static bool spin; /* ZMQ_REFERENCE_SPIN=1 */

/* A socket that drops whatever is still queued when it closes: every workload but paced-send
 * closes only once everything it cares about has arrived. */
static void *open_socket(void *ctx, int type) {
    void *s = zmq_socket(ctx, type);
    if (!s) fail("zmq_socket: %s", zmq_strerror(zmq_errno()));
    int zero = 0;
    ZCHECK(zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero));
    return s;
}

/* Whether a failed call should simply be made again: interrupted, or would block while spinning. */
static inline bool again(void) {
    int e = zmq_errno();
    return e == EINTR || (spin && e == EAGAIN);
}

static int send_buffer(void *s, const void *buf, size_t size) {
    int rc;
    while ((rc = zmq_send(s, buf, size, spin ? ZMQ_DONTWAIT : 0)) < 0 && again()) {}
    return rc;
}

static int recv_message(zmq_msg_t *m, void *s) {
    int rc;
    while ((rc = zmq_msg_recv(m, s, spin ? ZMQ_DONTWAIT : 0)) < 0 && again()) {}
    return rc;
}

static int send_message(zmq_msg_t *m, void *s) {
    int rc;
    while ((rc = zmq_msg_send(m, s, spin ? ZMQ_DONTWAIT : 0)) < 0 && again()) {}
    return rc;
}

/* Every thr/lat/proxy message carries its sequence number in its first (up to 8) bytes,
 * little-endian, as zmq-bench's do: the receiver then sees a lost, repeated or reordered
 * message, not only a count that falls short, and both programs do the same work per message. */
static inline void stamp(unsigned char *buf, size_t size, uint64_t index) {
    for (size_t i = 0; i < size && i < 8; i++) buf[i] = (unsigned char)(index >> (8 * i));
}

static inline void check(zmq_msg_t *m, size_t size, uint64_t index) {
    const unsigned char *data = zmq_msg_data(m);
    size_t got = zmq_msg_size(m);
    bool ok = got == size;
    for (size_t i = 0; ok && i < size && i < 8; i++) ok = data[i] == (unsigned char)(index >> (8 * i));
    if (!ok) fail("message %" PRIu64 " arrived wrong (%zu bytes, expected %zu): lost, repeated or reordered messages",
                  index, got, size);
}

/* Receives one paced message with a blocking zmq_recv and checks its four bytes. */
static void recv_paced(void *s, int flags) {
    unsigned char buf[16];
    int rc;
    while ((rc = zmq_recv(s, buf, sizeof buf, flags)) < 0 && zmq_errno() == EINTR) {}
    ZCHECK(rc);
    if (rc != 4 || memcmp(buf, paced_message, 4)) fail("a paced message arrived with %d wrong bytes", rc);
}

static void send_paced(void *s) {
    int rc;
    while ((rc = zmq_send(s, paced_message, 4, 0)) < 0 && zmq_errno() == EINTR) {}
    ZCHECK(rc);
}

static pthread_t start_thread(void *(*body)(void *), void *arg) {
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, body, arg);
    if (rc) fail("pthread_create: %s", strerror(rc));
    return thread;
}

/* ---- thr-*, proxy-inproc ----------------------------------------------------------------- */

struct stream {
    void *socket;
    size_t size;
    long count;
};

/* Sends `count` stamped messages; the socket stays open, the receiver closes it when all arrived,
 * so that no measurement depends on how libzmq lingers over messages still in flight. */
static void *send_stream(void *arg) {
    struct stream *job = arg;
    unsigned char *buf = calloc(1, job->size ? job->size : 1);
    if (!buf) fail("out of memory");
    for (long i = 0; i < job->count; i++) {
        stamp(buf, job->size, (uint64_t)i);
        ZCHECK(send_buffer(job->socket, buf, job->size));
    }
    free(buf);
    return NULL;
}

/* A PULL (bound to recv_ep when bind_recv, else connected) receives `count` messages of `size`
 * bytes that a PUSH on another thread sends to send_ep. Returns messages per second from the first
 * to the last message received. */
static double throughput(void *ctx, const char *recv_ep, bool bind_recv, const char *send_ep, size_t size, long count) {
    void *pull = open_socket(ctx, ZMQ_PULL);
    if (bind_recv) ZCHECK(zmq_bind(pull, recv_ep)); else ZCHECK(zmq_connect(pull, recv_ep));
    void *push = open_socket(ctx, ZMQ_PUSH);
    ZCHECK(zmq_connect(push, send_ep));
    struct stream job = {push, size, count};
    pthread_t sender = start_thread(send_stream, &job);
    zmq_msg_t m;
    zmq_msg_init(&m);
    int64_t start = 0;
    for (long i = 0; i < count; i++) {
        ZCHECK(recv_message(&m, pull));
        check(&m, size, (uint64_t)i);
        if (i == 0) start = monotonic_ns();
        advance(0, i + 1);
    }
    double elapsed = (monotonic_ns() - start) / 1e9;
    zmq_msg_close(&m);
    pthread_join(sender, NULL);
    zmq_close(push);
    zmq_close(pull);
    return (double)(count - 1) / elapsed;
}

static void *run_proxy(void *arg) {
    void **sockets = arg; /* frontend, backend, control */
    if (zmq_proxy_steerable(sockets[0], sockets[1], NULL, sockets[2]) != 0)
        fail("zmq_proxy_steerable: %s", zmq_strerror(zmq_errno()));
    return NULL;
}

/* PUSH -> (PULL frontend, PUSH backend) zmq_proxy_steerable -> PULL, stopped with TERMINATE. */
static double proxied(void *ctx, size_t size, long count) {
    void *frontend = open_socket(ctx, ZMQ_PULL), *backend = open_socket(ctx, ZMQ_PUSH);
    void *control = open_socket(ctx, ZMQ_PAIR), *controller = open_socket(ctx, ZMQ_PAIR);
    ZCHECK(zmq_bind(frontend, "inproc://proxy-frontend"));
    ZCHECK(zmq_bind(backend, "inproc://proxy-backend"));
    ZCHECK(zmq_bind(control, "inproc://proxy-control"));
    ZCHECK(zmq_connect(controller, "inproc://proxy-control"));
    void *sockets[3] = {frontend, backend, control};
    pthread_t proxy = start_thread(run_proxy, sockets);
    double rate = throughput(ctx, "inproc://proxy-backend", false, "inproc://proxy-frontend", size, count);
    ZCHECK(zmq_send(controller, "TERMINATE", 9, 0));
    pthread_join(proxy, NULL);
    zmq_close(frontend);
    zmq_close(backend);
    zmq_close(control);
    zmq_close(controller);
    return rate;
}

/* ---- lat-* ------------------------------------------------------------------------------- */

static void *echo(void *arg) {
    struct stream *job = arg;
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (long i = 0; i < job->count; i++) {
        ZCHECK(recv_message(&m, job->socket));
        ZCHECK(send_message(&m, job->socket));
    }
    zmq_msg_close(&m);
    return NULL;
}

/* REQ binds, a REP on another thread connects and echoes. Returns the mean round trip in µs. */
static double latency(void *ctx, const char *ep, size_t size, long count) {
    void *req = open_socket(ctx, ZMQ_REQ);
    ZCHECK(zmq_bind(req, ep));
    void *rep = open_socket(ctx, ZMQ_REP);
    ZCHECK(zmq_connect(rep, ep));
    struct stream job = {rep, size, count};
    pthread_t echoer = start_thread(echo, &job);
    unsigned char *buf = calloc(1, size ? size : 1);
    if (!buf) fail("out of memory");
    zmq_msg_t reply;
    zmq_msg_init(&reply);
    int64_t start = monotonic_ns();
    for (long i = 0; i < count; i++) {
        stamp(buf, size, (uint64_t)i);
        ZCHECK(send_buffer(req, buf, size));
        ZCHECK(recv_message(&reply, req));
        check(&reply, size, (uint64_t)i);
        advance(0, i + 1);
    }
    double elapsed = (monotonic_ns() - start) / 1e9;
    pthread_join(echoer, NULL);
    zmq_msg_close(&reply);
    free(buf);
    zmq_close(rep);
    zmq_close(req);
    return elapsed * 1e6 / (double)count;
}

/* ---- paced-inproc, paced-tcp ------------------------------------------------------------- */

struct paced {
    void *socket;
    long rate, count;
    int slot;
    pthread_barrier_t *go; /* senders start together, once main has read the CPU time */
};

/* Message i goes at start + (i+1)/rate: the first one a step after the start. */
static void *paced_sender(void *arg) {
    struct paced *job = arg;
    pthread_barrier_wait(job->go);
    int64_t start = monotonic_ns();
    for (long i = 0; i < job->count; i++) {
        sleep_until(paced_time(start, i + 1, job->rate));
        send_paced(job->socket);
    }
    return NULL;
}

static void *paced_receiver(void *arg) {
    struct paced *job = arg;
    for (long i = 0; i < job->count; i++) {
        recv_paced(job->socket, 0);
        advance(job->slot, i + 1);
    }
    return NULL;
}

/* Binds a PULL on a wildcard TCP port and writes the endpoint it got into `ep`. */
static void bind_any_tcp(void *pull, char *ep, size_t len) {
    ZCHECK(zmq_bind(pull, "tcp://127.0.0.1:*"));
    ZCHECK(zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, ep, &len));
}

/* `pairs` PUSH -> PULL pairs, each sender paced at `rate` for two seconds, each receiver blocking
 * in zmq_recv on a thread of its own. Returns the process's CPU µs per message received. */
static double paced(void *ctx, bool tcp, long rate, int pairs) {
    long per_socket = rate * 2;
    struct paced *receivers = calloc((size_t)pairs, sizeof *receivers), *senders = calloc((size_t)pairs, sizeof *senders);
    pthread_t *receiving = calloc((size_t)pairs, sizeof *receiving), *sending = calloc((size_t)pairs, sizeof *sending);
    if (!receivers || !senders || !receiving || !sending) fail("out of memory");
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)pairs + 1);
    for (int i = 0; i < pairs; i++) {
        char ep[256];
        void *pull = open_socket(ctx, ZMQ_PULL), *push = open_socket(ctx, ZMQ_PUSH);
        if (tcp) {
            bind_any_tcp(pull, ep, sizeof ep);
        } else {
            snprintf(ep, sizeof ep, "inproc://paced-%d", i);
            ZCHECK(zmq_bind(pull, ep));
        }
        ZCHECK(zmq_connect(push, ep));
        receivers[i] = (struct paced){pull, rate, per_socket, i, NULL};
        senders[i] = (struct paced){push, rate, per_socket, i, &go};
    }
    watch(pairs, per_socket * pairs);
    for (int i = 0; i < pairs; i++) {
        receiving[i] = start_thread(paced_receiver, &receivers[i]);
        sending[i] = start_thread(paced_sender, &senders[i]);
    }
    double cpu = cpu_seconds();
    pthread_barrier_wait(&go);
    for (int i = 0; i < pairs; i++) pthread_join(receiving[i], NULL);
    cpu = cpu_seconds() - cpu;
    for (int i = 0; i < pairs; i++) pthread_join(sending[i], NULL);
    for (int i = 0; i < pairs; i++) {
        zmq_close(receivers[i].socket);
        zmq_close(senders[i].socket);
    }
    pthread_barrier_destroy(&go);
    free(receivers), free(senders), free(receiving), free(sending);
    return cpu * 1e6 / ((double)per_socket * pairs);
}

/* ---- paced-recv-tcp, paced-send ---------------------------------------------------------- */

/* The receiving side of paced-tcp alone: the sender is `$ZMQ_BENCH_SENDER paced-send RATE
 * ENDPOINT...`, a process of its own, so only this process's CPU is counted (RUSAGE_SELF leaves
 * children out). Prints the result line; fails if the sender failed. */
static void paced_receive_only(void *ctx, long rate, int pairs, const char *sender) {
    long per_socket = rate * 2;
    struct paced *receivers = calloc((size_t)pairs, sizeof *receivers);
    pthread_t *receiving = calloc((size_t)pairs, sizeof *receiving);
    char **argv = calloc((size_t)pairs + 4, sizeof *argv);
    if (!receivers || !receiving || !argv) fail("out of memory");
    char rate_text[32];
    snprintf(rate_text, sizeof rate_text, "%ld", rate);
    argv[0] = (char *)sender;
    argv[1] = "paced-send";
    argv[2] = rate_text;
    for (int i = 0; i < pairs; i++) {
        char ep[256];
        void *pull = open_socket(ctx, ZMQ_PULL);
        bind_any_tcp(pull, ep, sizeof ep);
        argv[3 + i] = strdup(ep);
        receivers[i] = (struct paced){pull, rate, per_socket, i, NULL};
    }
    watch(pairs, per_socket * pairs);
    for (int i = 0; i < pairs; i++) receiving[i] = start_thread(paced_receiver, &receivers[i]);
    double cpu = cpu_seconds();
    pid_t child;
    int rc = posix_spawnp(&child, sender, NULL, NULL, argv, environ);
    if (rc) fail("cannot start the sender %s: %s", sender, strerror(rc));
    atomic_store(&watched_child, child);
    for (int i = 0; i < pairs; i++) pthread_join(receiving[i], NULL);
    cpu = cpu_seconds() - cpu;
    /* The figure is printed first, then the sender's status decides the exit status; compare keeps
     * the figure of a run that exits 0 only. */
    printf("workload=paced-recv-tcp size=%ld count=%d cpu_us_per_msg=%.2f\n", rate, pairs, cpu * 1e6 / ((double)per_socket * pairs));
    fflush(stdout);
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) fail("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("the sender %s failed (%s %d)", sender, WIFEXITED(status) ? "exit status" : "signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    for (int i = 0; i < pairs; i++) {
        zmq_close(receivers[i].socket);
        free(argv[3 + i]);
    }
    free(receivers), free(receiving), free(argv);
}

/* paced-send: the first message goes at once (zmq_send blocks until the connection is up), then
 * message i at first + i/rate, counted from when the first send returned. */
static void *paced_send_one(void *arg) {
    struct paced *job = arg;
    send_paced(job->socket);
    advance(job->slot, 1);
    int64_t start = monotonic_ns();
    for (long i = 1; i < job->count; i++) {
        sleep_until(paced_time(start, i, job->rate));
        send_paced(job->socket);
        advance(job->slot, i + 1);
    }
    return NULL;
}

/* One PUSH per endpoint on a thread of its own, each sending 2 * rate messages. The sockets keep
 * the default linger, so zmq_ctx_term waits until every message has been handed over. */
static void paced_send(void *ctx, long rate, int endpoints, char **eps) {
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* do not outlive the receiver that started us */
#endif
    struct paced *senders = calloc((size_t)endpoints, sizeof *senders);
    pthread_t *sending = calloc((size_t)endpoints, sizeof *sending);
    if (!senders || !sending) fail("out of memory");
    for (int i = 0; i < endpoints; i++) {
        void *push = zmq_socket(ctx, ZMQ_PUSH);
        if (!push) fail("zmq_socket: %s", zmq_strerror(zmq_errno()));
        if (zmq_connect(push, eps[i]) < 0) fail("zmq_connect %s: %s", eps[i], zmq_strerror(zmq_errno()));
        senders[i] = (struct paced){push, rate, rate * 2, i, NULL};
    }
    watch(endpoints, rate * 2 * endpoints);
    for (int i = 0; i < endpoints; i++) sending[i] = start_thread(paced_send_one, &senders[i]);
    for (int i = 0; i < endpoints; i++) pthread_join(sending[i], NULL);
    for (int i = 0; i < endpoints; i++) zmq_close(senders[i].socket);
    free(senders), free(sending);
}

/* ---- poll -------------------------------------------------------------------------------- */

struct poll_feed {
    void *push;
    long count;
    pthread_barrier_t *go;
};

static void *poll_sender(void *arg) {
    struct poll_feed *job = arg;
    pthread_barrier_wait(job->go);
    int64_t start = monotonic_ns();
    for (long i = 0; i < job->count; i++) {
        sleep_until(paced_time(start, i + 1, POLL_RATE));
        send_paced(job->push);
    }
    return NULL;
}

/* Lets the process open `sockets` libzmq sockets (each holds a descriptor). */
static void make_room(void *ctx, long sockets) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    int most = zmq_ctx_get(ctx, ZMQ_MAX_SOCKETS);
    if (most >= 0 && most < sockets + 16) ZCHECK(zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, (int)sockets + 16));
}

/* `sockets` PULLs, one of them (the middle one) fed `count` messages at POLL_RATE; the main thread
 * waits on all of them with zmq_poll and drains each readable one. Returns CPU µs per message. */
static double polled(void *ctx, int sockets, long count) {
    make_room(ctx, sockets);
    zmq_pollitem_t *items = calloc((size_t)sockets, sizeof *items);
    if (!items) fail("out of memory");
    for (int i = 0; i < sockets; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://poll-%d", i);
        items[i] = (zmq_pollitem_t){.socket = open_socket(ctx, ZMQ_PULL), .events = ZMQ_POLLIN};
        ZCHECK(zmq_bind(items[i].socket, ep));
    }
    char fed[64];
    snprintf(fed, sizeof fed, "inproc://poll-%d", sockets / 2);
    void *push = open_socket(ctx, ZMQ_PUSH);
    ZCHECK(zmq_connect(push, fed));
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    struct poll_feed job = {push, count, &go};
    watch(1, count);
    pthread_t sender = start_thread(poll_sender, &job);
    double cpu = cpu_seconds();
    pthread_barrier_wait(&go);
    long received = 0;
    while (received < count) {
        int ready;
        while ((ready = zmq_poll(items, sockets, -1)) < 0 && zmq_errno() == EINTR) {}
        ZCHECK(ready);
        for (int i = 0; i < sockets && ready > 0; i++) {
            if (!(items[i].revents & ZMQ_POLLIN)) continue;
            ready--;
            for (;;) {
                unsigned char buf[16];
                int rc = zmq_recv(items[i].socket, buf, sizeof buf, ZMQ_DONTWAIT);
                if (rc < 0 && zmq_errno() == EAGAIN) break;
                if (rc < 0 && zmq_errno() == EINTR) continue;
                ZCHECK(rc);
                if (rc != 4 || memcmp(buf, paced_message, 4)) fail("a polled message arrived with %d wrong bytes", rc);
                if (++received > count) fail("more messages arrived than were sent");
                advance(0, received);
            }
        }
    }
    cpu = cpu_seconds() - cpu;
    pthread_join(sender, NULL);
    zmq_close(push);
    for (int i = 0; i < sockets; i++) zmq_close(items[i].socket);
    pthread_barrier_destroy(&go);
    free(items);
    return cpu * 1e6 / (double)count;
}

/* ---- main -------------------------------------------------------------------------------- */

static bool is(const char *a, const char *b) { return strcmp(a, b) == 0; }

int main(int argc, char **argv) {
    if (argc > 0 && argv[0] && *argv[0]) {
        const char *slash = strrchr(argv[0], '/');
        program = slash ? slash + 1 : argv[0];
    }
    if (argc >= 2 && (is(argv[1], "-h") || is(argv[1], "--help"))) usage(NULL);
    const char *spin_env = getenv("ZMQ_REFERENCE_SPIN");
    spin = spin_env && is(spin_env, "1");

    if (argc >= 2 && is(argv[1], "paced-send")) {
        if (argc < 4) usage("paced-send needs RATE and at least one ENDPOINT");
        long rate = number(argv[2], 1, MAX_RATE, "RATE");
        void *ctx = zmq_ctx_new();
        if (!ctx) fail("zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
        paced_send(ctx, rate, argc - 3, argv + 3);
        zmq_ctx_term(ctx);
        return 0;
    }

    if (argc != 4) usage("expected WORKLOAD SIZE COUNT");
    const char *w = argv[1];
    bool sized = is(w, "thr-inproc") || is(w, "thr-ipc") || is(w, "thr-tcp") || is(w, "proxy-inproc") ||
                 is(w, "lat-inproc") || is(w, "lat-tcp");
    bool rated = is(w, "paced-inproc") || is(w, "paced-tcp") || is(w, "paced-recv-tcp") || is(w, "poll") ||
                 is(w, "churn-inproc");
    if (!sized && !rated) {
        char problem[256];
        snprintf(problem, sizeof problem, "unknown workload '%s'", w);
        usage(problem);
    }
    long size = sized ? number(argv[2], 0, MAX_SIZE, "SIZE") : number(argv[2], 1, MAX_RATE, "SIZE");
    bool one = strncmp(w, "lat-", 4) == 0 || strncmp(w, "paced-", 6) == 0 || is(w, "poll");
    long count = number(argv[3], one ? 1 : 2, strncmp(w, "paced-", 6) == 0 ? 100000 : LONG_MAX, "COUNT");

    if (is(w, "churn-inproc")) {
        /* WAITERS threads taking turns on one socket with receive timeouts: a libzmq socket must not
         * be used by two threads, so there is no raw-libzmq program to compare with. */
        fprintf(stderr, "workload=churn-inproc size=%ld count=%ld unsupported\n", size, count);
        fprintf(stderr, "%s: churn-inproc needs one socket shared by many waiters; a libzmq socket is not thread-safe\n", program);
        return 3;
    }
    const char *sender = NULL;
    if (is(w, "paced-recv-tcp")) {
        sender = getenv("ZMQ_BENCH_SENDER");
        if (!sender || !*sender) {
            fprintf(stderr, "%s: paced-recv-tcp needs ZMQ_BENCH_SENDER, the program to run as `$ZMQ_BENCH_SENDER "
                            "paced-send RATE ENDPOINT...` (this program will do; Benchmarks/compare sets it)\n", program);
            return 2;
        }
    }

    void *ctx = zmq_ctx_new();
    if (!ctx) fail("zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
    char ipc[128];
    snprintf(ipc, sizeof ipc, "ipc:///tmp/zmq-reference-%d", (int)getpid());
    if (strncmp(w, "thr-", 4) == 0) {
        const char *ep = is(w, "thr-inproc") ? "inproc://thr" : is(w, "thr-ipc") ? ipc : THR_TCP_ENDPOINT;
        watch(1, count);
        double rate = throughput(ctx, ep, true, ep, (size_t)size, count);
        /* libzmq leaves a bound ipc endpoint's socket file behind when the socket closes. */
        if (ep == ipc) unlink(ipc + strlen("ipc://"));
        printf("workload=%s size=%ld count=%ld msgs_per_s=%.0f\n", w, size, count, rate);
    } else if (is(w, "proxy-inproc")) {
        watch(1, count);
        double rate = proxied(ctx, (size_t)size, count);
        printf("workload=%s size=%ld count=%ld msgs_per_s=%.0f\n", w, size, count, rate);
    } else if (strncmp(w, "lat-", 4) == 0) {
        watch(1, count);
        double rtt = latency(ctx, is(w, "lat-inproc") ? "inproc://lat" : LAT_TCP_ENDPOINT, (size_t)size, count);
        printf("workload=%s size=%ld count=%ld usec_rtt=%.2f\n", w, size, count, rtt);
    } else if (is(w, "paced-inproc") || is(w, "paced-tcp")) {
        double us = paced(ctx, is(w, "paced-tcp"), size, (int)count);
        printf("workload=%s size=%ld count=%ld cpu_us_per_msg=%.2f\n", w, size, count, us);
    } else if (is(w, "paced-recv-tcp")) {
        paced_receive_only(ctx, size, (int)count, sender); /* prints its own line */
    } else {
        double us = polled(ctx, (int)size, count);
        printf("workload=%s size=%ld count=%ld cpu_us_per_msg=%.2f\n", w, size, count, us);
    }
    fflush(stdout);
    zmq_ctx_term(ctx);
    return 0;
}
