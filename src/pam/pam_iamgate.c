/*
 * pam_iamgate.so - the thin PAM adaptor of iamgate.
 *
 * It reads the PAM items, runs the conversation, execs iamgate-helper with
 * one JSON request on a pipe (the unix_chkpwd pattern: fixed absolute path,
 * empty environment, every other descriptor closed, SIGCHLD at SIG_DFL while
 * it waits), enforces a time limit, and maps the reply to a PAM code.  No
 * policy, no network and no libcurl live inside sshd: a helper that is
 * missing, unsafe, crashing, hanging or replying garbage is a failure.
 *
 * Options: config=PATH (default IG_DEFAULT_CONFIG), helper=PATH (default
 * IG_DEFAULT_HELPER), socket=PATH (ask the long-lived `iamgate-helper --serve`
 * listening there first; the exec is the fallback when nobody listens),
 * timeout=SECONDS (default 10 for auth/account, 60 for
 * sessions), debug (log the reply's reason to syslog).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "iamgate/protocol.h"
#include "iamgate/util.h"

#define PUBLIC __attribute__((visibility("default")))

#ifndef IG_DEFAULT_HELPER
#define IG_DEFAULT_HELPER "/usr/libexec/iamgate/iamgate-helper"
#endif
#ifndef IG_DEFAULT_CONFIG
#define IG_DEFAULT_CONFIG "/etc/iamgate/iamgate.json"
#endif

struct opts {
	const char *config;
	const char *helper;
	const char *socket; /* NULL: always exec the helper */
	int timeout;        /* seconds, 0: phase default */
	int debug;
};

static int parse_opts(pam_handle_t *pamh, int argc, const char **argv, struct opts *o)
{
	o->config = IG_DEFAULT_CONFIG;
	o->helper = IG_DEFAULT_HELPER;
	o->socket = NULL;
	o->timeout = 0;
	o->debug = 0;
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "config=", 7) == 0) {
			o->config = argv[i] + 7;
		} else if (strncmp(argv[i], "helper=", 7) == 0) {
			o->helper = argv[i] + 7;
		} else if (strncmp(argv[i], "socket=", 7) == 0) {
			o->socket = argv[i] + 7;
			if (o->socket[0] != '/') {
				pam_syslog(pamh, LOG_ERR, "socket= must be an absolute path");
				return -1;
			}
		} else if (strncmp(argv[i], "timeout=", 8) == 0) {
			char *end = NULL;
			long t = strtol(argv[i] + 8, &end, 10);
			if (end == argv[i] + 8 || *end != '\0' || t < 1 || t > 600) {
				pam_syslog(pamh, LOG_ERR, "bad option %s: use timeout=1..600",
				           argv[i]);
				return -1;
			}
			o->timeout = (int)t;
		} else if (strcmp(argv[i], "debug") == 0) {
			o->debug = 1;
		} else {
			pam_syslog(pamh, LOG_ERR,
			           "unknown option %s (known: config= helper= "
			           "socket= timeout= debug)",
			           argv[i]);
			return -1;
		}
	}
	if (o->config[0] != '/' || o->helper[0] != '/') {
		pam_syslog(pamh, LOG_ERR, "config= and helper= must be absolute paths");
		return -1;
	}
	return 0;
}

/* The helper must be a root-owned regular file in root-owned, non-writable
 * directories: whoever can replace it owns every login. */
static int helper_trusted(pam_handle_t *pamh, const char *path)
{
	char why[512];
	struct stat st;

	if (ig_safe_path(path, why, sizeof(why)) != 0) {
		pam_syslog(pamh, LOG_ERR, "helper refused: %s", why);
		return 0;
	}
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR)) {
		pam_syslog(pamh, LOG_ERR, "helper refused: %s is not an executable file", path);
		return 0;
	}
	return 1;
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/*
 * write() to a pipe whose reader has gone raises SIGPIPE, whose default
 * action kills the PAM application: sshd, or whatever else loaded us.  A
 * helper that dies before reading its request must be a logged deny, never
 * that.  So SIGPIPE is blocked on this thread for the write (a write's
 * SIGPIPE is sent to the thread that wrote), and one it raised is taken back
 * with a zero-timeout sigtimedwait, unless one was already pending before:
 * that one is the application's.  Neither its disposition nor its mask
 * changes.  (A socket has MSG_NOSIGNAL instead.)
 */
static ssize_t write_nosigpipe(int fd, const void *p, size_t n)
{
	sigset_t pipe_set, old, pending;
	int was_pending, e;
	ssize_t w;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	/* It returns its error rather than setting errno; a stale EINTR or
	 * EAGAIN there would have the caller retry forever. */
	if ((e = pthread_sigmask(SIG_BLOCK, &pipe_set, &old)) != 0) {
		errno = e;
		return -1;
	}
	was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
	w = write(fd, p, n);
	e = errno;
	if (w < 0 && e == EPIPE && !was_pending) {
		const struct timespec zero = {0, 0};

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return w;
}

/*
 * Write request to *wfd, then read the reply from rfd until EOF into buf
 * (cap bytes, NUL-terminated), both before deadline.  Once the request is
 * out the helper must see EOF: a socket (*wfd == rfd) is shut down for
 * writing, a pipe's write end is closed and *wfd set to -1.  Returns 0; -1
 * when the time ran out or the exchange failed; -2 when the reply is larger
 * than the protocol allows; -3 when the other side closed before taking the
 * whole request (EPIPE, ECONNRESET): the helper died or gave up, and how it
 * ended is the thing to report.
 */
static int exchange(int *wfd, int rfd, const char *request, const struct timespec *deadline,
                    char *buf, size_t cap, size_t *got)
{
	size_t len = strlen(request), off = 0;
	int sock = *wfd == rfd;

	*got = 0;
	while (off < len) {
		struct pollfd p = {.fd = *wfd, .events = POLLOUT};
		long left = ms_left(deadline);
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		/* MSG_NOSIGNAL: a helper gone away is an error, not a SIGPIPE
		 * for the PAM application. */
		n = sock ? send(*wfd, request + off, len - off, MSG_NOSIGNAL)
		         : write_nosigpipe(*wfd, request + off, len - off);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return -3;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	if (sock) {
		(void)shutdown(*wfd, SHUT_WR);
	} else {
		close(*wfd);
		*wfd = -1;
	}
	for (;;) {
		struct pollfd p = {.fd = rfd, .events = POLLIN};
		long left = ms_left(deadline);
		ssize_t n;
		int pr;

		if (left <= 0)
			return -1;
		pr = poll(&p, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return -1;
		n = read(rfd, buf + *got, cap - 1 - *got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		*got += (size_t)n;
		if (*got >= cap - 1)
			return -2;
	}
	buf[*got] = '\0';
	return 0;
}

/* Parse and check a reply; from names the helper in the log. */
static int take_reply(pam_handle_t *pamh, const char *from, const char *buf, size_t got,
                      json_t **reply)
{
	*reply = json_loadb(buf, got, JSON_REJECT_DUPLICATES, NULL);
	if (!ig_proto_reply_ok(*reply)) {
		pam_syslog(pamh, LOG_ERR, "helper %s replied garbage; failing closed", from);
		json_decref(*reply);
		*reply = NULL;
		return -1;
	}
	return 0;
}

/*
 * Ask the long-lived helper on o->socket (iamgate-helper --serve).
 * Returns 0 with *reply set; 1 when nobody serves there (no socket, nobody
 * listening, backlog full): the caller falls back to the exec, which makes
 * the same decision; -1 on any other failure, already logged: fail closed.
 * The socket must be root-owned in root-owned directories nobody else can
 * write (whoever can put a socket there answers every login), and the
 * process listening on it must be root (SO_PEERCRED).  Once the request is
 * sent nothing falls back: the code may have been used.
 */
static int ask_socket(pam_handle_t *pamh, const struct opts *o, int timeout, const char *request,
                      char *buf, size_t cap, size_t *got, json_t **reply)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timespec deadline;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct stat st;
	char why[512];
	int fd, fd2, r, rc = -1;

	*got = 0;
	r = ig_safe_path(o->socket, why, sizeof(why));
	if (r == IG_ERR_NOTFOUND) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "no helper serves %s (%s); executing %s",
			           o->socket, why, o->helper);
		return 1;
	}
	if (r != 0) {
		pam_syslog(pamh, LOG_ERR, "helper socket refused: %s; failing closed", why);
		return -1;
	}
	if (lstat(o->socket, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		pam_syslog(pamh, LOG_ERR,
		           "helper socket refused: %s is not a socket; failing closed", o->socket);
		return -1;
	}
	if (ig_bfmt(sa.sun_path, sizeof(sa.sun_path), "%s", o->socket) != 0) {
		pam_syslog(pamh, LOG_ERR, "helper socket path %s is too long", o->socket);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		pam_syslog(pamh, LOG_ERR, "socket: %m");
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno == ENOENT || errno == ECONNREFUSED || errno == EAGAIN) {
			if (o->debug)
				pam_syslog(pamh, LOG_DEBUG, "helper socket %s: %m; executing %s",
				           o->socket, o->helper);
			rc = 1;
		} else {
			pam_syslog(pamh, LOG_ERR, "helper socket %s: %m; failing closed",
			           o->socket);
		}
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || clen != sizeof(cred) ||
	    cred.uid != 0) {
		pam_syslog(pamh, LOG_ERR,
		           "helper socket %s is served by uid %ld, not root; failing closed",
		           o->socket, clen == sizeof(cred) ? (long)cred.uid : -1L);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout;
	fd2 = fd;
	r = exchange(&fd2, fd, request, &deadline, buf, cap, got);
	if (r == -2)
		pam_syslog(pamh, LOG_ERR, "helper reply larger than %d bytes", IG_PROTO_MAX_REPLY);
	else if (r != 0)
		pam_syslog(pamh, LOG_ERR,
		           "helper on %s did not answer within %d s or broke the connection; "
		           "failing closed",
		           o->socket, timeout);
	else
		rc = take_reply(pamh, o->socket, buf, *got, reply);
out:
	close(fd);
	return rc;
}

/*
 * Start the helper: stdin from in_rd, stdout to out_wr, stderr /dev/null,
 * no other descriptor, an empty environment, no blocked signal and every
 * signal at its default (an inherited SIG_IGN for SIGALRM would void the
 * helper's own time limit).  posix_spawn (clone(CLONE_VM|CLONE_VFORK) in
 * glibc) instead of fork: nothing of the PAM application's address space is
 * copied, which is most of an exec's cost inside a large sshd.  Returns 0
 * with *pid set, or an errno value (an execve failure is reported here).
 */
static int spawn_helper(const char *path, int in_rd, int out_wr, pid_t *pid)
{
	char *const argv[] = {(char *)"iamgate-helper", NULL};
	char *const envp[] = {NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int r;

	if ((r = posix_spawn_file_actions_init(&fa)) != 0)
		return r;
	if ((r = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return r;
	}
	sigemptyset(&none);
	sigfillset(&dfl);
	if ((r = posix_spawn_file_actions_adddup2(&fa, in_rd, STDIN_FILENO)) != 0 ||
	    (r = posix_spawn_file_actions_adddup2(&fa, out_wr, STDOUT_FILENO)) != 0 ||
	    (r = posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_RDWR, 0)) !=
	            0 ||
	    (r = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0 ||
	    (r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) !=
	            0 ||
	    (r = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
	    (r = posix_spawnattr_setsigdefault(&at, &dfl)) != 0)
		goto out;
	r = posix_spawn(pid, path, &fa, &at, argv, envp);
out:
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}

/*
 * Run the helper with request; on success *reply is the parsed reply.
 * Returns 0, or -1 on any failure (already logged).
 */
static int run_helper(pam_handle_t *pamh, const struct opts *o, int timeout, const char *request,
                      json_t **reply)
{
	/* Per call: a PAM application may run transactions in several threads. */
	const size_t cap = IG_PROTO_MAX_REPLY + 1;
	char *buf = malloc(cap);
	struct sigaction sa_dfl, sa_old;
	struct timespec deadline;
	int in[2] = {-1, -1}, out[2] = {-1, -1};
	size_t got = 0;
	pid_t pid = -1;
	int status = 0, rc = -1, killed = 0, r;

	*reply = NULL;
	if (buf == NULL) {
		pam_syslog(pamh, LOG_ERR, "out of memory; failing closed");
		return -1;
	}
	if (o->socket != NULL) {
		r = ask_socket(pamh, o, timeout, request, buf, cap, &got, reply);
		if (r <= 0) {
			rc = r;
			goto out;
		}
	}
	if (!helper_trusted(pamh, o->helper))
		goto out;
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		pam_syslog(pamh, LOG_ERR, "pipe: %m");
		goto out;
	}
	/* Our caller may have a SIGCHLD handler that reaps children. */
	memset(&sa_dfl, 0, sizeof(sa_dfl));
	sa_dfl.sa_handler = SIG_DFL;
	sigemptyset(&sa_dfl.sa_mask);
	sigaction(SIGCHLD, &sa_dfl, &sa_old);
	r = spawn_helper(o->helper, in[0], out[1], &pid);
	if (r != 0) {
		errno = r;
		pam_syslog(pamh, LOG_ERR, "cannot execute helper %s: %m; failing closed",
		           o->helper);
		goto restore;
	}
	close(in[0]);
	in[0] = -1;
	close(out[1]);
	out[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout;

	/* Write the request (it may hold the code: written once, then wiped by
	 * the caller), then read the reply until EOF, both within the limit. */
	r = exchange(&in[1], out[0], request, &deadline, buf, cap, &got);
	if (r == 0 || r == -3)
		goto wait; /* -3: it closed its stdin; how it ended is logged below */
	if (r == -2)
		pam_syslog(pamh, LOG_ERR, "helper reply larger than %d bytes", IG_PROTO_MAX_REPLY);
	pam_syslog(pamh, LOG_ERR,
	           "helper %s did not answer within %d s or broke the pipe; "
	           "failing closed",
	           o->helper, timeout);
	kill(pid, SIGKILL);
	killed = 1;
wait:
	/* EOF on its stdout does not mean the helper is done: its exit is
	 * awaited within the same time limit, or it is killed. */
	for (long nap_ms = 1;;) {
		pid_t w = waitpid(pid, &status, killed ? 0 : WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			status = -1;
			break;
		}
		if (w == 0 && ms_left(&deadline) <= 0) {
			pam_syslog(pamh, LOG_ERR,
			           "helper %s did not exit within %d s; failing closed", o->helper,
			           timeout);
			kill(pid, SIGKILL);
			killed = 1;
		} else if (w == 0) {
			struct timespec nap = {0, nap_ms * 1000000L};

			nanosleep(&nap, NULL);
			if (nap_ms < 16)
				nap_ms *= 2;
		}
	}
	if (killed)
		goto restore;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFSIGNALED(status))
			pam_syslog(pamh, LOG_ERR, "helper %s died of signal %d; failing closed",
			           o->helper, WTERMSIG(status));
		else
			pam_syslog(pamh, LOG_ERR, "helper %s exited with status %d; failing closed",
			           o->helper, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto restore;
	}
	if (r == -3) {
		pam_syslog(pamh, LOG_ERR,
		           "helper %s exited without reading the whole request; failing closed",
		           o->helper);
		goto restore;
	}
	rc = take_reply(pamh, o->helper, buf, got, reply);
restore:
	sigaction(SIGCHLD, &sa_old, NULL);
out:
	/* What this call wrote (the reply and its NUL: it can hold a grant
	 * id); the rest of the block was never touched, and touching it would
	 * fault in pages for nothing. */
	explicit_bzero(buf, got < cap ? got + 1 : cap);
	free(buf);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return rc;
}

static const char *item_str(pam_handle_t *pamh, int item)
{
	const void *v = NULL;

	if (pam_get_item(pamh, item, &v) != PAM_SUCCESS || v == NULL)
		return "";
	return v;
}

/* Build, send, receive.  code may be NULL.  Returns the reply or NULL. */
static json_t *ask(pam_handle_t *pamh, const struct opts *o, const char *phase, const char *user,
                   const char *code, const char *grant, const char *session, int timeout)
{
	json_t *req, *reply = NULL;
	char *text;

	req = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "v", IG_PROTO_VERSION, "phase",
	                phase, "config", o->config, "user", user, "rhost",
	                item_str(pamh, PAM_RHOST), "service", item_str(pamh, PAM_SERVICE), "tty",
	                item_str(pamh, PAM_TTY));
	if (req == NULL)
		return NULL;
	if ((code && json_object_set_new(req, "code", json_string(code)) != 0) ||
	    (grant && json_object_set_new(req, "grant", json_string(grant)) != 0) ||
	    (session && json_object_set_new(req, "session", json_string(session)) != 0)) {
		json_decref(req);
		return NULL;
	}
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL)
		return NULL;
	if (strlen(text) < IG_PROTO_MAX_REQUEST)
		(void)run_helper(pamh, o, timeout, text, &reply);
	else
		pam_syslog(pamh, LOG_ERR, "request too large");
	ig_free_secret_str(text);
	/* A request the helper refused as malformed leaves no audit line: say
	 * so here (never with the request's content). */
	if (reply &&
	    strcmp(json_string_value(json_object_get(reply, "result")), IG_RESULT_SYSTEM_ERR) == 0)
		pam_syslog(pamh, LOG_ERR, "%s: helper refused the request: %s", phase,
		           json_string_value(json_object_get(reply, "reason")));
	else if (reply && o->debug)
		pam_syslog(pamh, LOG_DEBUG, "%s: %s (%s)", phase,
		           json_string_value(json_object_get(reply, "result")),
		           json_string_value(json_object_get(reply, "reason")));
	return reply;
}

static int result_code(json_t *reply, int fail)
{
	const char *r = reply ? json_string_value(json_object_get(reply, "result")) : NULL;

	if (r == NULL)
		return fail;
	if (strcmp(r, IG_RESULT_SUCCESS) == 0)
		return PAM_SUCCESS;
	if (strcmp(r, IG_RESULT_AUTH_ERR) == 0)
		return PAM_AUTH_ERR;
	if (strcmp(r, IG_RESULT_PERM_DENIED) == 0)
		return PAM_PERM_DENIED;
	if (strcmp(r, IG_RESULT_SESSION_ERR) == 0)
		return PAM_SESSION_ERR;
	return fail;
}

static void show_messages(pam_handle_t *pamh, json_t *reply)
{
	json_t *m = json_object_get(reply, "messages"), *v;
	size_t i;

	if (!json_is_array(m))
		return;
	json_array_foreach(m, i, v)
	{
		if (i >= 16)
			break;
		if (json_is_string(v))
			(void)pam_info(pamh, "%.*s", 1024, json_string_value(v));
	}
}

static int get_user(pam_handle_t *pamh, const char **user)
{
	if (pam_get_user(pamh, user, NULL) != PAM_SUCCESS || *user == NULL || (*user)[0] == '\0')
		return -1;
	return 0;
}

/* Options and user for a phase; -1 when either is unusable (logged). */
static int begin(pam_handle_t *pamh, int argc, const char **argv, struct opts *o, const char **user)
{
	if (parse_opts(pamh, argc, argv, o) != 0)
		return -1;
	return get_user(pamh, user);
}

/* A copy of the PAM environment variable name (NULL when unset); with
 * drop, it is removed from the environment too.  -1 when out of memory. */
static int env_take(pam_handle_t *pamh, const char *name, int drop, char **out)
{
	const char *v = pam_getenv(pamh, name);

	*out = NULL;
	if (v == NULL)
		return 0;
	if ((*out = strdup(v)) == NULL)
		return -1;
	if (drop)
		(void)pam_putenv(pamh, name);
	return 0;
}

PUBLIC int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct opts o;
	const char *user = NULL;
	char *code = NULL;
	json_t *reply;
	int rc;

	(void)flags;
	if (begin(pamh, argc, argv, &o, &user) != 0)
		return PAM_AUTH_ERR;
	/* Everyone gets the same prompt, whatever will decide the login. */
	if (pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &code, "%s", IG_PROMPT) != PAM_SUCCESS ||
	    code == NULL) {
		ig_free_secret_str(code);
		return PAM_AUTH_ERR;
	}
	reply = ask(pamh, &o, "auth", user, code, NULL, NULL, o.timeout ? o.timeout : 10);
	ig_free_secret_str(code);
	rc = result_code(reply, PAM_AUTH_ERR);
	if (rc == PAM_SUCCESS) {
		const char *grant = json_string_value(json_object_get(reply, "grant"));
		char env[sizeof(IG_ENV_GRANT) + IG_ID_HEX_LEN + 2];

		/* sshd loses pam_set_data between auth and session; the PAM
		 * environment survives, so the grant id travels there. */
		if (!ig_proto_id_ok(grant) ||
		    ig_bfmt(env, sizeof(env), "%s=%s", IG_ENV_GRANT, grant) != 0 ||
		    pam_putenv(pamh, env) != PAM_SUCCESS)
			rc = PAM_AUTH_ERR;
	} else if (rc != PAM_AUTH_ERR) {
		rc = PAM_AUTH_ERR;
	}
	json_decref(reply);
	return rc;
}

PUBLIC int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	/* Credentials are issued at open_session, when the session exists. */
	return PAM_SUCCESS;
}

PUBLIC int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct opts o;
	const char *user = NULL;
	json_t *reply;
	int rc;

	(void)flags;
	if (begin(pamh, argc, argv, &o, &user) != 0)
		return PAM_PERM_DENIED;
	reply = ask(pamh, &o, "account", user, NULL, NULL, NULL, o.timeout ? o.timeout : 10);
	rc = result_code(reply, PAM_PERM_DENIED);
	if (rc != PAM_SUCCESS)
		rc = PAM_PERM_DENIED;
	json_decref(reply);
	return rc;
}

static void apply_env(pam_handle_t *pamh, json_t *reply)
{
	json_t *env = json_object_get(reply, "env"), *v;
	const char *k;

	if (!json_is_object(env))
		return;
	json_object_foreach(env, k, v)
	{
		char kv[4096];

		/* Only the variables the helper is known to set. */
		if (strcmp(k, "AWS_SHARED_CREDENTIALS_FILE") != 0 &&
		    strcmp(k, "AWS_CONFIG_FILE") != 0 && strcmp(k, "AWS_REGION") != 0 &&
		    strcmp(k, "AWS_PROFILE") != 0 && strcmp(k, IG_ENV_SESSION) != 0)
			continue;
		if (!json_is_string(v) || strchr(json_string_value(v), '\n') ||
		    ig_bfmt(kv, sizeof(kv), "%s=%s", k, json_string_value(v)) != 0)
			continue;
		(void)pam_putenv(pamh, kv);
	}
}

PUBLIC int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct opts o;
	const char *user = NULL;
	char *gcopy = NULL;
	json_t *reply;
	int rc;

	(void)flags;
	/* The grant is single-use: drop it from the environment before the
	 * session (and the user's shell) can see it. */
	if (begin(pamh, argc, argv, &o, &user) != 0 || env_take(pamh, IG_ENV_GRANT, 1, &gcopy) != 0)
		return PAM_SESSION_ERR;
	reply = ask(pamh, &o, "open_session", user, NULL, gcopy, NULL, o.timeout ? o.timeout : 60);
	free(gcopy);
	rc = result_code(reply, PAM_SESSION_ERR);
	if (reply) {
		show_messages(pamh, reply);
		if (rc == PAM_SUCCESS)
			apply_env(pamh, reply);
	}
	json_decref(reply);
	return rc;
}

PUBLIC int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct opts o;
	const char *user = NULL;
	char *scopy = NULL;
	json_t *reply;
	int rc;

	(void)flags;
	if (begin(pamh, argc, argv, &o, &user) != 0 ||
	    env_take(pamh, IG_ENV_SESSION, 0, &scopy) != 0)
		return PAM_SESSION_ERR;
	reply = ask(pamh, &o, "close_session", user, NULL, NULL, scopy, o.timeout ? o.timeout : 30);
	free(scopy);
	rc = result_code(reply, PAM_SESSION_ERR);
	json_decref(reply);
	return rc;
}
