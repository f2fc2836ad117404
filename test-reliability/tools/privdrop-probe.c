/* What a wgts daemon could still do after dropping root, measured instead
 * of guessed: as root it opens what wgts opens at start-up (a TUN device,
 * brought up; a UDP socket; a listening unix socket in a root-owned
 * directory), then becomes uid/gid 65534 keeping either no capability or
 * only CAP_NET_ADMIN, and tries each operation wgts performs later. Prints
 * one line per operation: "name ok" or "name <errno name>".
 *
 *   privdrop-probe IFNAME SOCKET_DIR none|net_admin
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static void report(const char *name, int rc)
{
    printf("%s %s\n", name, rc < 0 ? strerrorname_np(errno) : "ok");
}

static int if_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

    strncpy(ifr->ifr_name, ifname, IFNAMSIZ - 1);
    rc = ioctl(fd, req, ifr);
    if (rc < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    close(fd);
    return 0;
}

static int bind_udp(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    struct ifreq ifr = { 0 };
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct caps[2] = { { 0 } };
    int tun, udp, uapi, mark = 42;

    if (argc != 4) {
        fprintf(stderr, "usage: privdrop-probe IFNAME SOCKET_DIR none|net_admin\n");
        return 2;
    }
    /* ---- as root, what wgts does at start-up ---- */
    tun = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
    if (tun < 0 || ioctl(tun, TUNSETIFF, &ifr) < 0) {
        perror("TUN");
        return 1;
    }
    memset(&ifr, 0, sizeof(ifr));
    if_ioctl(argv[1], SIOCGIFFLAGS, &ifr);
    ifr.ifr_flags |= IFF_UP;
    if (if_ioctl(argv[1], SIOCSIFFLAGS, &ifr) < 0) {
        perror("up");
        return 1;
    }
    udp = bind_udp(0);
    uapi = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(un.sun_path, sizeof(un.sun_path), "%s/%s.sock", argv[2], argv[1]);
    unlink(un.sun_path);
    if (udp < 0 || uapi < 0 || bind(uapi, (struct sockaddr *)&un, sizeof(un)) < 0 || listen(uapi, 4) < 0 ||
        chmod(un.sun_path, 0600) < 0) {
        perror("sockets");
        return 1;
    }

    /* ---- drop to nobody, keeping CAP_NET_ADMIN or nothing ---- */
    if (prctl(PR_SET_KEEPCAPS, 1) < 0 || setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0) {
        perror("drop");
        return 1;
    }
    if (strcmp(argv[3], "net_admin") == 0)
        caps[0].effective = caps[0].permitted = 1u << CAP_NET_ADMIN;
    if (syscall(SYS_capset, &hdr, caps) < 0) {
        perror("capset");
        return 1;
    }
    printf("uid %d\n", (int)getuid());

    /* ---- what wgts does afterwards ---- */
    unsigned char packet[28] = { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 9, 9, 1, 10, 9, 9, 2 };
    unsigned char buf[2048];
    report("tun_write", (int)write(tun, packet, sizeof(packet)));
    ssize_t n = read(tun, buf, sizeof(buf));
    report("tun_read", n < 0 && errno == EAGAIN ? 0 : (int)n);
    struct sockaddr_in lo = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    report("udp_send", (int)sendto(udp, "x", 1, 0, (struct sockaddr *)&lo, sizeof(lo)));
    report("so_mark", setsockopt(udp, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)));
    int high = bind_udp(40123);
    report("bind_port_40123", high);
    int low = bind_udp(853);
    report("bind_port_853", low);
    memset(&ifr, 0, sizeof(ifr));
    report("mtu_get", if_ioctl(argv[1], SIOCGIFMTU, &ifr));
    ifr.ifr_mtu = 1400;
    report("mtu_set", if_ioctl(argv[1], SIOCSIFMTU, &ifr));
    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    report("uapi_connect_as_nobody", connect(client, (struct sockaddr *)&un, sizeof(un)));
    report("uapi_unlink", unlink(un.sun_path));
    return 0;
}
