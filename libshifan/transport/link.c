/* link.c - what both ends of the link share: stream names, the socket
 * options of every link socket, and envelopes (link.h, link_internal.h). */
#include "transport/link.h"
#include "base/error.h"
#include "transport/codec.h"
#include "transport/link_internal.h"

#include <stdio.h>
#include <zmq.h>

const char *link_state_name(link_state_t state)
{
    switch (state) {
    case LINK_CONNECTING:
        return "connecting";
    case LINK_UP:
        return "up";
    case LINK_REFUSED_KEY:
        return "refused";
    }
    return "unknown";
}

void link_down_stream(char *out, size_t size, const char *child_code)
{
    snprintf(out, size, "d:%.12s", child_code);
}

void link_inbound_up_stream(char *out, size_t size, const char *child_code)
{
    snprintf(out, size, "u:%.12s", child_code);
}

void link_envelope_init(Shifan__Envelope *envelope)
{
    shifan__envelope__init(envelope);
    envelope->version = CODEC_WIRE_VERSION;
}

int link_set_int(void *socket, int option, int value)
{
    return zmq_setsockopt(socket, option, &value, sizeof value);
}

int link_common_options(void *socket)
{
    int64_t maxmsg = CODEC_MAX_FRAME + 1024; /* an int64_t, or libzmq says EINVAL (Z9) */
    /* ZMTP heartbeats only as a backstop: libzmq clears its timeout only when
     * a whole message arrives (Z8), so on a slow link a short timeout kills
     * every large frame. Liveness is judged by the link's own adaptive
     * timers, and by TCP for data it cannot deliver (TCP_MAXRT). */
    if (link_set_int(socket, ZMQ_LINGER, 0) || /* LMDB holds the truth (Z5) */
        link_set_int(socket, ZMQ_HEARTBEAT_IVL, LINK_HEARTBEAT_MS) ||
        link_set_int(socket, ZMQ_HEARTBEAT_TIMEOUT, LINK_ZMTP_TIMEOUT_MS) ||
        link_set_int(socket, ZMQ_HEARTBEAT_TTL, LINK_ZMTP_TIMEOUT_MS) ||
        link_set_int(socket, ZMQ_TCP_MAXRT, LINK_TCP_MAXRT_MS) ||
        zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg))
        return SF_ESTATE;
    return 0;
}
