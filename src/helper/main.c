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
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "iamgate/config.h"
#include "iamgate/gate.h"
#include "iamgate/helper_io.h"
#include "iamgate/imds_guard.h"
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

/* Serve mode: the parent of this worker (0 in an exec'd helper), and
 * whether the parent has been told this worker is leaving. */
static pid_t serve_parent;
static int worker_retired;

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
	/* A serve-mode worker ignores stop signals while busy; the issuer
	 * starts as an exec'd one would, with the default ones. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* A serve-mode worker becomes the issuer, which may wait up to the
	 * STS time budget: it tells the parent to fork its replacement now,
	 * or slow issuance would take every worker and stall every login.
	 * If the exec fails it serves this request's reply and then exits. */
	if (serve_parent > 0) {
		union sigval none = {0};

		(void)sigqueue(serve_parent, SIGRTMIN, none);
		worker_retired = 1;
	}
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

/*
 * One request from stdin, one reply to stdout: the whole life of an exec'd
 * helper, and of one serve-mode worker once it has accepted.  cache (may
 * be NULL) is a configuration loaded earlier by this process, reused while
 * its file is unchanged.  Returns the exit status.
 */
static int handle_request(struct ig_config **cache)
{
	static char buf[IG_PROTO_MAX_REQUEST];
	struct ig_gate_env env = {0};
	struct handoff h = {buf, 0};
	json_t *req, *reply;
	size_t len = 0;
	int rc;

	/* The bound on this process's life, whatever disposition it came with. */
	signal(SIGALRM, SIG_DFL);
	alarm(HELPER_ALARM_SECONDS);
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
	env.boot_time = ig_boot_time();
	env.host = NULL;
	env.handoff = exec_issuer;
	env.handoff_arg = &h;
	env.config_cache = cache;
	if (req == NULL)
		reply = ig_reply_bad_request();
	else
		reply = ig_gate_handle(req, &env);
	explicit_bzero(buf, sizeof(buf));
	json_decref(req);
	rc = ig_write_reply(reply);
	json_decref(reply);
	return rc;
}

/*
 * --serve: the long-lived helper.  Exec'ing a program per PAM call costs
 * more than pam_oath's whole decision on a small VM, and so does forking
 * one (tests/bench/RESULTS.md), so the helper can also wait, pre-forked, on
 * a Unix socket that pam_iamgate.so (socket=PATH) asks first.  The parent
 * does the start-up work once (libcrypto, configuration, name service,
 * syslog) and keeps N workers ready; it never reads a request.  A worker
 * accepts connections from root peers only and serves each exactly as an
 * exec'd helper serves its pipe: the connection becomes stdin and stdout,
 * the request is read to EOF, one reply is written, and open_session still
 * execs iamgate-issuer (which ends that worker).  A worker serves at most M
 * requests (--requests, default 100) and is then replaced, which bounds
 * what one process accumulates; --requests 1 gives every request a fresh
 * process.  Between requests nothing of the last one is kept but the
 * configuration (reused only while its file is unchanged): the request
 * buffer is wiped, every JSON value is freed through ig_wiping_free, the
 * connection's descriptors are replaced by /dev/null, the alarm is reset.
 */
#define SERVE_DEFAULT_WORKERS 4

/*
 * At start, with base credentials from IMDS: try the metadata lockdown
 * (imds_guard.h) and record the verdict for the issuer, so that a host
 * whose users can reach the instance role says so from the start.  The
 * issuer checks again (at most once a minute) before it issues.
 */
static void imds_lockdown_at_start(const struct ig_config *cfg)
{
	struct ig_imds_guard_cfg g = {.state_dirfd = -1, .fresh = 1};
	struct ig_imds_guard_result res;
	char why[512];
	int fd = -1;

	if (cfg == NULL || cfg->aws.region == NULL || cfg->aws.source != IG_CREDS_IMDS)
		return;
	if (ig_own_dir(cfg->aws.cache_dir, 0700, &fd, why, sizeof(why)) == 0)
		g.state_dirfd = fd;
	else
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: IMDS cache dir refused: %s", why);
	g.endpoint = cfg->aws.imds_endpoint;
	g.uid = cfg->aws.imds_probe_uid;
	g.now = time(NULL);
	if (ig_imds_guard_check(&g, &res) == 0) {
		syslog(LOG_AUTHPRIV | LOG_INFO, "iamgate: %s", res.detail);
	} else {
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: %s", res.detail);
		fprintf(stderr, "iamgate-helper: %s\n", res.detail);
	}
	if (fd >= 0)
		close(fd);
}
#define SERVE_MAX_WORKERS 64
#define SERVE_DEFAULT_REQUESTS 100
#define SERVE_MAX_REQUESTS 100000
#define SERVE_DEFAULT_CONFIG "/etc/iamgate/iamgate.json"
#define WORKER_SERVED 0 /* handled a connection (or refused its peer) */
#define WORKER_BROKEN 3 /* could not accept: the parent backs off */
#define SERVE_STOP_WAIT_SECONDS (HELPER_ALARM_SECONDS + 10)

struct serve_opts {
	const char *socket;
	const char *config;
	long workers;
	long requests;
};

static int serve_usage(const char *why)
{
	fprintf(stderr,
	        "iamgate-helper: %s\nusage: iamgate-helper --serve SOCKET [--workers N] "
	        "[--requests M] [--config PATH]\n  SOCKET  absolute path of the Unix socket "
	        "(e.g. /run/iamgate/helper.sock); its directory must be root-owned and not "
	        "writable by others\n  N       workers kept ready, 1..%d (default %d)\n"
	        "  M       requests a worker serves before it is replaced, 1..%d (default "
	        "%d; 1: a fresh process for every request)\n"
	        "  PATH    configuration loaded ahead for the workers (default %s)\n",
	        why, SERVE_MAX_WORKERS, SERVE_DEFAULT_WORKERS, SERVE_MAX_REQUESTS,
	        SERVE_DEFAULT_REQUESTS, SERVE_DEFAULT_CONFIG);
	return 2;
}

/* A whole decimal number from 1 to max into *out; -1 otherwise. */
static int count_arg(const char *s, long max, long *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int serve_parse(int argc, char **argv, struct serve_opts *so)
{
	so->socket = NULL;
	so->config = SERVE_DEFAULT_CONFIG;
	so->workers = SERVE_DEFAULT_WORKERS;
	so->requests = SERVE_DEFAULT_REQUESTS;
	if (argc < 3)
		return serve_usage("--serve needs the socket path");
	so->socket = argv[2];
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			if (count_arg(argv[++i], SERVE_MAX_WORKERS, &so->workers) != 0)
				return serve_usage("--workers takes a number from 1 to 64");
		} else if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc) {
			if (count_arg(argv[++i], SERVE_MAX_REQUESTS, &so->requests) != 0)
				return serve_usage("--requests takes a number from 1 to 100000");
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			so->config = argv[++i];
			if (so->config[0] != '/')
				return serve_usage("--config takes an absolute path");
		} else {
			fprintf(stderr, "iamgate-helper: unknown or incomplete option '%.100s'\n",
			        argv[i]);
			return serve_usage("see the usage below");
		}
	}
	if (so->socket[0] != '/')
		return serve_usage("the socket path must be absolute");
	return 0;
}

/*
 * Bind and listen on so->socket: its directory must pass ig_safe_path; a
 * socket left there by a helper that died is replaced, one still answered
 * is not (two servers on one path), any other file is refused.  The socket
 * is root's, mode 0600.  Returns the listening fd or -1 (stderr says why).
 */
static int serve_listen(const struct serve_opts *so)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[PATH_MAX], why[512];
	struct stat st;
	char *slash;
	mode_t old;
	int fd;

	if (ig_bfmt(sa.sun_path, sizeof(sa.sun_path), "%s", so->socket) != 0 ||
	    ig_bfmt(dir, sizeof(dir), "%s", so->socket) != 0) {
		fprintf(stderr, "iamgate-helper: socket path %s is too long (at most %zu bytes)\n",
		        so->socket, sizeof(sa.sun_path) - 1);
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (ig_safe_path(dir, why, sizeof(why)) != 0) {
		fprintf(stderr, "iamgate-helper: socket directory refused: %s\n", why);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "iamgate-helper: socket: %s\n", strerror(errno));
		return -1;
	}
	if (lstat(so->socket, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr,
			        "iamgate-helper: %s exists and is not a socket; remove it or "
			        "choose another path\n",
			        so->socket);
			goto fail;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			fprintf(stderr,
			        "iamgate-helper: another helper already serves %s; stop it "
			        "first\n",
			        so->socket);
			goto fail;
		}
		if (unlink(so->socket) != 0) {
			fprintf(stderr, "iamgate-helper: cannot remove the stale socket %s: %s\n",
			        so->socket, strerror(errno));
			goto fail;
		}
		close(fd);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			fprintf(stderr, "iamgate-helper: socket: %s\n", strerror(errno));
			return -1;
		}
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		umask(old);
		fprintf(stderr, "iamgate-helper: cannot bind %s: %s\n", so->socket,
		        strerror(errno));
		goto fail;
	}
	umask(old);
	if (chown(so->socket, 0, 0) != 0 || chmod(so->socket, 0600) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		fprintf(stderr, "iamgate-helper: cannot set up %s: %s\n", so->socket,
		        strerror(errno));
		(void)unlink(so->socket);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static void warm_name_service(void)
{
	gid_t groups[4];
	int n = 4;

	(void)getpwnam("root");
	(void)getgrouplist("root", 0, groups, &n);
	endpwent();
	endgrent();
}

/*
 * The worker: accept one root connection, serve it, exit.  *cache is the
 * configuration the parent loaded (this process's copy of it).
 */
static void serve_worker(int lfd, const struct serve_opts *so, const sigset_t *orig,
                         struct ig_config *cache, pid_t parent)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (devnull < 0)
		_exit(WORKER_BROKEN);
	/* A parent that dies (even of SIGKILL) takes its idle workers along:
	 * orphans would go on serving the socket and block a restart.  A busy
	 * one ignores the signal, finishes, and sees it has no parent. */
	serve_parent = parent;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		_exit(WORKER_BROKEN);
	sigprocmask(SIG_SETMASK, orig, NULL);
	for (long served = 0; served < so->requests && !worker_retired; served++) {
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		int c;

		if (getppid() != serve_parent)
			_exit(WORKER_SERVED);

		/* Idle: a stop ends this worker at once. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		do
			c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		while (c < 0 && (errno == EINTR || errno == ECONNABORTED));
		if (c < 0) {
			syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: accept on %s: %m", so->socket);
			_exit(served ? WORKER_SERVED : WORKER_BROKEN);
		}
		/* Busy: a stop lets this request finish (the issuer, if exec'd,
		 * gets its own dispositions back in exec_issuer). */
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
		    clen != sizeof(cred) || cred.uid != 0) {
			syslog(LOG_AUTHPRIV | LOG_WARNING,
			       "iamgate: refused a connection on %s from uid %ld pid %ld: only "
			       "root (the PAM module inside sshd) may ask",
			       so->socket, clen == sizeof(cred) ? (long)cred.uid : -1L,
			       clen == sizeof(cred) ? (long)cred.pid : -1L);
			close(c);
			continue;
		}
		if (dup2(c, STDIN_FILENO) != STDIN_FILENO ||
		    dup2(c, STDOUT_FILENO) != STDOUT_FILENO)
			_exit(1);
		close(c);
		if (handle_request(&cache) != 0)
			_exit(1);
		/* The reply is out: close the connection (both of its
		 * descriptors), end the request's time limit. */
		if (dup2(devnull, STDIN_FILENO) != STDIN_FILENO ||
		    dup2(devnull, STDOUT_FILENO) != STDOUT_FILENO)
			_exit(1);
		/* Now that the module has its answer: last closes that may wait
		 * for the disk (a replaced TOTP state file's). */
		ig_close_deferred();
		alarm(0);
	}
	_exit(WORKER_SERVED);
}

static pid_t serve_fork(int lfd, const struct serve_opts *so, const sigset_t *orig,
                        struct ig_config *cache)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0)
		serve_worker(lfd, so, orig, cache, parent);
	if (pid < 0)
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: fork: %m");
	return pid;
}

static int serve(int argc, char **argv)
{
	struct serve_opts so;
	pid_t pids[SERVE_MAX_WORKERS] = {0};
	struct ig_config *cache = NULL;
	sigset_t set, orig;
	char err[256];
	int lfd, stopping = 0, backoff = 0;

	if (serve_parse(argc, argv, &so) != 0)
		return 2;
	if (clearenv() != 0)
		return 2;
	lfd = serve_listen(&so);
	if (lfd < 0)
		return 2;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGRTMIN); /* a worker became the issuer */
	sigprocmask(SIG_BLOCK, &set, &orig);
	/* What an exec'd helper does on every call, done once here and
	 * inherited by every worker: crypto start-up, the configuration, the
	 * syslog connection, the name service's set-up (nsswitch.conf and its
	 * modules: half the syscalls of a request otherwise; lookups still
	 * read the databases afresh).  On 2 cores, a worker repeating it after
	 * each request took the CPU the next request needed. */
	if (crypto_init() != 0) {
		fprintf(stderr, "iamgate-helper: cannot start libcrypto\n");
		return 2;
	}
	if (ig_config_load(so.config, &cache, err, sizeof(err)) != 0)
		cache = NULL; /* each request's own load reports it */
	closelog();
	openlog("iamgate-helper", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
	warm_name_service();
	imds_lockdown_at_start(cache);
	syslog(LOG_AUTHPRIV | LOG_INFO, "iamgate: serving %s with %ld workers", so.socket,
	       so.workers);
	while (!stopping) {
		struct timespec wait = {60, 0};
		siginfo_t si;
		int sig;

		/* New workers take the configuration as it is now (a refused
		 * one is not kept: each request then loads and reports it). */
		if (cache == NULL || !ig_config_unchanged(cache, so.config)) {
			ig_config_free(cache);
			if (ig_config_load(so.config, &cache, err, sizeof(err)) != 0)
				cache = NULL;
		}
		/* After a failed fork or a broken worker, wait a second before
		 * forking again (the tick also retries). */
		for (long i = 0; i < so.workers && !backoff; i++)
			if (pids[i] == 0 && (pids[i] = serve_fork(lfd, &so, &orig, cache)) < 0) {
				pids[i] = 0;
				backoff = 1;
			}
		if (backoff)
			wait.tv_sec = 1;
		backoff = 0;
		sig = sigtimedwait(&set, &si, &wait);
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			stopping = 1;
		} else if (sig == SIGRTMIN) {
			/* Its slot is free; the issuer is reaped when it ends
			 * (and waited for at a stop). */
			for (long i = 0; i < so.workers; i++)
				if (pids[i] > 0 && pids[i] == si.si_pid)
					pids[i] = 0;
		} else if (sig == SIGCHLD) {
			int st;
			pid_t p;

			while ((p = waitpid(-1, &st, WNOHANG)) > 0)
				for (long i = 0; i < so.workers; i++)
					if (pids[i] == p) {
						pids[i] = 0;
						/* A worker that cannot even accept
						 * would be forked in a tight loop. */
						if (!WIFEXITED(st) ||
						    WEXITSTATUS(st) == WORKER_BROKEN)
							backoff = 1;
					}
		}
	}
	/* Stop: no new connections; idle workers die of SIGTERM, busy ones
	 * ignore it and finish (bounded by their alarm). */
	(void)unlink(so.socket);
	close(lfd);
	for (long i = 0; i < so.workers; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	alarm(SERVE_STOP_WAIT_SECONDS);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	syslog(LOG_AUTHPRIV | LOG_INFO, "iamgate: stopped serving %s", so.socket);
	ig_config_free(cache);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl = {0, 0};
	int serving = argc > 1 && strcmp(argv[1], "--serve") == 0;

	openlog("iamgate-helper", LOG_PID, LOG_AUTHPRIV);
	if (!serving && (argc != 1 || isatty(STDIN_FILENO))) {
		fprintf(stderr, "iamgate-helper: this program is run by pam_iamgate.so with a "
		                "request on a pipe, or as `iamgate-helper --serve SOCKET "
		                "[--workers N] [--requests M] [--config PATH]`; people use "
		                "`iamgate` instead\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "iamgate-helper: %s must run as root (%s)\n",
		        serving ? "--serve" : "this program",
		        serving ? "it makes the decisions pam_iamgate.so asks for"
		                : "it is executed by pam_iamgate.so inside the PAM stack");
		return 2;
	}
	umask(077);
	/* No core dumps: they would hold codes and AWS credentials. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	json_set_alloc_funcs(malloc, ig_wiping_free);
	return serving ? serve(argc, argv) : handle_request(NULL);
}
