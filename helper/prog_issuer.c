/*
 * iamgate-issuer - open_session's credential issuer, executed by
 * iamgate-helper (never by people, never by the module directly).
 *
 * iamgate-helper handles auth, account and close_session without libcurl
 * and libxml2 (whose ~40 libraries cost 85% of an auth call to load); for
 * open_session it execs this program from its own directory with an empty
 * environment, the request on stdin and the module's pipe on stdout.  Same
 * contract as the helper: one JSON request (at most IG_PROTO_MAX_REQUEST
 * bytes) in, one JSON reply out, exit 0; it accepts only the open_session
 * phase (anything else is a bad_request).  It refuses a terminal on stdin,
 * arguments and non-root callers.  An alarm bounds its life.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libxml/xmlmemory.h>

#include "iamgate/gate.h"
#include "iamgate/protocol.h"
#include "iamgate/util.h"

#define HELPER_ALARM_SECONDS 120

/* jansson frees strings (codes, secrets) without wiping: wipe every block. */
static void wiping_free(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

static int read_all(int fd, char *buf, size_t cap, size_t *len)
{
	size_t got = 0;
	ssize_t n;

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
			return IG_ERR_RANGE; /* the request must be smaller than cap */
	}
	*len = got;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
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

/* Only open_session is issued here; the helper handles every other phase. */
static int is_open_session(json_t *req)
{
	const char *phase = json_string_value(json_object_get(req, "phase"));

	return phase != NULL && strcmp(phase, "open_session") == 0;
}

static int reply_and_exit(json_t *reply)
{
	char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	int r;

	if (text == NULL)
		return 1;
	r = write_all(STDOUT_FILENO, text, strlen(text));
	if (r == 0)
		r = write_all(STDOUT_FILENO, "\n", 1);
	free(text);
	return r == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static char buf[IG_PROTO_MAX_REQUEST];
	struct ig_gate_env env = {0};
	struct rlimit rl = {0, 0};
	json_t *req, *reply;
	size_t len = 0;
	int rc, curl_up = 0;

	(void)argv;
	openlog("iamgate-issuer", LOG_PID, LOG_AUTHPRIV);
	if (argc != 1 || isatty(STDIN_FILENO)) {
		fprintf(stderr, "iamgate-issuer: this program is run by iamgate-helper with a "
		                "request on a pipe; people use `iamgate` instead\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "iamgate-issuer: must run as root (it is executed by "
		                "iamgate-helper inside the PAM stack)\n");
		return 2;
	}
	umask(077);
	/* No core dumps: they would hold codes and AWS credentials. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	alarm(HELPER_ALARM_SECONDS);
	json_set_alloc_funcs(malloc, wiping_free);
	/* libxml2 holds copies of STS replies (which carry credentials). */
	xmlMemSetup(wiping_free, malloc, realloc, strdup);
	/* An unreadable or oversize request, or one for another phase, is no
	 * request: the same bad_request reply as for malformed JSON. */
	req = read_all(STDIN_FILENO, buf, sizeof(buf), &len) == 0
	              ? json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL)
	              : NULL;
	explicit_bzero(buf, sizeof(buf));
	if (req != NULL && !is_open_session(req)) {
		json_decref(req);
		req = NULL;
	}
	if (req != NULL) {
		/* Before anything can start a thread. */
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			json_decref(req);
			return 1;
		}
		curl_up = 1;
	}
	env.now = time(NULL);
	env.host = NULL;
	env.issue = ig_session_open;
	if (req == NULL)
		reply = json_pack("{s:s, s:s, s:[], s:{}}", "result", IG_RESULT_SYSTEM_ERR,
		                  "reason", "bad_request", "messages", "env");
	else
		reply = ig_gate_handle(req, &env);
	json_decref(req);
	rc = reply_and_exit(reply);
	json_decref(reply);
	if (curl_up)
		curl_global_cleanup();
	return rc;
}
