/* libFuzzer harness for the names native/ takes from configuration: TUN
 * interface names (tun.c) and Unix socket paths (unixsock.c). Both files are
 * included for their static checks; nothing is opened. A name that passes
 * must fit its kernel structure with its NUL, and copying it in must stay
 * inside (ASan watches). */
#include "../native/tun.c"
#include "../native/unixsock.c"

#include <stdio.h>
#include <stdlib.h>

#define REQUIRE(cond, what)                                      \
	do {                                                     \
		if (!(cond)) {                                   \
			fprintf(stderr, "property failed: %s\n", what); \
			abort();                                 \
		}                                                \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);
	struct ifreq ifr;
	struct sockaddr_un addr;
	int rc;

	if (name == NULL)
		abort();
	memcpy(name, data, size);
	name[size] = 0;
	if (valid_ifname(name)) {
		REQUIRE(strlen(name) < IFNAMSIZ, "an interface name too long for ifr_name");
		REQUIRE(strchr(name, '%') == NULL, "a '%' the kernel would expand");
		set_ifr_name(&ifr, name);
		REQUIRE(ifr.ifr_name[IFNAMSIZ - 1] == 0, "ifr_name not terminated");
		REQUIRE(strcmp(ifr.ifr_name, name) == 0, "ifr_name differs from the name");
	}
	rc = make_address(&addr, name);
	if (rc == 0) {
		REQUIRE(strlen(name) < sizeof(addr.sun_path), "a path too long for sun_path");
		REQUIRE(strcmp(addr.sun_path, name) == 0, "sun_path differs from the path");
	} else {
		REQUIRE(rc == -EINVAL || rc == -ENAMETOOLONG, "only EINVAL or ENAMETOOLONG");
	}
	free(name);
	return 0;
}
