/*
 * policy_driver.c - a stand-in for `iamgate check --policies DIR` until the CLI
 * exists: runs ig_policy_check and prints the findings.
 *
 *   policy_driver --dir DIR [--bastion ARN] [--bucket NAME]... [--sid-pattern RE]
 *                 ROLE:pii|nopii ...
 *   policy_driver --doc FILE [--trust] [--bastion ARN] [--bucket NAME]... ROLE:pii|nopii
 *
 * Prints "file:line: error|warning: message" (or "file: ..." when the finding
 * has no line) on stdout, then "N error(s)".  Exit 0 when no errors, 1 when
 * errors were found, 2 when the analysis could not run or on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iamgate/policy.h"

#define MAX_ROLES 64
#define MAX_BUCKETS 16

static void report(void *ctx, const char *file, int line, enum ig_policy_sev sev,
                   const char *message)
{
	const char *s = sev == IG_POLICY_ERROR ? "error" : "warning";

	(void)ctx;
	if (line > 0)
		printf("%s:%d: %s: %s\n", file, line, s, message);
	else
		printf("%s: %s: %s\n", file, s, message);
}

static int usage(void)
{
	fprintf(stderr, "usage: policy_driver --dir DIR [--bastion ARN] [--bucket NAME]... "
	                "[--sid-pattern RE] ROLE:pii|nopii ...\n"
	                "       policy_driver --doc FILE [--trust] [options] ROLE:pii|nopii\n");
	return 2;
}

static int read_all(const char *path, char **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > IG_POLICY_MAX_FILE) {
		close(fd);
		return -1;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (*buf == NULL) {
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, *buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	(*buf)[got] = '\0';
	*len = got;
	return 0;
}

int main(int argc, char **argv)
{
	static char names[MAX_ROLES][128];
	struct ig_policy_role roles[MAX_ROLES];
	const char *buckets[MAX_BUCKETS];
	struct ig_policy_opts o = {0};
	const char *doc = NULL;
	size_t nroles = 0, nbuckets = 0;
	int trust = 0, r;

	o.bastion_role_arn = "arn:aws:iam::111122223333:role/iamgate-bastion";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--dir") == 0 && i + 1 < argc) {
			o.dir = argv[++i];
		} else if (strcmp(a, "--doc") == 0 && i + 1 < argc) {
			doc = argv[++i];
		} else if (strcmp(a, "--trust") == 0) {
			trust = 1;
		} else if (strcmp(a, "--bastion") == 0 && i + 1 < argc) {
			o.bastion_role_arn = argv[++i];
		} else if (strcmp(a, "--sid-pattern") == 0 && i + 1 < argc) {
			o.sid_pattern = argv[++i];
		} else if (strcmp(a, "--bucket") == 0 && i + 1 < argc && nbuckets < MAX_BUCKETS) {
			buckets[nbuckets++] = argv[++i];
		} else if (a[0] != '-' && nroles < MAX_ROLES) {
			const char *colon = strrchr(a, ':');
			size_t n = colon ? (size_t)(colon - a) : 0;
			if (colon == NULL || n == 0 || n >= sizeof(names[0]) ||
			    (strcmp(colon + 1, "pii") != 0 && strcmp(colon + 1, "nopii") != 0))
				return usage();
			memcpy(names[nroles], a, n);
			names[nroles][n] = '\0';
			roles[nroles].name = names[nroles];
			roles[nroles].arn = NULL;
			roles[nroles].pii = strcmp(colon + 1, "pii") == 0;
			nroles++;
		} else {
			return usage();
		}
	}
	o.pii_buckets = buckets;
	o.n_pii_buckets = nbuckets;
	if (doc != NULL) {
		char *buf = NULL;
		size_t len = 0;
		int reach = 0;
		if (nroles != 1)
			return usage();
		if (read_all(doc, &buf, &len) != 0) {
			fprintf(stderr, "policy_driver: cannot read %s\n", doc);
			return 2;
		}
		r = ig_policy_check_text(&o, &roles[0], doc, buf, len, trust, &reach, report, NULL);
		free(buf);
		if (r >= 0)
			printf("reach=%d\n", reach);
	} else {
		if (o.dir == NULL || nroles == 0)
			return usage();
		r = ig_policy_check(&o, roles, nroles, report, NULL);
	}
	if (r < 0) {
		fprintf(stderr, "policy_driver: analysis could not run (%d)\n", r);
		return 2;
	}
	printf("%d error(s)\n", r);
	return r > 0 ? 1 : 0;
}
