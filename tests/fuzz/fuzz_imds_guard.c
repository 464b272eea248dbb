/*
 * fuzz_imds_guard.c - libFuzzer target for the metadata lockdown's parsers
 * (src/core/imds_guard.c): the IMDS endpoint URL (from the configuration)
 * and, on the same bytes, the recorded verdict file.  Nothing is probed.
 *
 * Built and run by tests/fuzz/run.sh (seeds in tests/fuzz/corpus/imds_guard).
 *
 * Contracts checked (a broken one aborts): only the documented errors; an
 * accepted endpoint gives one target, or two when it is a metadata address,
 * each a NUL-terminated "ADDR:PORT" of the family it names; a refused one
 * gives none and a "fix:"; an accepted record formats back to text that
 * parses to the same record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "iamgate/imds_guard.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void fuzz_endpoint(const uint8_t *data, size_t size)
{
	struct ig_imds_target t[IG_IMDS_GUARD_MAX_TARGETS];
	char ep[IG_IMDS_GUARD_ENDPOINT_MAX + 8], why[512];
	size_t n = 99;
	int r;

	if (size >= sizeof(ep))
		size = sizeof(ep) - 1;
	memcpy(ep, data, size);
	ep[size] = '\0';
	why[0] = '\0';
	r = ig_imds_guard_targets(ep, t, &n, why, sizeof(why));
	check(r == 0 || r == IG_ERR_INVAL);
	if (r != 0) {
		check(n == 0 && strstr(why, "fix:") != NULL);
		return;
	}
	check(n == 1 || n == 2);
	for (size_t i = 0; i < n; i++) {
		check(memchr(t[i].text, '\0', sizeof(t[i].text)) != NULL);
		check(t[i].sa.ss_family == AF_INET || t[i].sa.ss_family == AF_INET6);
		check((t[i].sa.ss_family == AF_INET6) == (t[i].text[0] == '['));
	}
	check(n == 1 || t[0].sa.ss_family != t[1].sa.ss_family);
}

static void fuzz_record(const uint8_t *data, size_t size)
{
	struct ig_imds_guard_record a, b;
	char text[IG_IMDS_GUARD_FILE_MAX * 2];
	int r = ig_imds_guard_parse_record((const char *)data, size, &a);

	check(r == 0 || r == IG_ERR_PARSE);
	if (r != 0)
		return;
	check(a.uid != 0 && a.checked >= 0 && (a.reachable || a.target[0] == '\0'));
	if (ig_imds_guard_format_record(&a, text, sizeof(text)) != 0)
		return;
	check(ig_imds_guard_parse_record(text, strlen(text), &b) == 0);
	check(strcmp(a.endpoint, b.endpoint) == 0 && a.uid == b.uid && a.checked == b.checked &&
	      a.reachable == b.reachable && strcmp(a.target, b.target) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_endpoint(data, size);
	fuzz_record(data, size);
	return 0;
}
