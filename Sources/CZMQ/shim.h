#ifndef SWIFT_ZMQ_SHIM_H
#define SWIFT_ZMQ_SHIM_H

// Never define ZMQ_BUILD_DRAFT_API: Debian's libzmq does not export the draft functions,
// so the program would not link. The draft socket type numbers are stable and accepted by
// zmq_socket whenever the library was built with draft support, so they are defined here.
#include <zmq.h>

// epoll is not part of Swift's Glibc module; the library's reactor waits on ZMQ_FD with it.
#include <sys/epoll.h>

// timerfd is not part of Swift's Glibc module either; the reactor ends timed-out waits with one.
#include <sys/timerfd.h>

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
