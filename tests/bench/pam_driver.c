/*
 * pam_driver - the PAM side of `make bench` (tests/bench/run.sh).
 *
 * Runs PAM transactions in a loop and prints what they cost, one
 * "RESULT key=value ..." line per run.  Every transaction must succeed: a
 * benchmark of failures would measure the wrong path, so the first failure
 * ends the run with status 1.
 *
 *   pam_driver auth     in-process: pam_start + pam_authenticate + pam_end,
 *                       timed together (sshd loads the stack once per login)
 *   pam_driver exec     the same transaction as a whole pamtester process
 *                       (fork, exec, libpam, module, exit), timed from fork
 *                       to waitpid
 *   pam_driver session  pam_authenticate (untimed), then pam_open_session
 *                       timed until it returns with the credentials file on
 *                       disk, then pam_close_session (untimed)
 *   pam_driver helper   no PAM: fork + exec --exe with the --request file
 *                       on stdin ("@CODE@" in it becomes the current code),
 *                       timed from fork to waitpid; the reply must contain
 *                       --expect (to split the module's cost from the
 *                       helper's, and the helper's from a bare exec)
 *   pam_driver socket   no PAM: the same request to the long-lived helper
 *                       (iamgate-helper --serve) on the Unix socket
 *                       --socket, as pam_iamgate's socket= does: connect,
 *                       write, shutdown(SHUT_WR), read the reply to EOF;
 *                       timed from socket() to the reply's EOF; the reply
 *                       must contain --expect
 *   pam_driver logins   --clients C processes, each running --per-client
 *                       full logins (authenticate, acct_mgmt, open_session,
 *                       close_session) for its own users; logins per second
 *                       over the wall time from a common start
 *
 * Fresh state: TOTP modules refuse a code whose time step was used before,
 * so before every transaction, outside the timed region, the driver resets
 * the module's state (--reset): pam_oath's usersfile and google
 * authenticator's secret file are rewritten, iamgate's user is re-enrolled
 * with the same secret through libiamgate (ig_store_enroll, force).  The
 * code typed is computed in-process from --secret for the current time.
 * For `logins` each client has its own user and types the codes of
 * successive time steps (see logins_round); the users are re-enrolled
 * before each round, outside the timed region.
 *
 * Options:
 *   --service NAME     PAM service (a file in $PAM_WRAPPER_SERVICE_DIR)
 *   --user NAME        user (auth, exec, session)
 *   --users FILE       "user" per line, one per client (logins)
 *   --secret BASE32    TOTP secret of the user(s)
 *   --rhost ADDR       PAM_RHOST (default 127.0.0.1)
 *   --n N --warmup W   timed and untimed iterations (default 100 and 5)
 *   --reset none|oath|ga|iamgate   and --state PATH (usersfile, GA file,
 *                      iamgate state dir) and --owner UID (GA file owner)
 *   --clean-dir DIR    remove the files in DIR after each iteration
 *                      (iamgate's grants: auth alone never consumes them)
 *   --expect-profiles K  session: the credentials file holds K profiles
 *   --clients C --per-client M --rounds R   logins
 *   --pamtester PATH --preload LIB   exec: the pamtester and the
 *                      pam_wrapper library to preload into it
 *   --exe PATH --request FILE --expect TEXT   helper (socket: --socket
 *                      PATH instead of --exe)
 *   --case name=LABEL,KEY=VALUE,...   (repeatable) a case: the options above
 *                      (without "--") over the global ones, and mode=
 *                      auth|exec|session|helper|socket; cases take turns
 *                      iteration by iteration and each gets its own RESULT
 *                      line (case=LABEL)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <liboath/oath.h>
#include <security/pam_appl.h>

#include "iamgate/store.h"
#include "iamgate/totp.h"
#include "iamgate/util.h"

#define MAX_USERS 4096

struct opts {
	const char *mode;
	const char *label;
	const char *service;
	const char *user;
	const char *users_file;
	const char *secret_b32;
	const char *rhost;
	const char *reset;
	const char *state;
	const char *clean_dir;
	const char *pamtester;
	const char *preload;
	const char *exe;
	const char *request;
	const char *expect;
	const char *socket;
	long owner;
	long n, warmup;
	long clients, per_client, rounds;
	long expect_profiles;
};

static uint8_t g_secret[IG_TOTP_SECRET_MAX];
static size_t g_secret_len;
static char g_code[16];

static void die(const char *what)
{
	fprintf(stderr, "pam_driver: %s\n", what);
	exit(2);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static long num(const char *s)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < 0)
		die("bad number");
	return v;
}

/* The answer to every prompt is the current code (g_code). */
static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	(void)data;
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			r[i].resp = strdup(g_code);
			if (r[i].resp == NULL) {
				for (int j = 0; j < i; j++)
					free(r[j].resp);
				free(r);
				return PAM_BUF_ERR;
			}
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* The code for time t (the current step: make_code). */
static void make_code_at(time_t t)
{
	struct ig_totp_params p = {.digits = 6, .step_seconds = 30};

	if (ig_totp_code_at(g_secret, g_secret_len, t, &p, g_code) != 0)
		die("cannot compute the TOTP code");
}

static void make_code(void)
{
	make_code_at(time(NULL));
}

/* fsync the directory holding path. */
static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	if (ig_bfmt(dir, sizeof(dir), "%s", path) != 0 || (slash = strrchr(dir, '/')) == NULL)
		die("path too long");
	*(slash == dir ? slash + 1 : slash) = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		die("cannot fsync a state directory");
	close(fd);
}

static void write_file(const char *path, const char *text, long owner)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text);
	int fd;

	if (ig_bfmt(tmp, sizeof(tmp), "%s.bench-tmp", path) != 0)
		die("path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		die("cannot write a state file");
	if (owner >= 0 && fchown(fd, (uid_t)owner, (gid_t)-1) != 0)
		die("chown");
	/* On disk before the timed login, as a state file written at the last
	 * login long ago is (and as ig_store_enroll leaves pam_iamgate's): the
	 * module's replace then frees allocated blocks, which costs what it
	 * costs here: on ext4 mounted with discard and no journal, a
	 * synchronous discard. */
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0)
		die("cannot replace a state file");
	sync_dir(path);
}

/* Fresh state for user before a transaction (never timed). */
static void reset_state(const struct opts *o, const char *user)
{
	char text[512], hex[2 * IG_TOTP_SECRET_MAX + 1];

	if (strcmp(o->reset, "none") == 0)
		return;
	if (strcmp(o->reset, "oath") == 0) {
		/* pam_oath remembers the last OTP and its time in the usersfile. */
		ig_hex(g_secret, g_secret_len, hex);
		if (ig_bfmt(text, sizeof(text), "HOTP/T30/6 %s - %s\n", user, hex) != 0)
			die("usersfile line");
		write_file(o->state, text, -1);
	} else if (strcmp(o->reset, "ga") == 0) {
		/* DISALLOW_REUSE appends the used steps to the secret file. */
		if (ig_bfmt(text, sizeof(text),
		            "%s\n\" TOTP_AUTH\n\" DISALLOW_REUSE\n\" WINDOW_SIZE 3\n",
		            o->secret_b32) != 0)
			die("GA file");
		write_file(o->state, text, o->owner);
	} else if (strcmp(o->reset, "iamgate") == 0) {
		struct ig_store *st = NULL;
		char why[512];

		if (ig_store_file_open(o->state, 30, &st, why, sizeof(why)) != 0 ||
		    ig_store_enroll(st, user, g_secret, g_secret_len, time(NULL), 1) != 0)
			die("cannot re-enroll the iamgate user");
		ig_store_close(st);
	} else {
		die("unknown --reset");
	}
}

static void clean_dir(const char *dir)
{
	DIR *d;
	struct dirent *e;
	int dfd;

	if (dir == NULL)
		return;
	if ((d = opendir(dir)) == NULL)
		return; /* not created yet */
	dfd = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0))
			continue;
		(void)unlinkat(dfd, e->d_name, 0);
	}
	closedir(d);
}

/* xorshift64*, fixed seed: the same case orders on every run. */
static uint64_t next_random(void)
{
	static uint64_t x = 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	return x * 0x2545f4914f6cdd1dull;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static double pct(const double *v, long n, double p)
{
	long i = (long)(p / 100.0 * (double)(n - 1) + 0.5);

	return v[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

static void report(const char *what, const char *label, double *v, long n)
{
	double sum = 0;

	qsort(v, (size_t)n, sizeof(double), cmp_double);
	for (long i = 0; i < n; i++)
		sum += v[i];
	printf("RESULT what=%s case=%s n=%ld p10_us=%.1f p50_us=%.1f p90_us=%.1f mean_us=%.1f "
	       "min_us=%.1f max_us=%.1f\n",
	       what, label, n, pct(v, n, 10), pct(v, n, 50), pct(v, n, 90), sum / (double)n, v[0],
	       v[n - 1]);
}

static pam_handle_t *start(const struct opts *o, const char *user)
{
	struct pam_conv pc = {conv, NULL};
	pam_handle_t *h = NULL;
	int r;

	if ((r = pam_start(o->service, user, &pc, &h)) != PAM_SUCCESS) {
		fprintf(stderr, "pam_driver: pam_start: %d\n", r);
		exit(1);
	}
	if (pam_set_item(h, PAM_RHOST, o->rhost) != PAM_SUCCESS ||
	    pam_set_item(h, PAM_TTY, "ssh") != PAM_SUCCESS)
		die("pam_set_item");
	return h;
}

static void must(pam_handle_t *h, int r, const char *step)
{
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "pam_driver: %s failed: %s\n", step, pam_strerror(h, r));
		exit(1);
	}
}

/* One in-process authentication, timed from pam_start to pam_end. */
static double auth_once(const struct opts *o)
{
	pam_handle_t *h;
	double t0, t1;
	int r;

	reset_state(o, o->user);
	make_code();
	t0 = now_us();
	h = start(o, o->user);
	r = pam_authenticate(h, 0);
	if (r != PAM_SUCCESS)
		must(h, r, "pam_authenticate"); /* exits: the failure is not timed */
	pam_end(h, r);
	t1 = now_us();
	clean_dir(o->clean_dir);
	return t1 - t0;
}

/* One pamtester process, timed from fork to waitpid. */
static double exec_once(const struct opts *o)
{
	char pre[PATH_MAX + 16], svc[PATH_MAX + 32], rh[128], line[32];
	const char *sd = getenv("PAM_WRAPPER_SERVICE_DIR");
	char *envp[] = {pre, (char *)"PAM_WRAPPER=1", svc, NULL};
	char *argv[] = {(char *)"pamtester", (char *)"-I",           rh,  (char *)o->service,
	                (char *)o->user,     (char *)"authenticate", NULL};
	int p[2], status = 0;
	double t0, t1;
	pid_t pid;
	size_t len;

	if (sd == NULL || ig_bfmt(pre, sizeof(pre), "LD_PRELOAD=%s", o->preload) != 0 ||
	    ig_bfmt(svc, sizeof(svc), "PAM_WRAPPER_SERVICE_DIR=%s", sd) != 0 ||
	    ig_bfmt(rh, sizeof(rh), "rhost=%s", o->rhost) != 0)
		die("exec: environment");
	reset_state(o, o->user);
	make_code();
	if (ig_bfmt(line, sizeof(line), "%s\n", g_code) != 0)
		die("code");
	len = strlen(line);
	if (pipe(p) != 0)
		die("pipe");
	t0 = now_us();
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(p[0], 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(126);
		close(p[0]);
		close(p[1]);
		signal(SIGPIPE, SIG_DFL); /* as a login would run it */
		execve(o->pamtester, argv, envp);
		_exit(127);
	}
	close(p[0]);
	/* The code fits in the pipe buffer: one write, before pamtester asks.
	 * EPIPE: it exited without reading, which its status reports. */
	if (write(p[1], line, len) != (ssize_t)len && errno != EPIPE)
		die("write code");
	close(p[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	t1 = now_us();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "pam_driver: pamtester failed (status %d)\n", status);
		exit(1);
	}
	clean_dir(o->clean_dir);
	return t1 - t0;
}

/* The request text with @CODE@ replaced by the current code (read each
 * time, before the timed region: cases alternate). */
static size_t build_request(const struct opts *o, char *out, size_t cap)
{
	char tmpl[8192];
	const char *at;
	ssize_t tlen;
	int fd = open(o->request, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || (tlen = read(fd, tmpl, sizeof(tmpl) - 1)) < 0)
		die("cannot read --request");
	close(fd);
	tmpl[tlen] = '\0';
	at = strstr(tmpl, "@CODE@");
	if (at == NULL) {
		if (ig_bfmt(out, cap, "%s", tmpl) != 0)
			die("request too long");
	} else if (ig_bfmt(out, cap, "%.*s%s%s", (int)(at - tmpl), tmpl, g_code, at + 6) != 0) {
		die("request too long");
	}
	return strlen(out);
}

/* One run of --exe with the request on stdin, timed from fork to waitpid. */
static double helper_once(const struct opts *o)
{
	char req[8192], reply[65536];
	char *argv[] = {(char *)"iamgate-helper", NULL};
	char *envp[] = {NULL};
	int in[2], out[2], status = 0;
	size_t len, got = 0;
	double t0, t1;
	ssize_t n;
	pid_t pid;

	if (o->exe == NULL || o->request == NULL)
		die("helper needs --exe and --request");
	reset_state(o, o->user);
	make_code();
	len = build_request(o, req, sizeof(req));
	if (pipe(in) != 0 || pipe(out) != 0)
		die("pipe");
	t0 = now_us();
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* What the module does: stdin/stdout pipes, empty environment. */
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(null, 2) < 0)
			_exit(126);
		closefrom(3);
		signal(SIGPIPE, SIG_DFL);
		execve(o->exe, argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	/* EPIPE: the program exited without reading (/bin/true does, and
	 * under load it can be gone before this write); its status and
	 * reply decide. */
	if (write(in[1], req, len) != (ssize_t)len && errno != EPIPE)
		die("write request");
	close(in[1]);
	while ((n = read(out[0], reply + got, sizeof(reply) - 1 - got)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			got += (size_t)n;
	close(out[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	t1 = now_us();
	reply[got] = '\0';
	explicit_bzero(req, sizeof(req));
	if (!WIFEXITED(status) || (o->expect && strstr(reply, o->expect) == NULL)) {
		fprintf(stderr, "pam_driver: %s: status %d, reply without \"%s\": %.200s\n", o->exe,
		        status, o->expect ? o->expect : "", reply);
		exit(1);
	}
	clean_dir(o->clean_dir);
	return t1 - t0;
}

/* The reply must contain --expect (a failure ends the run: not timed). */
static void check_reply(const struct opts *o, const char *from, int ok, const char *reply)
{
	if (!ok || (o->expect && strstr(reply, o->expect) == NULL)) {
		fprintf(stderr, "pam_driver: %s: reply without \"%s\": %.200s\n", from,
		        o->expect ? o->expect : "", reply);
		exit(1);
	}
}

/*
 * One request to the serving helper on --socket: what pam_iamgate's
 * socket= does (without its trust checks on the path, a few stat calls),
 * timed from socket() until the worker closed the connection.
 */
static double socket_once(const struct opts *o)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char req[8192], reply[65536];
	size_t len, got = 0, off = 0;
	double t0, t1;
	ssize_t n;
	int fd;

	if (o->socket == NULL || o->request == NULL)
		die("socket needs --socket and --request");
	if (ig_bfmt(sa.sun_path, sizeof(sa.sun_path), "%s", o->socket) != 0)
		die("--socket path too long");
	reset_state(o, o->user);
	make_code();
	len = build_request(o, req, sizeof(req));
	t0 = now_us();
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "pam_driver: connect %s: %s\n", o->socket, strerror(errno));
		exit(1);
	}
	while (off < len) {
		n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("send request");
		off += (size_t)n;
	}
	if (shutdown(fd, SHUT_WR) != 0)
		die("shutdown");
	while ((n = read(fd, reply + got, sizeof(reply) - 1 - got)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			got += (size_t)n;
	close(fd);
	t1 = now_us();
	reply[got] = '\0';
	explicit_bzero(req, sizeof(req));
	check_reply(o, o->socket, n == 0, reply);
	clean_dir(o->clean_dir);
	return t1 - t0;
}

static int count_profiles(const char *path)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), k = 0;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	for (char *p = buf; (p = strchr(p, '[')) != NULL; p++)
		if (p == buf || p[-1] == '\n')
			k++;
	return k;
}

/* Authenticate (untimed), time open_session, check the files, close. */
static double session_once(const struct opts *o)
{
	const char *cf;
	pam_handle_t *h;
	double t0, t1;
	int k;

	reset_state(o, o->user);
	make_code();
	h = start(o, o->user);
	must(h, pam_authenticate(h, 0), "pam_authenticate");
	t0 = now_us();
	must(h, pam_open_session(h, 0), "pam_open_session");
	t1 = now_us();
	cf = pam_getenv(h, "AWS_SHARED_CREDENTIALS_FILE");
	if (cf == NULL || (k = count_profiles(cf)) < 0) {
		fprintf(stderr, "pam_driver: no credentials file after open_session\n");
		exit(1);
	}
	if (o->expect_profiles > 0 && k != o->expect_profiles) {
		fprintf(stderr, "pam_driver: %d profiles issued, expected %ld\n", k,
		        o->expect_profiles);
		exit(1);
	}
	must(h, pam_close_session(h, 0), "pam_close_session");
	pam_end(h, PAM_SUCCESS);
	return t1 - t0;
}

static int load_users(const char *path, char ***out)
{
	static char *names[MAX_USERS];
	char line[256];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (f == NULL)
		die("cannot open --users");
	while (n < MAX_USERS && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if ((names[n] = strdup(line)) == NULL)
			die("oom");
		n++;
	}
	fclose(f);
	*out = names;
	return n;
}

/* A whole login for user with the code of time t: the stack sshd runs, in
 * one transaction. */
static int login_once(const struct opts *o, const char *user, time_t t)
{
	pam_handle_t *h;
	int r;

	make_code_at(t);
	h = start(o, user);
	if ((r = pam_authenticate(h, 0)) == PAM_SUCCESS &&
	    (r = pam_acct_mgmt(h, 0)) == PAM_SUCCESS &&
	    (r = pam_open_session(h, 0)) == PAM_SUCCESS && pam_getenv(h, "IAMGATE_SESSION") == NULL)
		r = PAM_SESSION_ERR; /* a login without credentials is not what we time */
	if (r == PAM_SUCCESS)
		r = pam_close_session(h, 0);
	if (r != PAM_SUCCESS)
		fprintf(stderr, "pam_driver: login %s: %s\n", user, pam_strerror(h, r));
	pam_end(h, r);
	return r == PAM_SUCCESS ? 0 : 1;
}

/*
 * One round: C clients from a common start, client j logging in M times as
 * users[j].  Replay protection accepts each time step once per user, so
 * login i types the code of step (start - 9 + i): with a window of 10 steps
 * (the service's configuration) up to 19 logins stay inside the window
 * even when the round crosses a step boundary.  Returns logins/s.
 */
static double logins_round(const struct opts *o, char **users)
{
	pid_t pids[256];
	int go[2], ready[2], fails = 0;
	double t0, t1;
	char c;

	for (long j = 0; j < o->clients; j++)
		reset_state(o, users[j]);
	if (pipe(go) != 0 || pipe(ready) != 0)
		die("pipe");
	for (long j = 0; j < o->clients; j++) {
		pids[j] = fork();
		if (pids[j] < 0)
			die("fork");
		if (pids[j] == 0) {
			int bad = 0;

			close(go[1]);
			/* pam_wrapper sets itself up (a /tmp/pam.X copy of the
			 * services) in each process's first pam_start; clients
			 * doing that at the same moment race for the directory
			 * and one ends up with no modules.  One at a time, before
			 * the start. */
			pam_end(start(o, users[j]), PAM_SUCCESS);
			if (write(ready[1], "r", 1) != 1)
				_exit(3);
			/* Wait for the start: EOF when the parent closes its end. */
			if (read(go[0], &c, 1) != 0)
				_exit(3);
			time_t base = time(NULL) / 30 - 9;

			for (long i = 0; i < o->per_client; i++)
				bad += login_once(o, users[j], (base + i) * 30);
			_exit(bad ? 1 : 0);
		}
		if (read(ready[0], &c, 1) != 1)
			die("a login client did not start");
	}
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	t0 = now_us();
	close(go[1]);
	for (long j = 0; j < o->clients; j++) {
		int st = 0;

		while (waitpid(pids[j], &st, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fails++;
	}
	t1 = now_us();
	if (fails) {
		fprintf(stderr, "pam_driver: %d clients had failed logins\n", fails);
		exit(1);
	}
	return (double)(o->clients * o->per_client) / ((t1 - t0) / 1e6);
}

/* Set option k (without its leading dashes) to v; 0, or -1 if unknown. */
static int set_opt(struct opts *o, const char *k, const char *v)
{
	if (strcmp(k, "name") == 0)
		o->label = v;
	else if (strcmp(k, "mode") == 0)
		o->mode = v;
	else if (strcmp(k, "service") == 0)
		o->service = v;
	else if (strcmp(k, "user") == 0)
		o->user = v;
	else if (strcmp(k, "users") == 0)
		o->users_file = v;
	else if (strcmp(k, "secret") == 0)
		o->secret_b32 = v;
	else if (strcmp(k, "rhost") == 0)
		o->rhost = v;
	else if (strcmp(k, "reset") == 0)
		o->reset = v;
	else if (strcmp(k, "state") == 0)
		o->state = v;
	else if (strcmp(k, "owner") == 0)
		o->owner = num(v);
	else if (strcmp(k, "clean-dir") == 0)
		o->clean_dir = v;
	else if (strcmp(k, "n") == 0)
		o->n = num(v);
	else if (strcmp(k, "warmup") == 0)
		o->warmup = num(v);
	else if (strcmp(k, "clients") == 0)
		o->clients = num(v);
	else if (strcmp(k, "per-client") == 0)
		o->per_client = num(v);
	else if (strcmp(k, "rounds") == 0)
		o->rounds = num(v);
	else if (strcmp(k, "expect-profiles") == 0)
		o->expect_profiles = num(v);
	else if (strcmp(k, "pamtester") == 0)
		o->pamtester = v;
	else if (strcmp(k, "preload") == 0)
		o->preload = v;
	else if (strcmp(k, "exe") == 0)
		o->exe = v;
	else if (strcmp(k, "request") == 0)
		o->request = v;
	else if (strcmp(k, "expect") == 0)
		o->expect = v;
	else if (strcmp(k, "socket") == 0)
		o->socket = v;
	else
		return -1;
	return 0;
}

/*
 * --case "name=L,service=S,reset=R,state=P,...": a copy of the global
 * options with these keys (the long options without "--") replaced.  The
 * spec is split in place; values cannot hold a comma.
 */
static void parse_case(const struct opts *base, char *spec, struct opts *out)
{
	char *p = spec;

	*out = *base;
	while (p != NULL && *p != '\0') {
		char *comma = strchr(p, ','), *eq;

		if (comma != NULL)
			*comma = '\0';
		eq = strchr(p, '=');
		if (eq == NULL)
			die("--case: key=value expected");
		*eq = '\0';
		if (set_opt(out, p, eq + 1) != 0)
			die("--case: unknown key");
		p = comma != NULL ? comma + 1 : NULL;
	}
	if (out->label == NULL)
		die("--case needs name=");
}

#define MAX_CASES 16

static int parse(int argc, char **argv, struct opts *o, struct opts *cases)
{
	char *specs[MAX_CASES];
	int ncases = 0;

	memset(o, 0, sizeof(*o));
	o->rhost = "127.0.0.1";
	o->reset = "none";
	o->owner = -1;
	o->n = 100;
	o->warmup = 5;
	o->clients = 1;
	o->per_client = 10;
	o->rounds = 3;
	o->pamtester = "/usr/bin/pamtester";
	o->preload = "";
	if (argc < 2)
		die("usage: pam_driver auth|exec|session|helper|socket|logins [options] (see the "
		    "source)");
	o->mode = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL || strncmp(k, "--", 2) != 0)
			die("--option value expected");
		i++;
		if (strcmp(k, "--case") == 0) {
			if (ncases == MAX_CASES)
				die("too many --case");
			specs[ncases++] = argv[i];
		} else if (set_opt(o, k + 2, v) != 0) {
			die("unknown option");
		}
	}
	if (o->secret_b32 == NULL || o->n < 1 || o->clients < 1 || o->clients > 256 ||
	    o->rounds < 1)
		die("--secret is required; n, clients (<= 256), rounds >= 1");
	if (ig_totp_from_base32(o->secret_b32, g_secret, sizeof(g_secret), &g_secret_len) != 0)
		die("bad --secret");
	if (ncases == 0) {
		cases[0] = *o;
		cases[0].label = o->mode;
		ncases = 1;
	} else {
		for (int c = 0; c < ncases; c++)
			parse_case(o, specs[c], &cases[c]);
	}
	for (int c = 0; c < ncases; c++) {
		if ((strcmp(cases[c].mode, "helper") == 0 ||
		     strcmp(cases[c].mode, "socket") == 0) &&
		    cases[c].service == NULL)
			cases[c].service = "-"; /* no PAM in this mode */
		if (cases[c].service == NULL)
			die("--service is required");
		if (strcmp(cases[c].reset, "none") != 0 && cases[c].state == NULL)
			die("--reset needs --state");
	}
	return ncases;
}

static double once(const struct opts *o)
{
	if (strcmp(o->mode, "auth") == 0)
		return auth_once(o);
	if (strcmp(o->mode, "exec") == 0)
		return exec_once(o);
	if (strcmp(o->mode, "session") == 0)
		return session_once(o);
	if (strcmp(o->mode, "helper") == 0)
		return helper_once(o);
	if (strcmp(o->mode, "socket") == 0)
		return socket_once(o);
	die("unknown mode");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o, cases[MAX_CASES];
	double *v[MAX_CASES];
	int nc;

	/* A child that exits without reading its stdin must not kill the
	 * driver (SIGPIPE, silently): children get the default back. */
	signal(SIGPIPE, SIG_IGN);
	nc = parse(argc, argv, &o, cases);
	if (strcmp(o.mode, "logins") == 0) {
		char **users;
		double *r;
		int n;

		if (o.users_file == NULL)
			die("logins needs --users");
		n = load_users(o.users_file, &users);
		if (n < o.clients || o.per_client > 19)
			die("logins: a user per client, at most 19 logins per client");
		if ((r = calloc((size_t)o.rounds, sizeof(double))) == NULL)
			die("oom");
		for (long k = 0; k < o.rounds; k++)
			r[k] = logins_round(&o, users);
		qsort(r, (size_t)o.rounds, sizeof(double), cmp_double);
		printf("RESULT what=logins clients=%ld logins=%ld rounds=%ld min_per_s=%.1f "
		       "median_per_s=%.1f max_per_s=%.1f\n",
		       o.clients, o.clients * o.per_client, o.rounds, r[0], r[o.rounds / 2],
		       r[o.rounds - 1]);
		free(r);
		return 0;
	}
	for (int c = 0; c < nc; c++) {
		if (cases[c].user == NULL)
			die("--user is required");
		if ((v[c] = calloc((size_t)o.n, sizeof(double))) == NULL)
			die("oom");
	}
	/* Cases take turns, iteration by iteration: load that comes and goes on
	 * a noisy machine falls on all of them alike, so their ratios hold.
	 * Each round runs them in a fresh order (a fixed-seed shuffle): a case
	 * that always followed the same one would inherit its after-effects
	 * (the exec'd helper and pamtester leave the caches cold), and the
	 * floor, pam_permit, used to follow the heaviest. */
	for (long i = 0; i < o.warmup + o.n; i++) {
		int order[MAX_CASES];

		for (int c = 0; c < nc; c++)
			order[c] = c;
		for (int c = nc - 1; c > 0; c--) {
			int j = (int)(next_random() % (uint64_t)(c + 1)), x = order[c];

			order[c] = order[j];
			order[j] = x;
		}
		for (int k = 0; k < nc; k++) {
			int c = order[k];
			double t = once(&cases[c]);

			if (i >= o.warmup)
				v[c][i - o.warmup] = t;
		}
	}
	for (int c = 0; c < nc; c++) {
		report(cases[c].mode, cases[c].label, v[c], o.n);
		free(v[c]);
	}
	return 0;
}
