/* Process helpers QuickJS's os module lacks: daemonizing, randomness,
 * wall-clock time, umask. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wgts_native.h"

int wgts_fork(void)
{
    pid_t pid = fork();
    return pid < 0 ? -errno : (int)pid;
}

int wgts_setsid(void)
{
    pid_t sid = setsid();
    return sid < 0 ? -errno : (int)sid;
}

/* For kernels older than getrandom(2) (3.17). */
static int urandom_fill(uint8_t *p, size_t len)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    size_t done = 0;

    if (fd < 0)
        return -errno;
    while (done < len) {
        ssize_t n = read(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = n < 0 ? -errno : -EIO;
            close(fd);
            return err;
        }
        done += (size_t)n;
    }
    close(fd);
    return 0;
}

int wgts_getrandom(uint8_t *p, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSYS)
                return urandom_fill(p + done, len - done);
            return -errno;
        }
        done += (size_t)n;
    }
    return 0;
}

double wgts_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)(ts.tv_nsec / 1000000);
}

int wgts_umask(int mask)
{
    return (int)umask((mode_t)(mask & 0777));
}
