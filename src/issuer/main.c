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
#include "iamgate/helper_io.h"
#include "iamgate/protocol.h"
#include "iamgate/util.h"

#define HELPER_ALARM_SECONDS 120

/* Only open_session is issued here; the helper handles every other phase. */
static int is_open_session(json_t *req)
{
	const char *phase = json_string_value(json_object_get(req, "phase"));

	return phase != NULL && strcmp(phase, "open_session") == 0;
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
	json_set_alloc_funcs(malloc, ig_wiping_free);
	/* libxml2 holds copies of STS replies (which carry credentials). */
	xmlMemSetup(ig_wiping_free, malloc, ig_wiping_realloc, strdup);
	/* An unreadable or oversize request, or one for another phase, is no
	 * request: the same bad_request reply as for malformed JSON. */
	req = ig_read_request(STDIN_FILENO, buf, sizeof(buf), &len) == 0
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
	env.boot_time = ig_boot_time();
	env.host = NULL;
	env.issue = ig_session_open;
	if (req == NULL)
		reply = ig_reply_bad_request();
	else
		reply = ig_gate_handle(req, &env);
	json_decref(req);
	rc = ig_write_reply(reply);
	json_decref(reply);
	if (curl_up)
		curl_global_cleanup();
	return rc;
}
