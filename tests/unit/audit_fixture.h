/*
 * audit_fixture.h - what the audit log's unit tests share: a scratch
 * directory under $ROOT/build/audit-t/ (root-owned parents, as the
 * trusted-path checks require), appends with an injected clock, file
 * surgery (slurp, split, join, subst) and running the CLI in-process.
 * Include after cmocka.h.
 */
#ifndef IAMGATE_TEST_AUDIT_FIXTURE_H
#define IAMGATE_TEST_AUDIT_FIXTURE_H

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

#include <jansson.h>
#include <openssl/evp.h>

#include "iamgate/audit.h"
#include "iamgate/util.h"
#include "iamgate/audit_cli.h"
#include "iamgate/audit_line.h"
#include "iamgate/audit_verify.h"

#define T0 1795910400000LL /* 2026-11-29T00:00:00Z */
#define MAXL 4096

static char g_dir[PATH_MAX];
/* 0: the default bound.  The throughput tests raise it: under valgrind an
 * append takes ~30 ms, and they measure integrity, not the bound (which
 * t_lock_timeout tests). */
static int g_lock_timeout_ms;
static char g_log[PATH_MAX];

/* ---- helpers ---------------------------------------------------------- */

__attribute__((unused)) static void rm_rf(const char *dir)
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

__attribute__((unused)) static int setup(void **state)
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

__attribute__((unused)) static int teardown(void **state)
{
	(void)state;
	rm_rf(g_dir);
	return 0;
}

__attribute__((unused)) static struct ig_audit_opts opts_at(const char *path, int64_t ms)
{
	struct ig_audit_opts o;

	memset(&o, 0, sizeof(o));
	o.lock_timeout_ms = g_lock_timeout_ms;
	o.path = path;
	o.host = "bastion-1";
	o.now_ms = ms;
	return o;
}

__attribute__((unused)) static int append_ev(const char *path, int64_t ms, const char *user,
                                             const char *decision, json_t *extra)
{
	struct ig_audit_opts o = opts_at(path, ms);
	struct ig_audit_event ev = {"auth",     user,
	                            "10.0.0.7", "sshd",
	                            decision,   strcmp(decision, "allow") == 0 ? "ok" : "bad_code",
	                            extra};

	return ig_audit_append(&o, &ev);
}

/* n events; users u0..; decisions alternate deny/allow. */
__attribute__((unused)) static void append_n(const char *path, int n, int64_t start)
{
	char u[32];

	for (int i = 0; i < n; i++) {
		assert_int_equal(ig_bfmt(u, sizeof(u), "u%d", i), 0);
		assert_int_equal(
		        append_ev(path, start + i * 1000, u, i % 2 ? "allow" : "deny", NULL), 0);
	}
}

__attribute__((unused)) static char *slurp(const char *path, size_t *len)
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
__attribute__((unused)) static void spit(const char *path, const char *buf, size_t len)
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

__attribute__((unused)) static void split(const char *path, struct lines *L)
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
__attribute__((unused)) static void join(const char *path, struct lines *L, ssize_t skip)
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

__attribute__((unused)) static void sha_hex(const char *s, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int k = 0;

	assert_int_equal(EVP_Digest(s, n, md, &k, EVP_sha256(), NULL), 1);
	ig_hex(md, 32, out);
}

/* Replace the first occurrence of from with to in line (returns new malloc'd). */
__attribute__((unused)) static char *subst(const char *line, const char *from, const char *to)
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

__attribute__((unused)) static int verify_one(const char *path, struct ig_audit_verify_result *res)
{
	int r = ig_audit_verify(path, res);

	if (r != 0)
		printf("#   verify: line %llu kind '%s': %s\n", (unsigned long long)res->bad_line,
		       res->kind, res->what);
	return r;
}

/* Run the CLI with stdout and stderr captured into out/err. */
__attribute__((unused)) static int run_cli(char *out, size_t outcap, char *err, size_t errcap, ...)
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

__attribute__((unused)) static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((unused)) static void expect_bad(const char *path, uint64_t line, const char *kind)
{
	struct ig_audit_verify_result res;
	int r = ig_audit_verify(path, &res);

	printf("#   %s\n", res.what);
	assert_int_equal(r, IG_ERR_PARSE);
	assert_int_equal(res.bad_line, line);
	assert_string_equal(res.kind, kind);
	assert_int_equal(strncmp(res.what, kind, strlen(kind)), 0);
}

#endif
