/*
 * test_audit.c - the audit log: chain, tampering of each kind, rotation,
 * torn tails, concurrency, kill -9, unsafe files, secrets, syslog text,
 * the CLI.  All files live under $ROOT/build/audit-t/ (root-owned parents,
 * as the trusted-path checks require).  Figures are printed as TAP
 * comments, never asserted.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "iamgate/audit.h"
#include "iamgate/util.h"

#define T0 1795910400000LL /* 2026-11-29T00:00:00Z */
#define MAXL 4096

static char g_dir[PATH_MAX];
/* 0: the default bound.  The throughput tests raise it: under valgrind an
 * append takes ~30 ms, and they measure integrity, not the bound (which
 * t_lock_timeout tests). */
static int g_lock_timeout_ms;
static char g_log[PATH_MAX];

/* ---- helpers ---------------------------------------------------------- */

static void rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (ig_bfmt(p, sizeof(p), "%s/%s", dir, e->d_name) == 0)
			(void)unlink(p);
	}
	closedir(d);
	(void)rmdir(dir);
}

static int setup(void **state)
{
	static int n;
	char base[PATH_MAX];

	(void)state;
	assert_int_equal(ig_bfmt(base, sizeof(base), "%s/build/audit-t", IG_SOURCE_DIR), 0);
	(void)mkdir(base, 0755);
	assert_int_equal(chmod(base, 0755), 0);
	assert_int_equal(ig_bfmt(g_dir, sizeof(g_dir), "%s/t%d.%d", base, (int)getpid(), n++), 0);
	rm_rf(g_dir);
	assert_int_equal(mkdir(g_dir, 0755), 0);
	assert_int_equal(chmod(g_dir, 0755), 0);
	assert_int_equal(ig_bfmt(g_log, sizeof(g_log), "%s/audit.jsonl", g_dir), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(g_dir);
	return 0;
}

static struct ig_audit_opts opts_at(const char *path, int64_t ms)
{
	struct ig_audit_opts o;

	memset(&o, 0, sizeof(o));
	o.lock_timeout_ms = g_lock_timeout_ms;
	o.path = path;
	o.host = "bastion-1";
	o.now_ms = ms;
	return o;
}

static int append_ev(const char *path, int64_t ms, const char *user, const char *decision,
                     json_t *extra)
{
	struct ig_audit_opts o = opts_at(path, ms);
	struct ig_audit_event ev = {"auth",     user,
	                            "10.0.0.7", "sshd",
	                            decision,   strcmp(decision, "allow") == 0 ? "ok" : "bad_code",
	                            extra};

	return ig_audit_append(&o, &ev);
}

/* n events; users u0..; decisions alternate deny/allow. */
static void append_n(const char *path, int n, int64_t start)
{
	char u[32];

	for (int i = 0; i < n; i++) {
		assert_int_equal(ig_bfmt(u, sizeof(u), "u%d", i), 0);
		assert_int_equal(
		        append_ev(path, start + i * 1000, u, i % 2 ? "allow" : "deny", NULL), 0);
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return b;
}

/* Rewrite in place (same inode, owner and mode), as an attacker with an editor would. */
static void spit(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

struct lines {
	char *buf;
	char *l[8192];
	size_t n;
	int last_unterminated;
};

static void split(const char *path, struct lines *L)
{
	char *p, *nl;

	memset(L, 0, sizeof(*L));
	L->buf = slurp(path, NULL);
	for (p = L->buf; *p && L->n < 8192; p = nl + 1) {
		nl = strchr(p, '\n');
		L->l[L->n++] = p;
		if (nl == NULL) {
			L->last_unterminated = 1;
			break;
		}
		*nl = '\0';
	}
}

/* Write lines back, skipping index skip (-1: none), with newlines. */
static void join(const char *path, struct lines *L, ssize_t skip)
{
	size_t cap = 1, o = 0;
	char *out;

	for (size_t i = 0; i < L->n; i++)
		cap += strlen(L->l[i]) + 1;
	out = malloc(cap);
	assert_non_null(out);
	for (size_t i = 0; i < L->n; i++) {
		size_t k = strlen(L->l[i]);
		if ((ssize_t)i == skip)
			continue;
		memcpy(out + o, L->l[i], k);
		o += k;
		out[o++] = '\n';
	}
	spit(path, out, o);
	free(out);
}

static void sha_hex(const char *s, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int k = 0;

	assert_int_equal(EVP_Digest(s, n, md, &k, EVP_sha256(), NULL), 1);
	ig_hex(md, 32, out);
}

/* Replace the first occurrence of from with to in line (returns new malloc'd). */
static char *subst(const char *line, const char *from, const char *to)
{
	const char *at = strstr(line, from);
	size_t n;
	char *out;

	assert_non_null(at);
	n = strlen(line) - strlen(from) + strlen(to);
	out = malloc(n + 1);
	assert_non_null(out);
	memcpy(out, line, (size_t)(at - line));
	memcpy(out + (at - line), to, strlen(to));
	memcpy(out + (at - line) + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
	return out;
}

static int verify_one(const char *path, struct ig_audit_verify_result *res)
{
	int r = ig_audit_verify(path, res);

	if (r != 0)
		printf("#   verify: line %llu kind '%s': %s\n", (unsigned long long)res->bad_line,
		       res->kind, res->what);
	return r;
}

/* Run the CLI with stdout and stderr captured into out/err. */
static int run_cli(char *out, size_t outcap, char *err, size_t errcap, ...)
{
	char *argv[32];
	int argc = 0, so, se, fo, fe, rc;
	char po[PATH_MAX], pe[PATH_MAX];
	va_list ap;
	ssize_t k;

	va_start(ap, errcap);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	assert_int_equal(ig_bfmt(po, sizeof(po), "%s/cli.out", g_dir), 0);
	assert_int_equal(ig_bfmt(pe, sizeof(pe), "%s/cli.err", g_dir), 0);
	fflush(stdout);
	fflush(stderr);
	fo = open(po, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fe = open(pe, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fo >= 0 && fe >= 0);
	so = dup(1);
	se = dup(2);
	dup2(fo, 1);
	dup2(fe, 2);
	rc = ig_audit_cli(argc, argv, NULL);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	k = pread(fo, out, outcap - 1, 0);
	out[k > 0 ? k : 0] = '\0';
	k = pread(fe, err, errcap - 1, 0);
	err[k > 0 ? k : 0] = '\0';
	close(fo);
	close(fe);
	unlink(po);
	unlink(pe);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- chain ------------------------------------------------------------ */

static void t_chain_intact(void **state)
{
	struct ig_audit_verify_result res;
	struct lines L;
	struct stat st;
	char hex[65], hp[PATH_MAX];

	(void)state;
	append_n(g_log, 10, T0);
	assert_int_equal(verify_one(g_log, &res), 0);
	assert_int_equal(res.lines, 11);
	assert_int_equal(res.bad_line, 0);
	assert_int_equal(res.first_seq, 1);
	assert_int_equal(res.last_seq, 11);
	assert_int_equal(res.head_checked, 1);
	assert_string_equal(res.start_prev,
	                    "0000000000000000000000000000000000000000000000000000000000000000");
	split(g_log, &L);
	assert_int_equal(L.n, 11);
	assert_false(L.last_unterminated);
	/* First line: log_start of a new chain; keys in the contract's order. */
	{
		const char *want = "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":"
		                   "\"bastion-1\",\"event\":\"log_start\",\"user\":null,\"rhost\":"
		                   "null,\"service\":null,\"decision\":\"info\",\"reason\":"
		                   "\"new_chain\",\"follows_seq\":0,\"prev\":";
		assert_int_equal(strncmp(L.l[0], want, strlen(want)), 0);
	}
	assert_non_null(strstr(L.l[0], "\"prev\":\"0000000000000000000000000000000000000000000000"
	                               "000000000000000000\"}"));
	assert_non_null(strstr(L.l[1], "\"event\":\"auth\",\"user\":\"u0\",\"rhost\":\"10.0.0.7\","
	                               "\"service\":\"sshd\",\"decision\":\"deny\",\"reason\":"
	                               "\"bad_code\",\"prev\":"));
	/* Each prev is the SHA-256 of the previous line, computed independently. */
	for (size_t i = 1; i < L.n; i++) {
		struct ig_audit_record rec;
		sha_hex(L.l[i - 1], strlen(L.l[i - 1]), hex);
		assert_int_equal(ig_audit_parse_line(L.l[i], strlen(L.l[i]), &rec, NULL, 0), 0);
		assert_string_equal(rec.prev, hex);
		assert_int_equal(rec.seq, i + 1);
		assert_int_equal(rec.time_ms, T0 + (int64_t)(i - 1) * 1000);
		ig_audit_record_clear(&rec);
	}
	free(L.buf);
	/* Files: log 0640 root, head file 0600 root. */
	assert_int_equal(stat(g_log, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(ig_bfmt(hp, sizeof(hp), "%s.head", g_log), 0);
	assert_int_equal(stat(hp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

/* ---- tampering -------------------------------------------------------- */

static void expect_bad(const char *path, uint64_t line, const char *kind)
{
	struct ig_audit_verify_result res;
	int r = ig_audit_verify(path, &res);

	printf("#   %s\n", res.what);
	assert_int_equal(r, IG_ERR_PARSE);
	assert_int_equal(res.bad_line, line);
	assert_string_equal(res.kind, kind);
	assert_int_equal(strncmp(res.what, kind, strlen(kind)), 0);
}

static void t_tamper_edit(void **state)
{
	struct lines L;
	char *x;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	/* Line 5 is u3's event: deny -> allow (even indexes deny). */
	x = subst(L.l[4], "\"decision\":\"allow\"", "\"decision\":\"deny\"");
	L.l[4] = x;
	join(g_log, &L, -1);
	expect_bad(g_log, 5, "edited");
	free(x);
	free(L.buf);
}

static void t_tamper_edit_prev_field(void **state)
{
	struct lines L;
	char *x;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	/* Line 6's prev field itself is altered: line 6 is the edited one. */
	x = subst(L.l[5], "\"prev\":\"", "\"prev\":\"0");
	x[strlen(x) - 3] = '"';
	x[strlen(x) - 2] = '}';
	x[strlen(x) - 1] = '\0';
	L.l[5] = x;
	join(g_log, &L, -1);
	expect_bad(g_log, 6, "edited");
	free(x);
	free(L.buf);
}

static void t_tamper_delete(void **state)
{
	struct lines L;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	join(g_log, &L, 5); /* delete line 6 */
	expect_bad(g_log, 6, "missing");
	free(L.buf);
}

static void t_tamper_delete_first(void **state)
{
	struct lines L;

	(void)state;
	append_n(g_log, 5, T0);
	split(g_log, &L);
	join(g_log, &L, 0);
	expect_bad(g_log, 1, "missing");
	free(L.buf);
}

static void t_tamper_swap(void **state)
{
	struct lines L;
	char *t;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	t = L.l[3];
	L.l[3] = L.l[4];
	L.l[4] = t;
	join(g_log, &L, -1);
	expect_bad(g_log, 4, "reordered");
	free(L.buf);
}

static void t_tamper_truncate_mid_line(void **state)
{
	struct ig_audit_verify_result res;
	size_t len;
	char *b;
	char *p;

	(void)state;
	append_n(g_log, 10, T0);
	b = slurp(g_log, &len);
	/* Cut in the middle of line 7 (after 6 newlines). */
	p = b;
	for (int i = 0; i < 6; i++)
		p = strchr(p, '\n') + 1;
	spit(g_log, b, (size_t)(p - b) + 30);
	expect_bad(g_log, 7, "torn");
	/* The next writer records the fragment, and - thanks to the head file -
	 * that four lines are gone from the end. */
	assert_int_equal(append_ev(g_log, T0 + 99000, "after", "allow", NULL), 0);
	assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_PARSE);
	printf("#   %s\n", res.what);
	assert_int_equal(res.bad_line, 7);
	assert_string_equal(res.kind, "torn");
	assert_int_equal(res.broken_line, 9);
	assert_non_null(strstr(res.what, "line 9: missing"));
	free(b);
}

static void t_tamper_insert(void **state)
{
	struct lines L, M;
	char hex[65], pv[80], *forged, *tmp;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	/* A forger who knows the scheme: correct prev and the next seq. */
	sha_hex(L.l[3], strlen(L.l[3]), hex);
	assert_int_equal(ig_bfmt(pv, sizeof(pv), "\"prev\":\"%s\"}", hex), 0);
	tmp = subst(L.l[4], "\"user\":\"u3\"", "\"user\":\"mallory\"");
	forged = subst(tmp, strstr(tmp, "\"prev\":"), pv);
	free(tmp);
	memset(&M, 0, sizeof(M));
	M.buf = NULL;
	for (size_t i = 0; i < L.n; i++) {
		M.l[M.n++] = L.l[i];
		if (i == 3)
			M.l[M.n++] = forged;
	}
	join(g_log, &M, -1);
	expect_bad(g_log, 5, "inserted");
	/* A naive forger: a copy of line 4 with another user, inserted after it. */
	join(g_log, &L, -1);
	free(forged);
	forged = subst(L.l[3], "\"user\":\"u2\"", "\"user\":\"mallory\"");
	M.n = 0;
	for (size_t i = 0; i < L.n; i++) {
		M.l[M.n++] = L.l[i];
		if (i == 3)
			M.l[M.n++] = forged;
	}
	join(g_log, &M, -1);
	expect_bad(g_log, 5, "inserted");
	free(forged);
	free(L.buf);
}

static void t_tamper_not_json(void **state)
{
	struct lines L;
	char garbage[] = "this is not json \x1b[31m";
	char obj[] = "{\"a\":1}";
	struct ig_audit_verify_result res;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	L.l[5] = garbage;
	join(g_log, &L, -1);
	expect_bad(g_log, 6, "not JSON");
	assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_PARSE);
	assert_null(strchr(res.what, '\x1b')); /* the line's bytes are not echoed */
	L.l[5] = obj;
	join(g_log, &L, -1);
	expect_bad(g_log, 6, "malformed");
	free(L.buf);
}

static void t_tamper_last_lines(void **state)
{
	struct ig_audit_verify_result res;
	struct lines L;
	char *x;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	/* Editing the last line: no later line hashes it, the head file does. */
	x = subst(L.l[10], "\"user\":\"u9\"", "\"user\":\"u8\"");
	L.l[10] = x;
	join(g_log, &L, -1);
	expect_bad(g_log, 11, "edited");
	free(x);
	free(L.buf);
	/* Removing the last two lines. */
	unlink(g_log);
	{
		char hp[PATH_MAX];
		assert_int_equal(ig_bfmt(hp, sizeof(hp), "%s.head", g_log), 0);
		unlink(hp);
	}
	append_n(g_log, 10, T0);
	split(g_log, &L);
	L.n -= 2;
	join(g_log, &L, -1);
	expect_bad(g_log, 10, "missing");
	/* The next writer records the gap, so it stays visible. */
	assert_int_equal(append_ev(g_log, T0 + 50000, "later", "allow", NULL), 0);
	assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_PARSE);
	printf("#   %s\n", res.what);
	assert_int_equal(res.bad_line, 10);
	assert_string_equal(res.kind, "missing");
	free(L.buf);
}

/* ---- rotation --------------------------------------------------------- */

static void t_rotation(void **state)
{
	struct ig_audit_verify_result res;
	char rot[PATH_MAX], hex[65], want[80];
	const char *both[2], *wrong[2];
	struct lines L, R;
	int fd;

	(void)state;
	assert_int_equal(ig_bfmt(rot, sizeof(rot), "%s.1", g_log), 0);
	append_n(g_log, 5, T0);
	/* logrotate: rename, then "create 0640 root iamgate-audit". */
	assert_int_equal(rename(g_log, rot), 0);
	fd = open(g_log, O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	close(fd);
	append_n(g_log, 5, T0 + 3600000);
	split(rot, &R);
	split(g_log, &L);
	assert_int_equal(R.n, 6);
	assert_int_equal(L.n, 6);
	sha_hex(R.l[5], strlen(R.l[5]), hex);
	assert_int_equal(ig_bfmt(want, sizeof(want), "\"prev\":\"%s\"}", hex), 0);
	assert_non_null(strstr(L.l[0], "\"event\":\"log_start\""));
	assert_non_null(strstr(L.l[0], "\"seq\":7,"));
	assert_non_null(strstr(L.l[0], "\"reason\":\"rotated\",\"follows_seq\":6,"));
	assert_non_null(strstr(L.l[0], want));
	both[0] = rot;
	both[1] = g_log;
	assert_int_equal(ig_audit_verify_files(both, 2, &res), 0);
	assert_int_equal(res.lines, 12);
	assert_int_equal(res.first_seq, 1);
	assert_int_equal(res.last_seq, 12);
	/* Alone, the new file is intact and says what it follows. */
	assert_int_equal(ig_audit_verify(g_log, &res), 0);
	assert_int_equal(res.first_seq, 7);
	assert_string_equal(res.start_prev, hex);
	/* Wrong order. */
	wrong[0] = g_log;
	wrong[1] = rot;
	assert_int_equal(ig_audit_verify_files(wrong, 2, &res), IG_ERR_PARSE);
	assert_int_equal(res.bad_file, 1);
	assert_int_equal(res.bad_line, 1);
	assert_string_equal(res.kind, "reordered");
	/* The rotated file loses its last line. */
	R.n--;
	join(rot, &R, -1);
	assert_int_equal(ig_audit_verify_files(both, 2, &res), IG_ERR_PARSE);
	printf("#   %s\n", res.what);
	assert_int_equal(res.bad_file, 1);
	assert_int_equal(res.bad_line, 1);
	assert_string_equal(res.kind, "missing");
	free(L.buf);
	free(R.buf);
}

static void t_rotation_writer_creates(void **state)
{
	struct ig_audit_verify_result res;
	char rot[PATH_MAX];
	const char *both[2];

	(void)state;
	assert_int_equal(ig_bfmt(rot, sizeof(rot), "%s.1", g_log), 0);
	append_n(g_log, 3, T0);
	/* Rename only (or the create lost a race): the writer creates the log. */
	assert_int_equal(rename(g_log, rot), 0);
	append_n(g_log, 3, T0 + 10000);
	both[0] = rot;
	both[1] = g_log;
	assert_int_equal(ig_audit_verify_files(both, 2, &res), 0);
	assert_int_equal(res.last_seq, 8);
	/* The CLI's --rotated finds NAME.1. */
	{
		char out[4096], err[4096];
		int rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log",
		                 g_log, "--rotated", (char *)NULL);
		printf("#   %s", out);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "(2 files): 8 lines, chain intact (seq 1..8)"));
	}
}

static void t_rotation_head_fallback(void **state)
{
	struct ig_audit_verify_result res;
	struct lines L;
	char hex[65];

	(void)state;
	append_n(g_log, 3, T0);
	split(g_log, &L);
	sha_hex(L.l[3], strlen(L.l[3]), hex);
	/* The log vanishes (deleted, or rotated with dateext): the head continues it. */
	assert_int_equal(unlink(g_log), 0);
	append_n(g_log, 2, T0 + 10000);
	free(L.buf);
	split(g_log, &L);
	assert_non_null(strstr(L.l[0], "\"seq\":5,"));
	assert_non_null(strstr(L.l[0], "\"reason\":\"continued\""));
	assert_int_equal(ig_audit_verify(g_log, &res), 0);
	assert_string_equal(res.start_prev, hex);
	free(L.buf);
}

static void t_rotation_torn_predecessor(void **state)
{
	struct ig_audit_verify_result res;
	char rot[PATH_MAX];
	const char *both[2];
	const char frag[] = "{\"time\":\"2026-11-29T00:00:09.000Z\",\"seq\":5,\"ho";
	int fd;

	(void)state;
	assert_int_equal(ig_bfmt(rot, sizeof(rot), "%s.1", g_log), 0);
	append_n(g_log, 3, T0);
	fd = open(g_log, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, frag, sizeof(frag) - 1), (ssize_t)sizeof(frag) - 1);
	close(fd);
	assert_int_equal(rename(g_log, rot), 0);
	append_n(g_log, 2, T0 + 10000);
	both[0] = rot;
	both[1] = g_log;
	assert_int_equal(ig_audit_verify_files(both, 2, &res), IG_ERR_PARSE);
	printf("#   %s\n", res.what);
	assert_string_equal(res.kind, "torn");
	assert_int_equal(res.bad_file, 0);
	assert_int_equal(res.bad_line, 5);
	assert_int_equal(res.broken_line, 0);
	assert_int_equal(res.last_seq, 7);
}

/* ---- torn tails ------------------------------------------------------- */

static void t_torn_tail(void **state)
{
	struct ig_audit_verify_result res;
	const char frag[] = "{\"time\":\"2026-11-29T00:00:09.000Z\",\"seq\":7,\"host\":\"bas";
	char hex[65], want[80], out[4096], err[4096];
	struct lines L;
	int fd, rc;

	(void)state;
	append_n(g_log, 5, T0);
	/* A writer killed mid-write leaves a prefix of its line. */
	fd = open(g_log, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, frag, sizeof(frag) - 1), (ssize_t)sizeof(frag) - 1);
	close(fd);
	expect_bad(g_log, 7, "torn");
	assert_int_equal(append_ev(g_log, T0 + 20000, "next", "allow", NULL), 0);
	split(g_log, &L);
	assert_int_equal(L.n, 9);
	assert_string_equal(L.l[6], frag); /* terminated, never merged */
	sha_hex(frag, sizeof(frag) - 1, hex);
	assert_int_equal(ig_bfmt(want, sizeof(want), "\"prev\":\"%s\"}", hex), 0);
	assert_non_null(strstr(L.l[7], "\"seq\":7,"));
	assert_non_null(strstr(L.l[7], "\"event\":\"audit_torn_tail\""));
	assert_non_null(strstr(L.l[7], "\"decision\":\"info\",\"reason\":\"torn_tail_detected\""));
	assert_non_null(strstr(L.l[7], want));
	assert_non_null(strstr(L.l[8], "\"seq\":8,"));
	assert_non_null(strstr(L.l[8], "\"user\":\"next\""));
	assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_PARSE);
	printf("#   %s\n", res.what);
	assert_string_equal(res.kind, "torn");
	assert_int_equal(res.bad_line, 7);
	assert_int_equal(res.broken_line, 0);
	assert_int_equal(res.torn, 1);
	assert_int_equal(res.last_seq, 8);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             (char *)NULL);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "line 7: torn:"));
	/* A later edit is still found past the recorded torn line. */
	{
		char *x = subst(L.l[4], "\"decision\":\"allow\"", "\"decision\":\"deny\"");
		L.l[4] = x;
		join(g_log, &L, -1);
		assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_PARSE);
		assert_int_equal(res.bad_line, 5);
		assert_string_equal(res.kind, "edited");
		free(x);
	}
	free(L.buf);
}

static void t_torn_before_newline(void **state)
{
	struct ig_audit_verify_result res;
	struct stat st;

	(void)state;
	append_n(g_log, 5, T0);
	/* The whole line made it, its newline did not. */
	assert_int_equal(stat(g_log, &st), 0);
	assert_int_equal(truncate(g_log, st.st_size - 1), 0);
	expect_bad(g_log, 6, "torn");
	assert_int_equal(append_ev(g_log, T0 + 20000, "next", "allow", NULL), 0);
	assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_PARSE);
	printf("#   %s\n", res.what);
	assert_string_equal(res.kind, "torn");
	assert_int_equal(res.bad_line, 6);
	assert_int_equal(res.broken_line, 0);
	assert_int_equal(res.last_seq, 8);
}

/* ---- concurrency ------------------------------------------------------ */

static void writer(int w, int n, int big)
{
	char u[32];
	static char blob[12001];

	if (big) {
		memset(blob, 'x', sizeof(blob) - 1);
		blob[sizeof(blob) - 1] = '\0';
	}
	for (int i = 0; i < n; i++) {
		json_t *x = json_pack("{sisi}", "writer", w, "i", i);
		int r;
		if (big)
			json_object_set_new(x, "blob", json_string(blob));
		if (ig_bfmt(u, sizeof(u), "w%02d", w) != 0)
			_exit(2);
		r = append_ev(g_log, T0 + i, u, "allow", x);
		json_decref(x);
		if (r != 0)
			_exit(10 + (-r));
	}
	_exit(0);
}

static double run_writers(int nw, int per)
{
	pid_t pids[64];
	double t0 = now_s();
	int st;

	fflush(stdout); /* children must not inherit (and repeat) buffered output */
	for (int w = 0; w < nw; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0)
			writer(w, per, 0);
	}
	for (int w = 0; w < nw; w++) {
		assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			printf("#   writer %d: status %d\n", w, st);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	return now_s() - t0;
}

/* Under valgrind (run-all sets IG_VALGRIND) the same checks run on fewer
 * events: valgrind serialises the writers and makes each append ~50x slower. */
static int under_valgrind(void)
{
	return getenv("IG_VALGRIND") != NULL;
}

static void t_concurrency(void **state)
{
	enum { MAXW = 50, MAXPER = 100 };
	const int NW = under_valgrind() ? 10 : MAXW, PER = under_valgrind() ? 20 : MAXPER;
	static unsigned char seen[MAXW][MAXPER];
	struct ig_audit_verify_result res;
	struct lines L;
	double dt;

	(void)state;
	memset(seen, 0, sizeof(seen));
	g_lock_timeout_ms = 60000;
	dt = run_writers(NW, PER);
	g_lock_timeout_ms = 0;
	printf("# concurrency: %d writers x %d events = %d appends in %.2f s (%.0f appends/s, "
	       "fsync each)\n",
	       NW, PER, NW * PER, dt, NW * PER / dt);
	split(g_log, &L);
	assert_int_equal(L.n, NW * PER + 1);
	for (size_t i = 0; i < L.n; i++) {
		struct ig_audit_record rec;
		json_t *w, *k;
		assert_int_equal(ig_audit_parse_line(L.l[i], strlen(L.l[i]), &rec, NULL, 0), 0);
		assert_int_equal(rec.seq, i + 1);
		if (i == 0) {
			assert_string_equal(rec.event, "log_start");
		} else {
			w = json_object_get(rec.obj, "writer");
			k = json_object_get(rec.obj, "i");
			assert_true(json_is_integer(w) && json_is_integer(k));
			assert_true(json_integer_value(w) >= 0 && json_integer_value(w) < NW);
			assert_true(json_integer_value(k) >= 0 && json_integer_value(k) < PER);
			seen[json_integer_value(w)][json_integer_value(k)]++;
		}
		ig_audit_record_clear(&rec);
	}
	for (int w = 0; w < NW; w++)
		for (int i = 0; i < PER; i++)
			assert_int_equal(seen[w][i], 1);
	assert_int_equal(ig_audit_verify(g_log, &res), 0);
	assert_int_equal(res.last_seq, NW * PER + 1);
	free(L.buf);
}

static void t_kill9(void **state)
{
	enum { NW = 6 };
	const int ROUNDS = under_valgrind() ? 4 : 25;
	struct ig_audit_verify_result res;
	unsigned seed = 20261129;
	pid_t pids[NW];
	int r, st;

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		struct timespec nap;
		fflush(stdout);
		for (int w = 0; w < NW; w++) {
			pids[w] = fork();
			assert_true(pids[w] >= 0);
			if (pids[w] == 0)
				writer(round * NW + w, 1000, 1);
		}
		nap.tv_sec = 0;
		nap.tv_nsec = (long)(rand_r(&seed) % 40 + 1) * 1000000L;
		nanosleep(&nap, NULL);
		for (int w = 0; w < NW; w++) {
			/* stagger the kills so some land mid-write */
			nap.tv_nsec = (long)(rand_r(&seed) % 3000) * 1000L;
			nanosleep(&nap, NULL);
			kill(pids[w], SIGKILL);
		}
		for (int w = 0; w < NW; w++)
			assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
	}
	/* One more append terminates and records any torn tail. */
	assert_int_equal(append_ev(g_log, T0, "final", "allow", NULL), 0);
	r = ig_audit_verify(g_log, &res);
	printf("# kill -9: %d rounds x %d writers: %llu lines, %llu torn, result %s%s\n", ROUNDS,
	       NW, (unsigned long long)res.lines, (unsigned long long)res.torn,
	       r == 0 ? "intact" : "reported: ", r == 0 ? "" : res.what);
	assert_true(r == 0 || (r == IG_ERR_PARSE && strcmp(res.kind, "torn") == 0));
	assert_int_equal(res.broken_line, 0);
	assert_true(res.lines > 1);
}

static void t_perf(void **state)
{
	static const int ws[] = {1, 8, 32};

	(void)state;
	if (under_valgrind())
		return; /* figures only; meaningless under valgrind */
	g_lock_timeout_ms = 60000;
	for (size_t k = 0; k < sizeof(ws) / sizeof(ws[0]); k++) {
		int per = 256 / ws[k];
		double dt;
		unlink(g_log);
		dt = run_writers(ws[k], per);
		printf("# perf: %2d writer(s) x %3d appends: %.0f appends/s (fsync each)\n", ws[k],
		       per, ws[k] * per / dt);
	}
	g_lock_timeout_ms = 0;
}

/* ---- locking ---------------------------------------------------------- */

static void t_lock_timeout(void **state)
{
	struct ig_audit_opts o = opts_at(g_log, T0);
	struct ig_audit_event ev = {"auth", "u", NULL, NULL, "deny", "x", NULL};
	char hp[PATH_MAX];
	int p[2], hfd, lfd, st;
	pid_t pid;
	char c;
	double t0;

	(void)state;
	append_n(g_log, 1, T0);
	/* A reader holding a lock on the log itself cannot stall writers. */
	lfd = open(g_log, O_RDONLY);
	assert_true(lfd >= 0);
	assert_int_equal(flock(lfd, LOCK_EX), 0);
	assert_int_equal(append_ev(g_log, T0, "u", "allow", NULL), 0);
	close(lfd);
	/* A writer stuck holding the writers' lock: bounded wait, then an error. */
	assert_int_equal(ig_bfmt(hp, sizeof(hp), "%s.head", g_log), 0);
	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		hfd = open(hp, O_RDWR);
		if (hfd < 0 || flock(hfd, LOCK_EX) != 0)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		sleep(10);
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	o.lock_timeout_ms = 300;
	t0 = now_s();
	assert_int_equal(ig_audit_append(&o, &ev), IG_ERR_LOCK);
	assert_true(now_s() - t0 < 3.0);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(p[0]);
	close(p[1]);
	assert_int_equal(ig_audit_append(&o, &ev), 0);
}

/* ---- unsafe files ----------------------------------------------------- */

static void t_unsafe(void **state)
{
	struct ig_audit_verify_result res;
	char real[PATH_MAX], other[PATH_MAX], sub[PATH_MAX], sublog[PATH_MAX], hp[PATH_MAX];
	int fd;

	(void)state;
	assert_int_equal(ig_bfmt(real, sizeof(real), "%s/real.jsonl", g_dir), 0);
	assert_int_equal(ig_bfmt(other, sizeof(other), "%s/other", g_dir), 0);
	assert_int_equal(ig_bfmt(hp, sizeof(hp), "%s.head", g_log), 0);
	/* Symlinked log. */
	fd = open(real, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(symlink(real, g_log), 0);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), IG_ERR_UNSAFE);
	assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_UNSAFE);
	unlink(g_log);
	/* Group-writable log. */
	append_n(g_log, 1, T0);
	assert_int_equal(chmod(g_log, 0660), 0);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), IG_ERR_UNSAFE);
	assert_int_equal(chmod(g_log, 0640), 0);
	/* Not root-owned. */
	assert_int_equal(chown(g_log, 65534, 0), 0);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), IG_ERR_UNSAFE);
	assert_int_equal(chown(g_log, 0, 0), 0);
	/* Hard link. */
	assert_int_equal(link(g_log, other), 0);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), IG_ERR_UNSAFE);
	unlink(other);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), 0);
	/* Head file: symlink, then readable by others. */
	unlink(hp);
	assert_int_equal(symlink(real, hp), 0);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), IG_ERR_UNSAFE);
	unlink(hp);
	fd = open(hp, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), IG_ERR_UNSAFE);
	unlink(hp);
	/* Parent directory not root-owned, then group-writable. */
	assert_int_equal(ig_bfmt(sub, sizeof(sub), "%s/sub", g_dir), 0);
	assert_int_equal(ig_bfmt(sublog, sizeof(sublog), "%s/audit.jsonl", sub), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(chown(sub, 65534, 0), 0);
	assert_int_not_equal(append_ev(sublog, T0, "u", "deny", NULL), 0);
	assert_int_equal(chown(sub, 0, 0), 0);
	assert_int_equal(chmod(sub, 0775), 0);
	assert_int_not_equal(append_ev(sublog, T0, "u", "deny", NULL), 0);
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(append_ev(sublog, T0, "u", "deny", NULL), 0);
	rm_rf(sub);
	/* Bad paths and events. */
	assert_int_equal(append_ev("relative/audit.jsonl", T0, "u", "deny", NULL), IG_ERR_INVAL);
	assert_int_equal(append_ev("/x/.hidden", T0, "u", "deny", NULL), IG_ERR_INVAL);
	assert_int_equal(append_ev(g_log, T0, "u", "maybe", NULL), IG_ERR_INVAL);
	{
		json_t *arr = json_array();
		assert_int_equal(append_ev(g_log, T0, "u", "deny", arr), IG_ERR_INVAL);
		json_decref(arr);
	}
	unlink(real);
}

/* ---- content ---------------------------------------------------------- */

static const char *const secrets[] = {"TOKSECRET123", "SAKSECRET456", "654321",
                                      "PWSECRET789",  "ARRSECRET000", "forged-allow"};

static void t_secrets(void **state)
{
	json_t *x;
	char *b;
	struct lines L;
	struct ig_audit_record rec;
	json_t *dk;
	char text[4096];

	(void)state;
	x = json_pack("{ss ss ss ss s{ss ss} s[{ss ss}] ss ss}", "role", "ro", "session_token",
	              "TOKSECRET123", "SecretAccessKey", "SAKSECRET456", "code", "654321", "nested",
	              "password", "PWSECRET789", "ok", "fine", "roles", "role", "r1",
	              "aws_session_token", "ARRSECRET000", "decision", "forged-allow",
	              "access_key_id", "ASIAEXAMPLE");
	assert_non_null(x);
	assert_int_equal(append_ev(g_log, T0, "alice", "deny", x), 0);
	json_decref(x);
	b = slurp(g_log, NULL);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		assert_null(strstr(b, secrets[i]));
	assert_non_null(strstr(b, "ASIAEXAMPLE")); /* the key id is not a secret */
	assert_non_null(strstr(b, "\"ok\":\"fine\""));
	free(b);
	split(g_log, &L);
	assert_int_equal(ig_audit_parse_line(L.l[1], strlen(L.l[1]), &rec, NULL, 0), 0);
	assert_string_equal(rec.decision, "deny");
	dk = json_object_get(rec.obj, "dropped_keys");
	assert_true(json_is_array(dk));
	{
		const char *want[] = {"session_token", "SecretAccessKey",   "code",
		                      "password",      "aws_session_token", "decision"};
		for (size_t i = 0; i < 6; i++) {
			size_t k;
			json_t *v;
			int found = 0;
			json_array_foreach(dk, k, v) found |=
			        strcmp(json_string_value(v), want[i]) == 0;
			assert_true(found);
		}
	}
	assert_int_equal(ig_audit_syslog_text(L.l[1], strlen(L.l[1]), text, sizeof(text)), 0);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		assert_null(strstr(text, secrets[i]));
	ig_audit_record_clear(&rec);
	free(L.buf);
}

static void t_syslog_text(void **state)
{
	struct ig_audit_opts o = opts_at(g_log, T0);
	struct ig_audit_event ev = {
	        "auth", "evil\n\x1b[31mroot decision=allow", "10.0.0.9", "sshd", "deny", "bad_code",
	        NULL};
	char text[2048], hex[65];
	struct lines L;

	(void)state;
	o.use_syslog = 1; /* the call itself must be harmless */
	assert_int_equal(ig_audit_append(&o, &ev), 0);
	split(g_log, &L);
	assert_int_equal(ig_audit_syslog_text(L.l[1], strlen(L.l[1]), text, sizeof(text)), 0);
	printf("#   syslog: %s\n", text);
	for (const char *p = text; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	assert_non_null(strstr(text, "event=auth user=\"evil\\x0a\\x1b[31mroot decision=allow\" "
	                             "rhost=10.0.0.9 service=sshd decision=deny reason=bad_code "
	                             "seq=2 hash="));
	sha_hex(L.l[1], strlen(L.l[1]), hex);
	assert_non_null(strstr(text, hex));
	/* Small buffers are cut, never overrun. */
	assert_int_equal(ig_audit_syslog_text(L.l[1], strlen(L.l[1]), text, 10), 0);
	assert_int_equal(strlen(text), 9);
	assert_int_not_equal(ig_audit_syslog_text("{}", 2, text, sizeof(text)), 0);
	free(L.buf);
}

static void t_long_and_odd_values(void **state)
{
	struct stat a, b;
	json_t *x;
	char *big, *user;
	struct lines L;
	struct ig_audit_record rec;

	(void)state;
	append_n(g_log, 1, T0);
	assert_int_equal(stat(g_log, &a), 0);
	big = malloc(20001);
	assert_non_null(big);
	memset(big, 'a', 20000);
	big[20000] = '\0';
	x = json_pack("{ss}", "blob", big);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", x), IG_ERR_RANGE);
	json_decref(x);
	assert_int_equal(stat(g_log, &b), 0);
	assert_int_equal(a.st_size, b.st_size); /* nothing written */
	/* An attacker-sized user name is cut, not refused; bad UTF-8 is escaped. */
	user = malloc(1001);
	assert_non_null(user);
	memset(user, 'm', 1000);
	user[0] = '\xff';
	user[1000] = '\0';
	assert_int_equal(append_ev(g_log, T0, user, "deny", NULL), 0);
	split(g_log, &L);
	assert_int_equal(ig_audit_parse_line(L.l[2], strlen(L.l[2]), &rec, NULL, 0), 0);
	assert_int_equal(strlen(rec.user), 256);
	assert_int_equal(strncmp(rec.user, "\\xffmmm", 7), 0);
	assert_string_equal(rec.user + 253, "...");
	ig_audit_record_clear(&rec);
	free(L.buf);
	free(user);
	free(big);
}

static void t_parse_line(void **state)
{
	static const char *const bad[] = {
	        "",
	        "[]",
	        "{}",
	        "not json",
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1}",
	        /* seq 0 */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":0,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\"}",
	        /* order: host before seq */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"host\":\"h\",\"seq\":1,\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\"}",
	        /* bad date */
	        "{\"time\":\"2026-02-30T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\"}",
	        /* decision */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"maybe\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\"}",
	        /* prev not last */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\",\"x\":1}",
	        /* duplicate key */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"x\":1,\"x\":2,\"prev\":\"PREV\"}",
	        /* fixed key among extras */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"seq\":2,\"prev\":\"PREV\"}",
	        /* user a number */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":5,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\"}",
	        /* trailing garbage */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\"}x",
	        /* uppercase hex */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":"
	        "\"ABCDEF0000000000000000000000000000000000000000000000000000000000\"}",
	        /* short prev */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"00\"}",
	};
	const char *good =
	        "{\"time\":\"2026-11-29T00:00:00.250Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":\"::1\",\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"role\":\"x\",\"prev\":\"PREV\"}";
	const char *zeros = "0000000000000000000000000000000000000000000000000000000000000000";
	struct ig_audit_record rec;
	char why[128];
	char *line;

	(void)state;
	line = subst(good, "PREV", zeros);
	assert_int_equal(ig_audit_parse_line(line, strlen(line), &rec, why, sizeof(why)), 0);
	assert_int_equal(rec.time_ms, T0 + 250);
	assert_null(rec.user);
	assert_string_equal(rec.rhost, "::1");
	assert_string_equal(rec.prev, zeros);
	ig_audit_record_clear(&rec);
	ig_audit_record_clear(&rec); /* idempotent */
	free(line);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		line = strstr(bad[i], "PREV") ? subst(bad[i], "PREV", zeros) : strdup(bad[i]);
		why[0] = '\0';
		assert_int_equal(ig_audit_parse_line(line, strlen(line), &rec, why, sizeof(why)),
		                 IG_ERR_PARSE);
		assert_null(rec.obj);
		assert_true(why[0] != '\0');
		free(line);
	}
}

static void t_parse_time(void **state)
{
	int64_t t;
	const int64_t now = T0 + 12 * 3600000;

	(void)state;
	assert_int_equal(ig_audit_parse_time("2026-11-29", 1, now, 0, &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(ig_audit_parse_time("2026-11-29", 1, now, 1, &t), 0);
	assert_int_equal(t, T0 + 86400000 - 1);
	assert_int_equal(ig_audit_parse_time("2026-11-29T10:00:00Z", 0, now, 0, &t), 0);
	assert_int_equal(t, T0 + 10 * 3600000);
	assert_int_equal(ig_audit_parse_time("2026-11-29T10:00", 1, now, 0, &t), 0);
	assert_int_equal(t, T0 + 10 * 3600000);
	assert_int_equal(ig_audit_parse_time("2026-11-29 10:00:00.250Z", 0, now, 0, &t), 0);
	assert_int_equal(t, T0 + 10 * 3600000 + 250);
	assert_int_equal(ig_audit_parse_time("2026-11-29T10:00:00+01:00", 0, now, 0, &t), 0);
	assert_int_equal(t, T0 + 9 * 3600000);
	assert_int_equal(ig_audit_parse_time("2026-11-29T10:00:00-0130", 0, now, 0, &t), 0);
	assert_int_equal(t, T0 + 11 * 3600000 + 1800000);
	assert_int_equal(ig_audit_parse_time("-1h", 0, now, 0, &t), 0);
	assert_int_equal(t, now - 3600000);
	assert_int_equal(ig_audit_parse_time("-30m", 0, now, 0, &t), 0);
	assert_int_equal(t, now - 1800000);
	assert_int_equal(ig_audit_parse_time("-7d", 0, now, 0, &t), 0);
	assert_int_equal(t, now - 7 * 86400000LL);
	assert_int_equal(ig_audit_parse_time("now", 0, now, 0, &t), 0);
	assert_int_equal(t, now);
	{
		static const char *const bad[] = {"",
		                                  "-h",
		                                  "-5x",
		                                  "1h",
		                                  "2026-02-30",
		                                  "2026-11-29T25:00",
		                                  "2026-11-29T",
		                                  "2026-11-29Z",
		                                  "2026-11-29T10:00:00+",
		                                  "2026-11-29T10:00:00+01:0",
		                                  "yesterday",
		                                  "-99999999999w"};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			assert_int_equal(ig_audit_parse_time(bad[i], 1, now, 0, &t), IG_ERR_PARSE);
	}
}

static void t_verify_buf_edges(void **state)
{
	struct ig_audit_verify_result res;

	(void)state;
	assert_int_equal(ig_audit_verify_buf("", 0, &res), 0);
	assert_int_equal(res.lines, 0);
	assert_int_equal(ig_audit_verify_buf("\n", 1, &res), IG_ERR_PARSE);
	assert_string_equal(res.kind, "not JSON");
	assert_int_equal(ig_audit_verify_buf("{}\n", 3, &res), IG_ERR_PARSE);
	assert_string_equal(res.kind, "malformed");
	assert_int_equal(ig_audit_verify_buf("{\"a\"", 4, &res), IG_ERR_PARSE);
	assert_string_equal(res.kind, "torn");
	{
		char *big = malloc(IG_AUDIT_MAX_LINE + 10);
		assert_non_null(big);
		memset(big, '{', IG_AUDIT_MAX_LINE + 10);
		big[IG_AUDIT_MAX_LINE + 9] = '\n';
		assert_int_equal(ig_audit_verify_buf(big, IG_AUDIT_MAX_LINE + 10, &res),
		                 IG_ERR_PARSE);
		assert_string_equal(res.kind, "too long");
		free(big);
	}
}

/* ---- CLI -------------------------------------------------------------- */

static void t_cli_verify(void **state)
{
	char out[8192], err[8192], cfg[PATH_MAX], body[PATH_MAX + 64];
	struct lines L;
	char *x;
	int rc, fd;

	(void)state;
	append_n(g_log, 10, T0);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             (char *)NULL);
	printf("#   %s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, ": 11 lines, chain intact (seq 1..11)"));
	/* --config reads audit.path only. */
	assert_int_equal(ig_bfmt(cfg, sizeof(cfg), "%s/iamgate.json", g_dir), 0);
	assert_int_equal(ig_bfmt(body, sizeof(body),
	                         "{\"other\": {\"x\": 1}, \"audit\": {\"path\": \"%s\"}}", g_log),
	                 0);
	fd = open(cfg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--config", cfg,
	             (char *)NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "chain intact"));
	/* Broken: exit 1 naming the line. */
	split(g_log, &L);
	x = subst(L.l[4], "\"decision\":\"allow\"", "\"decision\":\"deny\"");
	L.l[4] = x;
	join(g_log, &L, -1);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             (char *)NULL);
	printf("#   %s", out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "NOT intact"));
	assert_non_null(strstr(out, "line 5: edited: line 5 was changed after it was written"));
	free(x);
	free(L.buf);
	/* Cannot read: exit 2 with the reason. */
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log",
	             "/nonexistent/audit.jsonl", (char *)NULL);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "cannot read /nonexistent/audit.jsonl"));
	/* Config without audit.path. */
	fd = open(cfg, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "{}", 2), 2);
	close(fd);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--config", cfg,
	             (char *)NULL);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "has no absolute \"audit\""));
	/* Usage errors. */
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", (char *)NULL), 2);
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", "frob", (char *)NULL),
	                 2);
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--bogus",
	                         (char *)NULL),
	                 2);
	assert_non_null(strstr(err, "unknown option"));
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log",
	                         (char *)NULL),
	                 2);
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log",
	                         g_log, "--config", cfg, (char *)NULL),
	                 2);
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log",
	                         (char *)NULL),
	                 2);
	/* No path at all and no default. */
	assert_int_equal(
	        run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", (char *)NULL), 2);
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", "help", (char *)NULL),
	                 0);
	assert_non_null(strstr(out, "usage: iamgate audit verify"));
}

/* Column where needle starts in line, or -1. */
static int col_of(const char *line, const char *needle)
{
	const char *p = strstr(line, needle);

	return p ? (int)(p - line) : -1;
}

static void t_cli_show(void **state)
{
	char out[16384], err[8192];
	json_t *x;
	int rc;
	char *l2, *nl;

	(void)state;
	x = json_pack("{ss}", "role", "readonly");
	assert_int_equal(append_ev(g_log, T0 + 3600000, "alice", "allow", x), 0);
	json_decref(x);
	assert_int_equal(append_ev(g_log, T0 + 7200000, "bob", "deny", NULL), 0);
	assert_int_equal(append_ev(g_log, T0 + 86400000, "evil\x1b[2J", "deny", NULL), 0);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log, "--utc",
	             (char *)NULL);
	printf("%s", out);
	assert_int_equal(rc, 0);
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(out, "evil\\x1b[2J"));
	assert_non_null(strstr(out, "TIME (UTC)"));
	assert_non_null(strstr(out, "2026-11-29 01:00:00Z"));
	assert_non_null(strstr(out, "(4 of 4 events)"));
	/* Aligned: the DECISION header and the values start in the same column. */
	l2 = strchr(out, '\n') + 1;
	nl = strchr(l2, '\n');
	*nl = '\0';
	assert_int_equal(col_of(out, "DECISION"), col_of(l2, "info"));
	*nl = '\n';
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log, "--utc",
	             "--user", "bob", (char *)NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "bob"));
	assert_null(strstr(out, "alice"));
	assert_non_null(strstr(out, "(1 of 4 events)"));
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log,
	             "--decision", "deny", "--since", "2026-11-29T01:30:00Z", "--until",
	             "2026-11-29", "--utc", (char *)NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "bob"));
	assert_null(strstr(out, "evil"));
	assert_non_null(strstr(out, "(1 of 4 events)"));
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log, "--role",
	             "readonly", "--json", (char *)NULL);
	assert_int_equal(rc, 0);
	{
		json_error_t je;
		json_t *o = json_loads(out, 0, &je);
		assert_non_null(o);
		assert_string_equal(json_string_value(json_object_get(o, "user")), "alice");
		json_decref(o);
		assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out)); /* one line */
	}
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log, "--since",
	             "yesterday-ish", (char *)NULL);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "cannot read the time"));
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log,
	             "--decision", "perhaps", (char *)NULL);
	assert_int_equal(rc, 2);
	/* Local time is the default. */
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log,
	             (char *)NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "TIME (local)"));
}

/* The shipped logrotate configuration, run for real against a test log. */
static int run_logrotate(const char *conf, const char *statef)
{
	char outp[PATH_MAX];
	pid_t pid;
	int st, fd;

	assert_int_equal(ig_bfmt(outp, sizeof(outp), "%s/logrotate.out", g_dir), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *const argv[] = {"logrotate", "-f", "-s", (char *)statef, (char *)conf, NULL};
		char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
		fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execve("/usr/sbin/logrotate", argv, envp);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char *o = slurp(outp, NULL);
		printf("#   logrotate: %s\n", o);
		free(o);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void t_logrotate(void **state)
{
	char src[PATH_MAX], conf[PATH_MAX], statef[PATH_MAX], out[8192], err[4096];
	char *text, *a, *b;
	struct stat st;
	int fd, rc;

	(void)state;
	if (access("/usr/sbin/logrotate", X_OK) != 0) {
		printf("# skip: logrotate is not installed (Debian package logrotate)\n");
		skip();
	}
	assert_int_equal(ig_bfmt(src, sizeof(src), "%s/packaging/logrotate/iamgate", IG_SOURCE_DIR),
	                 0);
	assert_int_equal(ig_bfmt(conf, sizeof(conf), "%s/logrotate.conf", g_dir), 0);
	assert_int_equal(ig_bfmt(statef, sizeof(statef), "%s/logrotate.state", g_dir), 0);
	text = slurp(src, NULL);
	/* Point it at the test log; use group root unless iamgate-audit exists. */
	a = subst(text, "/var/log/iamgate/audit.jsonl", g_log);
	b = getgrnam("iamgate-audit") ? strdup(a) : subst(a, "root iamgate-audit", "root root");
	fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, strlen(b)), (ssize_t)strlen(b));
	close(fd);
	free(text);
	free(a);
	free(b);

	append_n(g_log, 3, T0);
	assert_int_equal(run_logrotate(conf, statef), 0);
	assert_int_equal(stat(g_log, &st), 0); /* "create": a new, empty log */
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	append_n(g_log, 2, T0 + 10000);
	assert_int_equal(run_logrotate(conf, statef), 0);
	append_n(g_log, 2, T0 + 20000);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             "--rotated", (char *)NULL);
	printf("#   %s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "(3 files): 10 lines, chain intact (seq 1..10)"));
	/* Without the older files, the newest still verifies and says it continues. */
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             (char *)NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "continues an earlier log"));
}

/* An auditor is not root: reading works, the head file is not needed. */
static void t_nonroot_reader(void **state)
{
	char lnk[PATH_MAX];
	pid_t pid;
	int st;

	(void)state;
	append_n(g_log, 5, T0);
	assert_int_equal(chmod(g_log, 0644), 0); /* stands in for group iamgate-audit */
	assert_int_equal(ig_bfmt(lnk, sizeof(lnk), "%s/link.jsonl", g_dir), 0);
	assert_int_equal(symlink(g_log, lnk), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ig_audit_verify_result res;
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		if (ig_audit_verify(g_log, &res) != 0 || res.lines != 6 || res.head_checked)
			_exit(4);
		if (ig_audit_verify(lnk, &res) != IG_ERR_UNSAFE)
			_exit(5);
		/* A non-root process cannot write the log. */
		if (append_ev(g_log, T0, "x", "deny", NULL) == 0)
			_exit(6);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(t_chain_intact, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_edit, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_edit_prev_field, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_delete, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_delete_first, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_swap, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_truncate_mid_line, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_insert, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_not_json, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_last_lines, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_rotation, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_rotation_writer_creates, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_rotation_head_fallback, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_rotation_torn_predecessor, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_logrotate, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_torn_tail, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_torn_before_newline, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_concurrency, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_kill9, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_perf, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_lock_timeout, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_unsafe, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_secrets, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_syslog_text, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_long_and_odd_values, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_parse_line, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_parse_time, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_verify_buf_edges, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_cli_verify, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_cli_show, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_nonroot_reader, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
