/* TUN device and interface ioctls. Constants come from the kernel headers:
 * TUNSETIFF has a different number on MIPS than on x86 and ARM. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wgts_native.h"

/* The kernel would expand a '%' (as in "tun%d"); we want exactly this name. */
static int valid_ifname(const char *name)
{
    size_t len = strlen(name);
    return len > 0 && len < IFNAMSIZ && strchr(name, '%') == NULL;
}

static void set_ifr_name(struct ifreq *ifr, const char *name)
{
    memset(ifr, 0, sizeof(*ifr));
    memcpy(ifr->ifr_name, name, strlen(name));
}

int wgts_tun_open(const char *name)
{
    struct ifreq ifr;
    int fd, err;

    if (!valid_ifname(name))
        return -EINVAL;
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    set_ifr_name(&ifr, name);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        err = errno;
        close(fd);
        /* The kernel says EINVAL when the name belongs to a link that is not
         * a compatible TUN; EEXIST tells the user what actually happened. */
        if (err == EINVAL && if_nametoindex(name) != 0)
            err = EEXIST;
        return -err;
    }
    if (strncmp(ifr.ifr_name, name, IFNAMSIZ) != 0) {
        close(fd);
        return -EINVAL;
    }
    return fd;
}

static int mtu_ioctl(const char *name, unsigned long request, int *mtu)
{
    struct ifreq ifr;
    int sock, err = 0;

    if (!valid_ifname(name))
        return -EINVAL;
    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return -errno;
    set_ifr_name(&ifr, name);
    ifr.ifr_mtu = *mtu;
    if (ioctl(sock, request, &ifr) < 0)
        err = -errno;
    else
        *mtu = ifr.ifr_mtu;
    close(sock);
    return err;
}

int wgts_set_mtu(const char *name, int mtu)
{
    if (mtu <= 0)
        return -EINVAL;
    return mtu_ioctl(name, SIOCSIFMTU, &mtu);
}

int wgts_get_mtu(const char *name)
{
    int mtu = 0;
    int err = mtu_ioctl(name, SIOCGIFMTU, &mtu);
    return err < 0 ? err : mtu;
}

int wgts_if_index(const char *name)
{
    unsigned int index;

    if (!valid_ifname(name))
        return -EINVAL;
    index = if_nametoindex(name);
    if (index == 0)
        return errno == ENODEV || errno == ENXIO || errno == 0 ? -ENODEV : -errno;
    return (int)index;
}

int wgts_fd_read(int fd, uint8_t *p, size_t len)
{
    ssize_t n = read(fd, p, len);
    return n < 0 ? -errno : (int)n;
}

int wgts_fd_write(int fd, const uint8_t *p, size_t len)
{
    ssize_t n = write(fd, p, len);
    return n < 0 ? -errno : (int)n;
}
