/* helper_io.c - see helper_io.h. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iamgate/helper_io.h"
#include "iamgate/protocol.h"

void ig_wiping_free(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

void *ig_wiping_realloc(void *p, size_t n)
{
	size_t old;
	void *np;

	if (p == NULL)
		return malloc(n);
	if (n == 0) {
		ig_wiping_free(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	if ((np = malloc(n)) == NULL)
		return NULL; /* p stays, as realloc leaves it */
	memcpy(np, p, old < n ? old : n);
	ig_wiping_free(p);
	return np;
}

int ig_read_request(int fd, char *buf, size_t cap, size_t *len)
{
	size_t got = 0;
	ssize_t n;

	*len = 0;
	for (;;) {
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return IG_ERR_IO;
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap)
			return IG_ERR_RANGE;
	}
	*len = got;
	return 0;
}

int ig_write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return IG_ERR_IO;
		off += (size_t)n;
	}
	return 0;
}

json_t *ig_reply_bad_request(void)
{
	return json_pack("{s:s, s:s, s:[], s:{}}", "result", IG_RESULT_SYSTEM_ERR, "reason",
	                 "bad_request", "messages", "env");
}

int ig_write_reply(json_t *reply)
{
	char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	char *line;
	size_t len;
	int r;

	if (text == NULL)
		return 1;
	/* One write with its newline: the module wakes once for it. */
	len = strlen(text);
	line = malloc(len + 2);
	if (line == NULL) {
		ig_wiping_free(text);
		return 1;
	}
	memcpy(line, text, len);
	line[len] = '\n';
	line[len + 1] = '\0';
	r = ig_write_all(STDOUT_FILENO, line, len + 1);
	/* It may hold a grant id; a serve-mode worker lives on. */
	ig_wiping_free(text);
	ig_wiping_free(line);
	return r == 0 ? 0 : 1;
}
