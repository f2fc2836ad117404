/* The C side of the wgts_native QuickJS module: plain C functions that
 * module.c binds to JS. Every function returns a negative errno on failure,
 * never touches memory outside the (pointer, length) it is given, and keeps
 * no per-call heap allocation. See wgts_native.d.ts for the JS contract. */
#ifndef WGTS_NATIVE_H
#define WGTS_NATIVE_H

#include <stddef.h>
#include <stdint.h>

/* int32 slots per endpoint in the meta arrays (layout in wgts_native.d.ts) */
#define WGTS_META_STRIDE 12
/* datagrams per recvmmsg/sendmmsg call; larger requests are clamped */
#define WGTS_MAX_BATCH 64

/* tun.c */
int wgts_tun_open(const char *name);
int wgts_set_mtu(const char *name, int mtu);
int wgts_get_mtu(const char *name);
int wgts_if_index(const char *name);
int wgts_fd_read(int fd, uint8_t *p, size_t len);
int wgts_fd_write(int fd, const uint8_t *p, size_t len);

/* udp.c */
int wgts_udp_bind(int family, int port, uint32_t fwmark);
int wgts_local_port(int fd);
int wgts_set_fwmark(int fd, uint32_t mark);
/* buf holds count slots of slot_size bytes; meta holds count entries */
int wgts_udp_recv(int fd, uint8_t *buf, size_t buf_len, int slot_size, int headroom,
                  int count, int32_t *meta, size_t meta_len);
/* endpoint = meta[0..WGTS_META_STRIDE) */
int wgts_udp_send(int fd, const uint8_t *p, size_t len, const int32_t *endpoint);
/* arrays already checked by the caller: entry i is buf[offs[i], offs[i]+lens[i]) to meta + meta_at[i] */
int wgts_udp_send_batch(int fd, const uint8_t *buf, const int32_t *offs, const int32_t *lens,
                        const int32_t *meta, const int32_t *meta_at, int count);

/* aead_batch.c: ChaCha20-Poly1305 over a batch, on several cores.
 * Job i is jobs[i * WGTS_AEAD_JOB_STRIDE ...] = { off, len, counter_lo,
 * counter_hi, result } over buf, with its key at keys + 32 * i. Seal: len is
 * the plaintext, result len + 16. Open: len includes the tag, result the
 * plaintext length or -1. All jobs are checked first (-EINVAL changes
 * nothing); returns count. */
#define WGTS_AEAD_JOB_STRIDE 5
#define WGTS_MAX_CRYPTO_THREADS 8
int wgts_aead_batch(int open, uint8_t *buf, size_t buf_len, int32_t *jobs, const uint8_t *keys, int count);
/* wanted > 0 sets the number of threads (incl. the caller); returns the setting */
int wgts_crypto_threads(int wanted);
int wgts_cpu_count(void);

/* unixsock.c */
int wgts_unix_listen(const char *path);
int wgts_unix_accept(int fd);
int wgts_unix_connect(const char *path);
int64_t wgts_peer_uid(int fd);
int wgts_sock_read(int fd, uint8_t *p, size_t len);
int wgts_sock_write(int fd, const uint8_t *p, size_t len);

/* process.c */
int wgts_fork(void);
int wgts_setsid(void);
int wgts_getrandom(uint8_t *p, size_t len);
double wgts_wall_ms(void);
int wgts_umask(int mask);

#endif
