/*
 * imds_guard.c - does the metadata lockdown hold?  (imds_guard.h)
 *
 * The probe runs in a forked child that has dropped to an unprivileged
 * uid: the nftables rule matches the socket's owner, so only a socket made
 * by another uid than root shows what a user would get.  Between fork and
 * _exit the child calls only async-signal-safe functions (the issuer may
 * have other threads' locks held at fork time).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "iamgate/imds_guard.h"
#include "iamgate/util.h"

#define META_V4 "169.254.169.254"
#define META_V6 "fd00:ec2::254"

/* What the child reports for each target: one byte each on a pipe. */
#define OUT_BLOCKED 'b'
#define OUT_CONNECTED 'c'
#define OUT_ERROR 'e'

/* The child's exit statuses. */
#define CHILD_OK 0
#define CHILD_NO_DROP 3
#define CHILD_IO 4

/* PORT: 1..65535, decimal, no sign, no leading zero. */
static int parse_port(const char *s, size_t len, unsigned *port)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return IG_ERR_INVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return IG_ERR_INVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return IG_ERR_INVAL;
	*port = v;
	return 0;
}

/* A literal address (IPv4-mapped IPv6 as IPv4) with port into t. */
static int set_target(struct ig_imds_target *t, const char *host, int v6, unsigned port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&t->sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->sa;
	struct in6_addr a6;
	const void *addr;
	char txt[INET6_ADDRSTRLEN];
	int mapped = 0;

	memset(t, 0, sizeof(*t));
	if (v6 && inet_pton(AF_INET6, host, &a6) != 1)
		return IG_ERR_INVAL;
	/* An IPv4-mapped address sends the same IPv4 packets. */
	if (v6 && IN6_IS_ADDR_V4MAPPED(&a6)) {
		v6 = 0;
		mapped = 1;
	}
	if (v6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr = a6;
		t->salen = sizeof(*s6);
		addr = &s6->sin6_addr;
	} else {
		if (mapped)
			memcpy(&s4->sin_addr, &a6.s6_addr[12], sizeof(s4->sin_addr));
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return IG_ERR_INVAL;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		t->salen = sizeof(*s4);
		addr = &s4->sin_addr;
	}
	if (inet_ntop(v6 ? AF_INET6 : AF_INET, addr, txt, sizeof(txt)) == NULL)
		return IG_ERR_INVAL;
	return v6 ? ig_bfmt(t->text, sizeof(t->text), "[%s]:%u", txt, port)
	          : ig_bfmt(t->text, sizeof(t->text), "%s:%u", txt, port);
}

/* 4 when t is 169.254.169.254, 6 when it is fd00:ec2::254, else 0. */
static int metadata_family(const struct ig_imds_target *t)
{
	struct in_addr m4;
	struct in6_addr m6;

	if (inet_pton(AF_INET, META_V4, &m4) != 1 || inet_pton(AF_INET6, META_V6, &m6) != 1)
		return 0;
	if (t->sa.ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)&t->sa)->sin_addr, &m4, sizeof(m4)) == 0
		               ? 4
		               : 0;
	return memcmp(&((const struct sockaddr_in6 *)&t->sa)->sin6_addr, &m6, sizeof(m6)) == 0 ? 6
	                                                                                       : 0;
}

/* Split "HOST[:PORT][/]" (after "http://") into a host and a port. */
static int split_authority(const char *a, char *host, size_t hcap, int *v6, unsigned *port)
{
	const char *h = a, *end, *p;
	size_t hl;

	if (a[0] == '[') {
		if ((end = strchr(a, ']')) == NULL)
			return IG_ERR_INVAL;
		h = a + 1;
		hl = (size_t)(end - h);
		p = end + 1;
		*v6 = 1;
	} else {
		hl = strcspn(a, ":/");
		p = a + hl;
		*v6 = 0;
	}
	if (hl == 0 || hl >= hcap)
		return IG_ERR_INVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = 80;
	if (*p == ':') {
		size_t pl = strcspn(p + 1, "/");

		if (parse_port(p + 1, pl, port) != 0)
			return IG_ERR_INVAL;
		p += 1 + pl;
	}
	return (p[0] == '\0' || (p[0] == '/' && p[1] == '\0')) ? 0 : IG_ERR_INVAL;
}

int ig_imds_guard_targets(const char *endpoint, struct ig_imds_target t[IG_IMDS_GUARD_MAX_TARGETS],
                          size_t *n, char *why, size_t whycap)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned port;
	int v6, fam;

	*n = 0;
	if (endpoint == NULL ||
	    strnlen(endpoint, IG_IMDS_GUARD_ENDPOINT_MAX) >= IG_IMDS_GUARD_ENDPOINT_MAX ||
	    strncmp(endpoint, "http://", 7) != 0 ||
	    split_authority(endpoint + 7, host, sizeof(host), &v6, &port) != 0 ||
	    set_target(&t[0], host, v6, port) != 0) {
		ig_why(why, whycap,
		       "the IMDS endpoint %s is not http:// with a literal address and an optional "
		       "port, so the metadata lockdown cannot be checked; fix: set "
		       "aws.credentials.imds_endpoint to e.g. \"http://169.254.169.254\"",
		       endpoint ? endpoint : "(none)");
		return IG_ERR_INVAL;
	}
	*n = 1;
	fam = metadata_family(&t[0]);
	if (fam != 0) {
		if (set_target(&t[1], fam == 4 ? META_V6 : META_V4, fam == 4, port) != 0)
			return IG_ERR_INTERNAL;
		*n = 2;
	}
	return 0;
}

/*
 * Child: become uid/gid with no supplementary groups, for good: the real,
 * effective, saved and file-system ids, and no way back to root.
 */
static int drop_to(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0)
		return -1;
	if (getresuid(&ru, &eu, &su) != 0 || ru != uid || eu != uid || su != uid ||
	    getresgid(&rg, &eg, &sg) != 0 || rg != gid || eg != gid || sg != gid ||
	    (uid_t)setfsuid((uid_t)-1) != uid || getgroups(0, NULL) != 0)
		return -1;
	if (setresuid(0, 0, 0) == 0 || setuid(0) == 0)
		return -1;
	return 0;
}

/* Child: milliseconds left until deadline (CLOCK_MONOTONIC), >= 0. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return 0;
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

/* Child: start a non-blocking connect to t; out gets a final outcome or 0. */
static int start_connect(const struct ig_imds_target *t, char *out)
{
	int fd = socket(t->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	*out = 0;
	if (fd < 0) {
		/* No such family here: no user reaches that address either. */
		*out = errno == EAFNOSUPPORT ? OUT_BLOCKED : OUT_ERROR;
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&t->sa, t->salen) == 0)
		*out = OUT_CONNECTED;
	else if (errno != EINPROGRESS)
		*out = OUT_BLOCKED;
	return fd;
}

/*
 * Child: try every target at once until each has an outcome or the time is
 * up.  A connect still pending at the deadline counts as blocked (a drop
 * rule); a completed one as connected.
 */
static void probe_all(const struct ig_imds_target *t, size_t n, unsigned ms, char *out)
{
	struct pollfd pf[IG_IMDS_GUARD_MAX_TARGETS];
	struct timespec deadline;
	size_t pending = 0;

	(void)clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (long)(ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	for (size_t i = 0; i < n; i++) {
		pf[i].fd = start_connect(&t[i], &out[i]);
		pf[i].events = POLLOUT;
		if (out[i] != 0 && pf[i].fd >= 0) {
			close(pf[i].fd);
			pf[i].fd = -1;
		}
		pending += out[i] == 0;
	}
	while (pending > 0) {
		int r = poll(pf, n, ms_left(&deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (size_t i = 0; i < n; i++) {
			int err = 0;
			socklen_t el = sizeof(err);

			if (pf[i].fd < 0 || pf[i].revents == 0)
				continue;
			if (getsockopt(pf[i].fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
				err = EIO;
			out[i] = err == 0 ? OUT_CONNECTED : OUT_BLOCKED;
			close(pf[i].fd);
			pf[i].fd = -1;
			pending--;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (out[i] == 0)
			out[i] = OUT_BLOCKED;
}

/* Child: drop, probe, report on wfd, exit.  Never returns. */
static void __attribute__((noreturn))
probe_child(const struct ig_imds_target *t, size_t n, uid_t uid, gid_t gid, unsigned ms, int wfd)
{
	char out[IG_IMDS_GUARD_MAX_TARGETS];
	struct sigaction sa;
	sigset_t alrm;

	/* A bound of its own, whatever the parent did with SIGALRM: the
	 * parent waits for this child. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	(void)sigprocmask(SIG_UNBLOCK, &alrm, NULL);
	alarm(ms / 1000 + 3);
	if (drop_to(uid, gid) != 0)
		_exit(CHILD_NO_DROP);
	probe_all(t, n, ms, out);
	if (write(wfd, out, n) != (ssize_t)n)
		_exit(CHILD_IO);
	_exit(CHILD_OK);
}

/* Read exactly n bytes (EINTR retried): 0, or -1 on EOF or error. */
static int read_all(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

/* The probe uid's group: its passwd entry's, else the same number. */
static gid_t probe_gid(uid_t uid)
{
	struct passwd pw, *pp = NULL;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pp) == 0 && pp != NULL)
		return pp->pw_gid;
	return (gid_t)uid;
}

/* Fork the probe child and collect its outcomes into out[0..n-1]. */
static int run_probe(const struct ig_imds_target *t, size_t n, uid_t uid, unsigned ms, char *out,
                     char *why, size_t whycap)
{
	gid_t gid = probe_gid(uid);
	int p[2], st = 0, got;
	pid_t pid, w;

	if (pipe2(p, O_CLOEXEC) != 0) {
		ig_why(why, whycap, "cannot make a pipe for the probe: %s", strerror(errno));
		return IG_ERR_IO;
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		probe_child(t, n, uid, gid, ms, p[1]);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		ig_why(why, whycap, "cannot fork the probe: %s", strerror(errno));
		return IG_ERR_IO;
	}
	got = read_all(p[0], out, n);
	close(p[0]);
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (w == pid && WIFEXITED(st) && WEXITSTATUS(st) == CHILD_NO_DROP) {
		ig_why(why, whycap,
		       "the probe could not become uid %u for good (setgroups, setresgid, "
		       "setresuid); fix: run the gate as root with all its capabilities",
		       (unsigned)uid);
		return IG_ERR_UNSAFE;
	}
	if (w != pid || !WIFEXITED(st) || WEXITSTATUS(st) != CHILD_OK || got != 0) {
		ig_why(why, whycap, "the probe ended without an answer (status %d)", st);
		return IG_ERR_INTERNAL;
	}
	return 0;
}

int ig_imds_guard_parse_record(const char *text, size_t len, struct ig_imds_guard_record *rec)
{
	const char *ep = NULL, *verdict = NULL, *target = NULL;
	json_int_t uid = 0, checked = -1;
	json_error_t e;
	json_t *o;
	int r = IG_ERR_PARSE;

	memset(rec, 0, sizeof(*rec));
	if (len > IG_IMDS_GUARD_FILE_MAX ||
	    (o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return IG_ERR_PARSE;
	if (!json_is_object(o) || json_object_size(o) != 5 ||
	    json_unpack(o, "{s:s, s:I, s:I, s:s, s:s}", "endpoint", &ep, "uid", &uid, "checked",
	                &checked, "verdict", &verdict, "target", &target) != 0)
		goto out;
	if (uid < 1 || uid > 4294967294LL || checked < 0 ||
	    ig_bfmt(rec->endpoint, sizeof(rec->endpoint), "%s", ep) != 0 ||
	    ig_bfmt(rec->target, sizeof(rec->target), "%s", target) != 0)
		goto out;
	if (strcmp(verdict, "reachable") == 0)
		rec->reachable = 1;
	else if (strcmp(verdict, "locked") != 0 || target[0] != '\0')
		goto out;
	rec->uid = (uid_t)uid;
	rec->checked = (int64_t)checked;
	r = 0;
out:
	json_decref(o);
	if (r != 0)
		memset(rec, 0, sizeof(*rec));
	return r;
}

int ig_imds_guard_format_record(const struct ig_imds_guard_record *rec, char *out, size_t cap)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:s, s:s}", "endpoint", rec->endpoint, "uid",
	                      (json_int_t)rec->uid, "checked", (json_int_t)rec->checked, "verdict",
	                      rec->reachable ? "reachable" : "locked", "target",
	                      rec->reachable ? rec->target : "");
	char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int r = t ? ig_bfmt(out, cap, "%s\n", t) : IG_ERR_NOMEM;

	free(t);
	json_decref(o);
	return r;
}

/* The recorded verdict, when it is for this endpoint and uid and young. */
static int recorded(const struct ig_imds_guard_cfg *cfg, struct ig_imds_guard_record *rec)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (cfg->state_dirfd < 0 || cfg->fresh)
		return IG_ERR_NOTFOUND;
	r = ig_read_file_at(cfg->state_dirfd, IG_IMDS_GUARD_FILE, IG_IMDS_GUARD_FILE_MAX, 1, &buf,
	                    &len);
	if (r == 0)
		r = ig_imds_guard_parse_record(buf, len, rec);
	free(buf);
	if (r != 0)
		return r;
	if (strcmp(rec->endpoint, cfg->endpoint) != 0 || rec->uid != cfg->uid ||
	    rec->checked > (int64_t)cfg->now ||
	    (int64_t)cfg->now - rec->checked >= IG_IMDS_GUARD_MAX_AGE)
		return IG_ERR_NOTFOUND;
	return 0;
}

/* Record a verdict (atomic replace, root 0600); 1 when written. */
static int record(const struct ig_imds_guard_cfg *cfg, int reachable, const char *target)
{
	struct ig_imds_guard_record rec = {.uid = cfg->uid, .reachable = reachable};
	char text[IG_IMDS_GUARD_FILE_MAX];

	rec.checked = (int64_t)cfg->now;
	if (cfg->state_dirfd < 0 ||
	    ig_bfmt(rec.endpoint, sizeof(rec.endpoint), "%s", cfg->endpoint) != 0 ||
	    ig_bfmt(rec.target, sizeof(rec.target), "%s", target) != 0 ||
	    ig_imds_guard_format_record(&rec, text, sizeof(text)) != 0)
		return 0;
	/* Losing it costs one probe, never a wrong verdict: no fsync. */
	return ig_write_file_at_flags(cfg->state_dirfd, IG_IMDS_GUARD_FILE, text, strlen(text),
	                              0600, 0, 0, IG_WRITE_NO_SYNC) == 0;
}

static void verdict(struct ig_imds_guard_result *res, uid_t uid, const char *target,
                    const char *all)
{
	if (target[0] == '\0') {
		res->reason = IG_R_OK;
		ig_why(res->detail, sizeof(res->detail),
		       "the metadata lockdown holds: uid %u cannot connect to %s", (unsigned)uid,
		       all);
		return;
	}
	res->reason = IG_R_IMDS_REACHABLE_BY_USERS;
	if (ig_bfmt(res->target, sizeof(res->target), "%s", target) != 0)
		res->target[0] = '\0';
	ig_why(res->detail, sizeof(res->detail),
	       "uid %u can connect to the instance metadata service at %s, so every user of "
	       "this host can take the instance role's credentials; nothing is issued until "
	       "it cannot; fix: load the lockdown rule (systemctl enable --now "
	       "iamgate-imds-lockdown, or nft -f /etc/iamgate/iamgate-imds.nft), then run "
	       "iamgate check",
	       (unsigned)uid, target);
}

int ig_imds_guard_check(const struct ig_imds_guard_cfg *cfg, struct ig_imds_guard_result *res)
{
	struct ig_imds_target t[IG_IMDS_GUARD_MAX_TARGETS];
	struct ig_imds_guard_record rec;
	char out[IG_IMDS_GUARD_MAX_TARGETS], all[160] = "", why[400];
	const char *reached = "";
	unsigned ms = cfg->timeout_ms ? cfg->timeout_ms : IG_IMDS_GUARD_TIMEOUT_MS;
	size_t n = 0;
	int r;

	memset(res, 0, sizeof(*res));
	res->reason = IG_R_IMDS_LOCKDOWN_UNVERIFIED;
	if (cfg->uid == 0) {
		ig_why(why, sizeof(why),
		       "the probe uid is 0, which the rule lets through; fix: "
		       "set aws.credentials.imds_probe_uid to an unprivileged uid");
		r = IG_ERR_INVAL;
		goto unverified;
	}
	if ((r = ig_imds_guard_targets(cfg->endpoint, t, &n, why, sizeof(why))) != 0)
		goto unverified;
	if ((n == 1 ? ig_bfmt(all, sizeof(all), "%s", t[0].text)
	            : ig_bfmt(all, sizeof(all), "%s and %s", t[0].text, t[1].text)) != 0)
		all[0] = '\0';
	if (recorded(cfg, &rec) == 0) {
		res->from_record = 1;
		verdict(res, cfg->uid, rec.reachable ? rec.target : "", all);
		return rec.reachable ? IG_ERR_DENIED : 0;
	}
	if ((r = run_probe(t, n, cfg->uid, ms, out, why, sizeof(why))) != 0)
		goto unverified;
	for (size_t i = 0; i < n; i++) {
		if (out[i] == OUT_ERROR) {
			ig_why(why, sizeof(why), "the probe could not make a socket for %s",
			       t[i].text);
			r = IG_ERR_IO;
			goto unverified;
		}
		if (out[i] == OUT_CONNECTED && reached[0] == '\0')
			reached = t[i].text;
	}
	verdict(res, cfg->uid, reached, all);
	res->recorded = record(cfg, reached[0] != '\0', reached);
	return reached[0] ? IG_ERR_DENIED : 0;
unverified:
	ig_why(res->detail, sizeof(res->detail),
	       "cannot check the metadata lockdown, so nothing is issued: %s", why);
	return r;
}
