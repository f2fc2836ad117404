/* Unix stream sockets: the UAPI listener (/var/run/wireguard/IFNAME.sock)
 * and clients such as ubus. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "wgts_native.h"

static int make_address(struct sockaddr_un *addr, const char *path)
{
    size_t len = strlen(path);

    if (len == 0)
        return -EINVAL;
    if (len >= sizeof(addr->sun_path))
        return -ENAMETOOLONG;
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path, path, len);
    return 0;
}

static int bind_private(int fd, const struct sockaddr_un *addr)
{
    /* umask keeps the socket private from the moment it appears */
    mode_t old = umask(077);
    int rc = bind(fd, (const struct sockaddr *)addr, sizeof(*addr));
    int err = errno;
    umask(old);
    return rc < 0 ? -err : 0;
}

/* Whether a server answers at addr. A full backlog (EAGAIN) counts as alive. */
static int is_alive(const struct sockaddr_un *addr)
{
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int alive;

    if (probe < 0)
        return 1;
    alive = connect(probe, (const struct sockaddr *)addr, sizeof(*addr)) == 0 || errno == EAGAIN ||
            errno == EINPROGRESS;
    close(probe);
    return alive;
}

int wgts_unix_listen(const char *path)
{
    struct sockaddr_un addr;
    struct stat st;
    int fd, err;

    err = make_address(&addr, path);
    if (err < 0)
        return err;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    err = bind_private(fd, &addr);
    if (err == -EADDRINUSE) {
        /* a socket file nobody listens on is left over from a crash */
        if (is_alive(&addr) || lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
            goto fail;
        if (unlink(path) < 0 && errno != ENOENT) {
            err = -errno;
            goto fail;
        }
        err = bind_private(fd, &addr);
    }
    if (err < 0)
        goto fail;
    if (chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
        err = -errno;
        unlink(path);
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return err;
}

int wgts_unix_accept(int fd)
{
    int conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return conn < 0 ? -errno : conn;
}

int wgts_unix_connect(const char *path)
{
    struct sockaddr_un addr;
    int fd, flags, err;

    err = make_address(&addr, path);
    if (err < 0)
        return err;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        (flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

int64_t wgts_peer_uid(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return -errno;
    return (int64_t)cred.uid;
}

int wgts_sock_read(int fd, uint8_t *p, size_t len)
{
    ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
    return n < 0 ? -errno : (int)n;
}

int wgts_sock_write(int fd, const uint8_t *p, size_t len)
{
    ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    return n < 0 ? -errno : (int)n;
}
