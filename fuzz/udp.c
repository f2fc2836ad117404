/* libFuzzer harness for the parsing in native/udp.c: the description of a
 * received datagram (source address and IP_PKTINFO/IPV6_PKTINFO control
 * messages) and the checks on an endpoint before sending. udp.c is included
 * so its static functions can be reached; no socket is opened.
 * Input: family selector[1] address bytes[28] control bytes... / endpoint[48].
 * The control area is an exactly sized heap copy, so ASan sees a read past a
 * control message that claims more than it holds. */
#include "../native/udp.c"

#include <stdio.h>
#include <stdlib.h>

#define REQUIRE(cond, what)                                      \
	do {                                                     \
		if (!(cond)) {                                   \
			fprintf(stderr, "property failed: %s\n", what); \
			abort();                                 \
		}                                                \
	} while (0)

static void fuzz_describe(const uint8_t *data, size_t size)
{
	union sockaddr_any from;
	struct msghdr msg;
	int32_t meta[WGTS_META_STRIDE + 1];
	size_t control_len;
	uint8_t *control;

	if (size < 1 + sizeof(from))
		return;
	memset(&msg, 0, sizeof(msg));
	memcpy(&from, data + 1, sizeof(from));
	from.sa.sa_family = (sa_family_t[]){AF_INET, AF_INET6, AF_UNIX, 0}[data[0] & 3];
	data += 1 + sizeof(from);
	size -= 1 + sizeof(from);
	control_len = size > sizeof(union control_buf) * 2 ? sizeof(union control_buf) * 2 : size;
	control = malloc(control_len ? control_len : 1);
	if (control == NULL)
		abort();
	memcpy(control, data, control_len);
	msg.msg_name = &from;
	msg.msg_namelen = sizeof(from);
	msg.msg_control = control_len ? control : NULL;
	msg.msg_controllen = control_len;
	meta[WGTS_META_STRIDE] = 0x5a5a5a5a;
	describe_received(meta, &msg, (unsigned int)size);
	REQUIRE(meta[1] == 0 || meta[1] == 4 || meta[1] == 6, "family is 0, 4 or 6");
	REQUIRE(meta[2] >= 0 && meta[2] <= 65535, "port in range");
	REQUIRE(meta[WGTS_META_STRIDE] == 0x5a5a5a5a, "wrote past its meta entry");
	free(control);
}

static void fuzz_prepare(const uint8_t *data, size_t size)
{
	int32_t endpoint[WGTS_META_STRIDE];
	struct msghdr msg;
	union sockaddr_any to;
	union control_buf control;
	int rc;

	if (size < sizeof(endpoint))
		return;
	memcpy(endpoint, data, sizeof(endpoint));
	/* Half the time a plausible family, so the deeper paths run. */
	if (data[0] & 0x80)
		endpoint[1] = data[1] & 1 ? 6 : 4;
	memset(&msg, 0, sizeof(msg));
	rc = prepare_send(&msg, &to, &control, endpoint);
	if (rc < 0) {
		REQUIRE(rc == -EINVAL, "only EINVAL");
		return;
	}
	REQUIRE(endpoint[2] >= 1 && endpoint[2] <= 65535, "accepted a bad port");
	REQUIRE(msg.msg_namelen == sizeof(to.in4) || msg.msg_namelen == sizeof(to.in6), "address length");
	REQUIRE(msg.msg_controllen <= sizeof(control), "control message larger than its buffer");
	REQUIRE(msg.msg_control == NULL || msg.msg_control == (void *)&control, "control buffer");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_describe(data + 1, size - 1);
	else
		fuzz_prepare(data + 1, size - 1);
	return 0;
}
