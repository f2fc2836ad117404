/* Handshake flood for the reliability tests: sends prepared WireGuard
 * messages from many spoofed IPv4 source addresses at a fixed rate through
 * a raw socket, and records every reply that comes back to those addresses.
 * Runs only inside the attacker namespace a test made, where a local route
 * for the spoofed range (`ip route add local SRC/16 dev lo`) lets one UDP
 * socket receive the replies to all of them.
 *
 *   flood MESSAGES MSG_LEN DST_IP DST_PORT SRC_BASE SRC_COUNT SRC_PORT RATE TOTAL LINGER_MS REPLIES_OUT
 *
 * Message k (0-based) is message k % count of the MESSAGES file (MSG_LEN bytes
 * each), sent from SRC_BASE + (k % SRC_COUNT), port SRC_PORT. After the last
 * one it keeps receiving for LINGER_MS. REPLIES_OUT gets one record per reply:
 * destination IPv4 (4 bytes, network order), arrival in ms since the first
 * send (4 bytes, little-endian), length (2 bytes, little-endian), the
 * datagram. A JSON summary goes to stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    uint8_t *buf;

    if (!f || fstat(fileno(f), &st) < 0)
        return NULL;
    buf = malloc((size_t)st.st_size + 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)st.st_size;
    return buf;
}

struct counts {
    long replies, by_type[5], other;
};

/* Drains the reply socket without blocking; records each reply. */
static void drain(int fd, FILE *out, struct counts *c, double start)
{
    uint8_t buf[2048];
    char control[256];

    for (;;) {
        struct sockaddr_in from;
        struct iovec iov = { buf, sizeof(buf) };
        struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = control, .msg_controllen = sizeof(control) };
        ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
        struct in_addr dst = { 0 };
        uint16_t len16;
        uint32_t at;

        if (n < 0)
            return;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
            if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO)
                dst = ((struct in_pktinfo *)CMSG_DATA(cm))->ipi_addr;
        }
        c->replies++;
        if (n > 0 && buf[0] >= 1 && buf[0] <= 4)
            c->by_type[buf[0]]++;
        else
            c->other++;
        len16 = (uint16_t)n;
        at = (uint32_t)(now_ms() - start);
        fwrite(&dst.s_addr, 4, 1, out);
        for (int i = 0; i < 4; i++)
            fputc((at >> (8 * i)) & 255, out);
        fputc(len16 & 255, out);
        fputc(len16 >> 8, out);
        fwrite(buf, 1, (size_t)n, out);
    }
}

int main(int argc, char **argv)
{
    size_t file_len, msg_len, count;
    uint8_t *messages;
    struct in_addr dst_ip, src_base;
    long src_count, total, rate, linger_ms, sent = 0, send_errors = 0;
    int dst_port, src_port, raw, rx, one = 1, rcvbuf = 8 << 20;
    struct sockaddr_in dst = { .sin_family = AF_INET }, bind_addr = { .sin_family = AF_INET };
    uint8_t packet[2048];
    struct counts c = { 0 };
    FILE *out;
    double start, end;

    if (argc != 12) {
        fprintf(stderr, "usage: flood MESSAGES MSG_LEN DST_IP DST_PORT SRC_BASE SRC_COUNT SRC_PORT RATE TOTAL LINGER_MS REPLIES_OUT\n");
        return 2;
    }
    messages = read_file(argv[1], &file_len);
    msg_len = (size_t)atol(argv[2]);
    if (!messages || msg_len == 0 || msg_len > 1400 || file_len < msg_len) {
        fprintf(stderr, "flood: cannot use %s with messages of %s bytes\n", argv[1], argv[2]);
        return 2;
    }
    count = file_len / msg_len;
    if (!inet_aton(argv[3], &dst_ip) || !inet_aton(argv[5], &src_base)) {
        fprintf(stderr, "flood: bad address\n");
        return 2;
    }
    dst_port = atoi(argv[4]);
    src_count = atol(argv[6]);
    src_port = atoi(argv[7]);
    rate = atol(argv[8]);
    total = atol(argv[9]);
    linger_ms = atol(argv[10]);
    if (src_count < 1 || rate < 1 || total < 0) {
        fprintf(stderr, "flood: bad counts\n");
        return 2;
    }
    out = fopen(argv[11], "wb");
    raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW); /* IPPROTO_RAW implies IP_HDRINCL */
    rx = socket(AF_INET, SOCK_DGRAM, 0);
    if (!out || raw < 0 || rx < 0) {
        perror("flood: setup");
        return 1;
    }
    setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
    setsockopt(rx, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    bind_addr.sin_port = htons((uint16_t)src_port);
    if (bind(rx, (struct sockaddr *)&bind_addr, sizeof(bind_addr)) < 0) {
        perror("flood: bind");
        return 1;
    }
    dst.sin_addr = dst_ip;

    struct iphdr *ip = (struct iphdr *)packet;
    struct udphdr *udp = (struct udphdr *)(packet + sizeof(*ip));
    memset(packet, 0, sizeof(*ip) + sizeof(*udp));
    ip->version = 4;
    ip->ihl = 5;
    ip->ttl = 64;
    ip->protocol = IPPROTO_UDP;
    ip->daddr = dst_ip.s_addr;
    ip->tot_len = htons((uint16_t)(sizeof(*ip) + sizeof(*udp) + msg_len));
    udp->source = htons((uint16_t)src_port);
    udp->dest = htons((uint16_t)dst_port);
    udp->len = htons((uint16_t)(sizeof(*udp) + msg_len));
    udp->check = 0; /* no checksum: allowed for UDP over IPv4 */

    start = now_ms();
    while (sent < total) {
        long due = (long)((now_ms() - start) * (double)rate / 1000.0) + 1;
        if (due > total)
            due = total;
        while (sent < due) {
            ip->saddr = htonl(ntohl(src_base.s_addr) + (uint32_t)(sent % src_count));
            ip->check = 0; /* the kernel fills it in */
            memcpy(packet + sizeof(*ip) + sizeof(*udp), messages + (size_t)(sent % (long)count) * msg_len, msg_len);
            if (sendto(raw, packet, sizeof(*ip) + sizeof(*udp) + msg_len, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
                send_errors++;
            sent++;
        }
        drain(rx, out, &c, start);
        struct timespec pause = { 0, 200000 };
        nanosleep(&pause, NULL);
    }
    end = now_ms();
    while (now_ms() - end < (double)linger_ms) {
        struct timespec pause = { 0, 1000000 };
        drain(rx, out, &c, start);
        nanosleep(&pause, NULL);
    }
    drain(rx, out, &c, start);
    fclose(out);
    printf("{\"sent\":%ld,\"sendErrors\":%ld,\"sendMs\":%.1f,\"replies\":%ld,\"initiations\":%ld,\"responses\":%ld,"
           "\"cookieReplies\":%ld,\"transport\":%ld,\"other\":%ld}\n",
           sent, send_errors, end - start, c.replies, c.by_type[1], c.by_type[2], c.by_type[3], c.by_type[4], c.other);
    return 0;
}
