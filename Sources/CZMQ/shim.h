#ifndef SWIFT_ZMQ_SHIM_H
#define SWIFT_ZMQ_SHIM_H

// Never define ZMQ_BUILD_DRAFT_API: Debian's libzmq does not export the draft functions,
// so the program would not link. The draft socket type numbers are stable and accepted by
// zmq_socket whenever the library was built with draft support, so they are defined here.
//
// Without libzmq's header the build stops here, saying what to install (SwiftPM prints the
// package's `providers` only when a pkg-config lookup fails, and this target has none).
#if __has_include(<zmq.h>)
#include <zmq.h>
#else
#error "swift-zmq needs libzmq 4.3 and its header zmq.h: apt-get install -y libzmq3-dev (Debian, Ubuntu) or brew install zeromq (Homebrew)"
#endif

// epoll is not part of Swift's Glibc module; the library's reactor waits on ZMQ_FD with it.
#include <sys/epoll.h>

// timerfd is not part of Swift's Glibc module either; the reactor ends timed-out waits with one.
#include <sys/timerfd.h>

// eventfd, for the same reason: it wakes the reactor when a task is queued on ReactorExecutor.
#include <sys/eventfd.h>

// prctl is variadic, which Swift cannot call: the reactor sets its thread's timer slack through this.
#include <sys/prctl.h>
static inline int swift_zmq_set_timer_slack(unsigned long nanoseconds) {
    return prctl(PR_SET_TIMERSLACK, nanoseconds, 0UL, 0UL, 0UL);
}

// ppoll needs _GNU_SOURCE, which Swift's Glibc module is not built with: the reactor thread waits on
// one socket's ZMQ_FD and its own epoll set at once through this (Reactor.waitHere). `nanoseconds`
// < 0 waits for ever.
#include <poll.h>
#include <time.h>
int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const void *sigmask);
static inline int swift_zmq_ppoll(struct pollfd *fds, unsigned long count, long long nanoseconds) {
    if (nanoseconds < 0) return ppoll(fds, count, 0, 0);
    struct timespec timeout = { (time_t)(nanoseconds / 1000000000LL), (long)(nanoseconds % 1000000000LL) };
    return ppoll(fds, count, &timeout, 0);
}

// The processor's spin-wait hint, which Swift has no name for: a spin's first tries use it instead
// of a system call (see SpinPolicy.yieldsAfter and SpinPolicy.retryGap).
static inline void swift_zmq_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

#ifndef ZMQ_SERVER
#define ZMQ_SERVER 12
#define ZMQ_CLIENT 13
#define ZMQ_RADIO 14
#define ZMQ_DISH 15
#define ZMQ_GATHER 16
#define ZMQ_SCATTER 17
#define ZMQ_DGRAM 18
#define ZMQ_PEER 19
#define ZMQ_CHANNEL 20
#endif

#endif
