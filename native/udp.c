/* UDP sockets with batched receive/send and source-address memory
 * (IP_PKTINFO / IPV6_PKTINFO), so replies leave from the address the peer
 * wrote to. The msghdr arrays live in static storage: one event loop
 * thread, no allocation per packet. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wgts_native.h"

union sockaddr_any {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
};

/* room for one pktinfo control message of either family */
union control_buf {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

struct batch {
    struct mmsghdr msgs[WGTS_MAX_BATCH];
    struct iovec iov[WGTS_MAX_BATCH];
    union sockaddr_any names[WGTS_MAX_BATCH];
    union control_buf control[WGTS_MAX_BATCH];
};

static struct batch recv_batch, send_batch;

/* Bursts from a fast LAN arrive faster than one QuickJS thread drains them;
 * the default socket buffer (about 200 KiB) then drops packets in bursts.
 * 1 MiB per direction is charged to the kernel only while it holds packets,
 * which a 64 MiB router can afford. FORCE (root) exceeds net.core.*mem_max;
 * without it the kernel clamps to that maximum. Best effort: a failure here
 * only costs throughput. */
#define SOCKET_BUFFER_BYTES (1 << 20)

static void raise_socket_buffers(int fd)
{
    int size = SOCKET_BUFFER_BYTES;

    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

int wgts_udp_bind(int family, int port, uint32_t fwmark)
{
    union sockaddr_any addr;
    socklen_t addr_len;
    int fd, on = 1;

    if ((family != 4 && family != 6) || port < 0 || port > 65535)
        return -EINVAL;
    fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    memset(&addr, 0, sizeof(addr));
    if (family == 4) {
        addr.in4.sin_family = AF_INET;
        addr.in4.sin_port = htons((uint16_t)port);
        addr_len = sizeof(addr.in4);
        if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) < 0)
            goto fail;
    } else {
        addr.in6.sin6_family = AF_INET6;
        addr.in6.sin6_port = htons((uint16_t)port);
        addr_len = sizeof(addr.in6);
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0 ||
            setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) < 0)
            goto fail;
    }
    if (fwmark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
        goto fail;
    raise_socket_buffers(fd);
    if (bind(fd, &addr.sa, addr_len) < 0)
        goto fail;
    return fd;
fail:
    on = -errno;
    close(fd);
    return on;
}

int wgts_local_port(int fd)
{
    union sockaddr_any addr;
    socklen_t len = sizeof(addr);

    if (getsockname(fd, &addr.sa, &len) < 0)
        return -errno;
    if (addr.sa.sa_family == AF_INET)
        return ntohs(addr.in4.sin_port);
    if (addr.sa.sa_family == AF_INET6)
        return ntohs(addr.in6.sin6_port);
    return -EAFNOSUPPORT;
}

int wgts_set_fwmark(int fd, uint32_t mark)
{
    return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0 ? -errno : 0;
}

/* Whether control message c carries `size` data bytes inside the control
 * area. The kernel writes whole pktinfo messages; a shorter one is skipped
 * rather than read past (found by fuzz/udp.c). */
static int cmsg_holds(const struct msghdr *msg, const struct cmsghdr *c, size_t size)
{
    const char *end = (const char *)msg->msg_control + msg->msg_controllen;
    return c->cmsg_len >= CMSG_LEN(size) && (const char *)CMSG_DATA(c) + size <= end;
}

/* Writes one received datagram's description into meta[0..WGTS_META_STRIDE). */
static void describe_received(int32_t *meta, const struct msghdr *msg, unsigned int len)
{
    const union sockaddr_any *from = msg->msg_name;
    struct cmsghdr *c;

    memset(meta, 0, WGTS_META_STRIDE * sizeof(int32_t));
    meta[0] = (int32_t)len;
    if (from->sa.sa_family == AF_INET) {
        meta[1] = 4;
        meta[2] = ntohs(from->in4.sin_port);
        memcpy(meta + 3, &from->in4.sin_addr, 4);
    } else if (from->sa.sa_family == AF_INET6) {
        meta[1] = 6;
        meta[2] = ntohs(from->in6.sin6_port);
        memcpy(meta + 3, &from->in6.sin6_addr, 16);
    }
    for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
            cmsg_holds(msg, c, sizeof(struct in_pktinfo))) {
            struct in_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof(info));
            /* spec_dst is the address a reply should come from */
            memcpy(meta + 8, &info.ipi_spec_dst, 4);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   cmsg_holds(msg, c, sizeof(struct in6_pktinfo))) {
            struct in6_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof(info));
            memcpy(meta + 8, &info.ipi6_addr, 16);
            meta[7] = (int32_t)info.ipi6_ifindex;
        }
    }
}

int wgts_udp_recv(int fd, uint8_t *buf, size_t buf_len, int slot_size, int headroom,
                  int count, int32_t *meta, size_t meta_len)
{
    int i, n;

    if (slot_size <= 0 || headroom < 0 || headroom >= slot_size || count < 0 ||
        (uint64_t)count * (uint64_t)slot_size > buf_len ||
        (uint64_t)count * WGTS_META_STRIDE > meta_len)
        return -EINVAL;
    if (count > WGTS_MAX_BATCH)
        count = WGTS_MAX_BATCH;
    if (count == 0)
        return 0;
    for (i = 0; i < count; i++) {
        struct msghdr *msg = &recv_batch.msgs[i].msg_hdr;
        recv_batch.iov[i].iov_base = buf + (size_t)i * (size_t)slot_size + (size_t)headroom;
        recv_batch.iov[i].iov_len = (size_t)(slot_size - headroom);
        msg->msg_name = &recv_batch.names[i];
        msg->msg_namelen = sizeof(recv_batch.names[i]);
        msg->msg_iov = &recv_batch.iov[i];
        msg->msg_iovlen = 1;
        msg->msg_control = &recv_batch.control[i];
        msg->msg_controllen = sizeof(recv_batch.control[i]);
        msg->msg_flags = 0;
    }
    n = recvmmsg(fd, recv_batch.msgs, (unsigned int)count, MSG_DONTWAIT, NULL);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    for (i = 0; i < n; i++)
        describe_received(meta + (size_t)i * WGTS_META_STRIDE, &recv_batch.msgs[i].msg_hdr,
                          recv_batch.msgs[i].msg_len);
    return n;
}

static int all_zero(const int32_t *p, int words)
{
    int i;
    for (i = 0; i < words; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

/* Fills msg's destination and (when a local address or ifindex is set) its
 * pktinfo control message from one endpoint description. */
static int prepare_send(struct msghdr *msg, union sockaddr_any *to, union control_buf *control,
                        const int32_t *endpoint)
{
    int family = endpoint[1], port = endpoint[2], ifindex = endpoint[7];
    const int32_t *local = endpoint + 8;
    struct cmsghdr *c;

    if (port <= 0 || port > 65535 || ifindex < 0)
        return -EINVAL;
    memset(to, 0, sizeof(*to));
    msg->msg_name = to;
    msg->msg_control = NULL;
    msg->msg_controllen = 0;
    msg->msg_flags = 0;
    if (family == 4) {
        to->in4.sin_family = AF_INET;
        to->in4.sin_port = htons((uint16_t)port);
        memcpy(&to->in4.sin_addr, endpoint + 3, 4);
        msg->msg_namelen = sizeof(to->in4);
        if (all_zero(local, 1) && ifindex == 0)
            return 0;
        struct in_pktinfo info;
        memset(&info, 0, sizeof(info));
        memcpy(&info.ipi_spec_dst, local, 4);
        info.ipi_ifindex = ifindex;
        msg->msg_control = control;
        msg->msg_controllen = CMSG_SPACE(sizeof(info));
        c = CMSG_FIRSTHDR(msg);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(info));
        memcpy(CMSG_DATA(c), &info, sizeof(info));
        return 0;
    }
    if (family == 6) {
        to->in6.sin6_family = AF_INET6;
        to->in6.sin6_port = htons((uint16_t)port);
        memcpy(&to->in6.sin6_addr, endpoint + 3, 16);
        /* a link-local peer is only reachable through the interface it came in on */
        if (IN6_IS_ADDR_LINKLOCAL(&to->in6.sin6_addr))
            to->in6.sin6_scope_id = (uint32_t)ifindex;
        msg->msg_namelen = sizeof(to->in6);
        if (all_zero(local, 4) && ifindex == 0)
            return 0;
        struct in6_pktinfo info;
        memset(&info, 0, sizeof(info));
        memcpy(&info.ipi6_addr, local, 16);
        info.ipi6_ifindex = (unsigned int)ifindex;
        msg->msg_control = control;
        msg->msg_controllen = CMSG_SPACE(sizeof(info));
        c = CMSG_FIRSTHDR(msg);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(info));
        memcpy(CMSG_DATA(c), &info, sizeof(info));
        return 0;
    }
    return -EINVAL;
}

/* IPv4 reports a source address that is no longer ours as ENETUNREACH
 * (IPv6 as EINVAL); callers get EINVAL for both, their cue to clear it. */
static int send_error(const struct msghdr *msg)
{
    int err = errno;
    if (err == ENETUNREACH && msg->msg_controllen != 0)
        err = EINVAL;
    return -err;
}

int wgts_udp_send(int fd, const uint8_t *p, size_t len, const int32_t *endpoint)
{
    struct msghdr *msg = &send_batch.msgs[0].msg_hdr;
    int err;
    ssize_t n;

    err = prepare_send(msg, &send_batch.names[0], &send_batch.control[0], endpoint);
    if (err < 0)
        return err;
    send_batch.iov[0].iov_base = (void *)p;
    send_batch.iov[0].iov_len = len;
    msg->msg_iov = &send_batch.iov[0];
    msg->msg_iovlen = 1;
    n = sendmsg(fd, msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    return n < 0 ? send_error(msg) : (int)n;
}

int wgts_udp_send_batch(int fd, const uint8_t *buf, const int32_t *offs, const int32_t *lens,
                        const int32_t *meta, const int32_t *meta_at, int count)
{
    int i, err;

    if (count > WGTS_MAX_BATCH)
        count = WGTS_MAX_BATCH;
    if (count <= 0)
        return 0;
    for (i = 0; i < count; i++) {
        struct msghdr *msg = &send_batch.msgs[i].msg_hdr;
        err = prepare_send(msg, &send_batch.names[i], &send_batch.control[i], meta + meta_at[i]);
        if (err < 0)
            return err;
        send_batch.iov[i].iov_base = (void *)(buf + offs[i]);
        send_batch.iov[i].iov_len = (size_t)lens[i];
        msg->msg_iov = &send_batch.iov[i];
        msg->msg_iovlen = 1;
    }
    err = sendmmsg(fd, send_batch.msgs, (unsigned int)count, MSG_DONTWAIT | MSG_NOSIGNAL);
    return err < 0 ? send_error(&send_batch.msgs[0].msg_hdr) : err;
}
