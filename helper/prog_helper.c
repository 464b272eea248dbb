/*
 * iamgate-helper - the decision point executed by pam_iamgate.so.
 *
 * Runs as root with an empty environment, reads one JSON request (at most
 * IG_PROTO_MAX_REQUEST bytes) on stdin, writes one JSON reply on stdout and
 * exits 0.  It refuses a terminal on stdin (it is not for people: use
 * `iamgate`), arguments, and non-root callers.  An alarm bounds its life.
 *
 * It is the lean half: auth, account and close_session are decided here,
 * and it links neither libcurl nor libxml2 (loading their ~40 libraries was
 * 85% of an auth call, tests/bench/RESULTS.md).  open_session is handed,
 * request and stdout unchanged, to iamgate-issuer from this program's own
 * directory (same trust checks as the module makes on this helper); when
 * that is impossible the gate audits and replies "issuer_unavailable".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "iamgate/gate.h"
#include "iamgate/helper_io.h"
#include "iamgate/protocol.h"
#include "iamgate/util.h"

#define HELPER_ALARM_SECONDS 120
#define ISSUER_NAME "iamgate-issuer"

/* The request as read, for the issuer (open_session only). */
struct handoff {
	const char *buf;
	size_t len;
};

/*
 * libcrypto is used here only for the audit chain's SHA-256.  OpenSSL 3's
 * default start-up on the first digest reads openssl.cnf (TLS policy: no
 * TLS here), loads every error string and fills the legacy cipher and
 * digest name tables: more instructions than the whole decision.  Ask for
 * none of it; the digest is the same.  Returns 0, or -1 (fail closed).
 */
static int crypto_init(void)
{
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
	                                OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
	                                OPENSSL_INIT_NO_ADD_ALL_DIGESTS,
	                        NULL) != 1)
		return -1;
	return 0;
}

/* DIR/iamgate-issuer, DIR being where this executable is. */
static int issuer_path(char *out, size_t cap)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0 || (size_t)n >= sizeof(self) - 1)
		return IG_ERR_IO;
	self[n] = '\0';
	if (self[0] != '/' || (slash = strrchr(self, '/')) == NULL)
		return IG_ERR_INVAL;
	*slash = '\0';
	return ig_bfmt(out, cap, "%s/%s", self, ISSUER_NAME);
}

/*
 * open_session: exec iamgate-issuer with the request on a fresh pipe as its
 * stdin; stdout stays the module's pipe, so the issuer's reply is the reply.
 * The issuer must pass the checks the module makes on this helper: a safe
 * path (root-owned, not group/world-writable, no symlink, up to "/"), a
 * regular executable file.  The request (<= IG_PROTO_MAX_REQUEST) is written
 * whole into the pipe before the exec, so the pipe must hold it: checked,
 * never assumed.  Returns only on failure (negative IG_ERR_*), already
 * logged; the gate then audits issuer_unavailable.
 */
static int exec_issuer(void *arg)
{
	const struct handoff *h = arg;
	char path[PATH_MAX], why[512];
	char *const argv[] = {(char *)ISSUER_NAME, NULL};
	char *const envp[] = {NULL};
	struct stat st;
	int p[2] = {-1, -1}, r, sz;

	if ((r = issuer_path(path, sizeof(path))) != 0) {
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: cannot locate %s: %s", ISSUER_NAME,
		       ig_strerror(r));
		return r;
	}
	if ((r = ig_safe_path(path, why, sizeof(why))) != 0) {
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: issuer refused: %s", why);
		return r;
	}
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR)) {
		syslog(LOG_AUTHPRIV | LOG_ERR,
		       "iamgate: issuer refused: %s is not an executable file", path);
		return IG_ERR_UNSAFE;
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		r = IG_ERR_IO;
		goto fail;
	}
	sz = fcntl(p[1], F_GETPIPE_SZ);
	if (sz < 0 || (size_t)sz < h->len) {
		syslog(LOG_AUTHPRIV | LOG_ERR,
		       "iamgate: issuer pipe holds %d bytes, request is %zu", sz, h->len);
		r = IG_ERR_RANGE;
		goto fail;
	}
	if ((r = ig_write_all(p[1], h->buf, h->len)) != 0)
		goto fail;
	close(p[1]);
	p[1] = -1;
	/* The read end becomes stdin (dup2 clears close-on-exec on fd 0). */
	if (dup2(p[0], STDIN_FILENO) != STDIN_FILENO) {
		r = IG_ERR_IO;
		goto fail;
	}
	close(p[0]);
	p[0] = -1;
	execve(path, argv, envp);
	syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: cannot execute %s: %m", path);
	return IG_ERR_IO;
fail:
	if (r == IG_ERR_IO)
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: cannot hand the request to %s: %m", path);
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	return r;
}

int main(int argc, char **argv)
{
	static char buf[IG_PROTO_MAX_REQUEST];
	struct ig_gate_env env = {0};
	struct rlimit rl = {0, 0};
	struct handoff h = {buf, 0};
	json_t *req, *reply;
	size_t len = 0;
	int rc;

	(void)argv;
	openlog("iamgate-helper", LOG_PID, LOG_AUTHPRIV);
	if (argc != 1 || isatty(STDIN_FILENO)) {
		fprintf(stderr, "iamgate-helper: this program is run by pam_iamgate.so with a "
		                "request on a pipe; people use `iamgate` instead\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "iamgate-helper: must run as root (it is executed by "
		                "pam_iamgate.so inside the PAM stack)\n");
		return 2;
	}
	umask(077);
	/* No core dumps: they would hold codes and AWS credentials. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	alarm(HELPER_ALARM_SECONDS);
	json_set_alloc_funcs(malloc, ig_wiping_free);
	/* An unreadable or oversize request is no request: the same bad_request
	 * reply as for malformed JSON. */
	req = ig_read_request(STDIN_FILENO, buf, sizeof(buf), &len) == 0
	              ? json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL)
	              : NULL;
	if (req != NULL && crypto_init() != 0) {
		explicit_bzero(buf, sizeof(buf));
		json_decref(req);
		return 1;
	}
	/* The bytes stay until the gate is done: open_session's hand-off
	 * passes them on as they came (wiped below either way). */
	h.len = len;
	env.now = time(NULL);
	env.host = NULL;
	env.handoff = exec_issuer;
	env.handoff_arg = &h;
	if (req == NULL)
		reply = json_pack("{s:s, s:s, s:[], s:{}}", "result", IG_RESULT_SYSTEM_ERR,
		                  "reason", "bad_request", "messages", "env");
	else
		reply = ig_gate_handle(req, &env);
	explicit_bzero(buf, sizeof(buf));
	json_decref(req);
	rc = ig_write_reply(reply);
	json_decref(reply);
	return rc;
}
