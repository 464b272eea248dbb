/*
 * sts_endpoint_fixture.h - start/stop/steer the STS test endpoint, the
 * IMDS emulator and (with "--store") dynalite behind its proxy and the KMS
 * endpoint (tests/sts/stsctl.sh) from a cmocka test.  Included by the AWS
 * units' tests (test_sts.c, test_creds.c, test_ddb.c, test_kms.c); everything
 * is static.
 *
 * The script is run with fork/execv (no shell string), its stdout thrown
 * away; it writes DIR/env, which is read back here.  Servers get a bounded
 * lifetime, so a crashed test leaves nothing running for long.
 */
#ifndef IAMGATE_TEST_STS_ENDPOINT_FIXTURE_H
#define IAMGATE_TEST_STS_ENDPOINT_FIXTURE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "iamgate/creds.h"
#include "iamgate/util.h"

#define EP_SCRIPT IG_SOURCE_DIR "/tests/sts/stsctl.sh"

struct ep {
	char dir[600];
	char sts_url[128];
	char sts_ca[700];
	char sts_log[700];
	char aws_credentials[700];
	char imds_url[128];
	char imds_log[700];
	char ddb_url[128];
	char kms_url[128];
	char kms_key_arn[256];
	char region[64];
	int up;
};

static int ep_available(void)
{
	return access(EP_SCRIPT, X_OK) == 0;
}

/*
 * The integration tests need the endpoint, which is part of the tree: when it
 * did not start, that is a failure (never a silent skip that would pass CI).
 * Needs cmocka.h included before this header.
 */
static void ep_require(const struct ep *e)
{
	if (!e->up)
		fail_msg("the STS test endpoint / IMDS emulator did not start (%s); "
		         "see the group setup's output",
		         EP_SCRIPT);
}

/* Run argv[0] with argv; stdout to out (NULL: /dev/null).  Returns the
 * exit status. */
static int ep_run(char *const argv[], const char *out)
{
	pid_t pid = fork();
	int st = 0;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0)
			dup2(fd, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Copy a value printed by bash's printf %q: undo its backslash escapes
 * ("https://\[::1\]:1234"); other quoting forms are not expected. */
static void ep_copy(char *dst, size_t cap, const char *v)
{
	size_t n = 0;

	for (; *v != '\0' && n + 1 < cap; v++) {
		if (*v == '\\' && v[1] != '\0')
			v++;
		dst[n++] = *v;
	}
	dst[n] = '\0';
}

/* Read DIR/env ("export NAME=value" lines; values are plain paths/URLs). */
static int ep_read_env(struct ep *e)
{
	char path[700], line[1024];
	FILE *f;

	if (ig_bfmt(path, sizeof(path), "%s/env", e->dir) != 0 || (f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq, *v;
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "export ", 7) != 0 || (eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		v = eq + 1;
		if (strcmp(line + 7, "STS_URL") == 0)
			ep_copy(e->sts_url, sizeof(e->sts_url), v);
		else if (strcmp(line + 7, "STS_CA") == 0)
			ep_copy(e->sts_ca, sizeof(e->sts_ca), v);
		else if (strcmp(line + 7, "STS_LOG") == 0)
			ep_copy(e->sts_log, sizeof(e->sts_log), v);
		else if (strcmp(line + 7, "STS_AWS_CREDENTIALS") == 0)
			ep_copy(e->aws_credentials, sizeof(e->aws_credentials), v);
		else if (strcmp(line + 7, "IMDS_URL") == 0)
			ep_copy(e->imds_url, sizeof(e->imds_url), v);
		else if (strcmp(line + 7, "IMDS_LOG") == 0)
			ep_copy(e->imds_log, sizeof(e->imds_log), v);
		else if (strcmp(line + 7, "DDB_URL") == 0)
			ep_copy(e->ddb_url, sizeof(e->ddb_url), v);
		else if (strcmp(line + 7, "KMS_URL") == 0)
			ep_copy(e->kms_url, sizeof(e->kms_url), v);
		else if (strcmp(line + 7, "KMS_KEY_ARN") == 0)
			ep_copy(e->kms_key_arn, sizeof(e->kms_key_arn), v);
		else if (strcmp(line + 7, "AWS_TEST_REGION") == 0)
			ep_copy(e->region, sizeof(e->region), v);
	}
	fclose(f);
	return e->sts_url[0] && e->sts_ca[0] && e->aws_credentials[0] ? 0 : -1;
}

/* Start the servers in dir (created 0700); opts: extra options for
 * "stsctl.sh start" (at most 8), NULL-terminated, or NULL. */
static int ep_start(struct ep *e, const char *dir, const char *const *opts)
{
	char *argv[16];
	int n = 0;

	memset(e, 0, sizeof(*e));
	ep_copy(e->dir, sizeof(e->dir), dir);
	if (mkdir(dir, 0700) != 0)
		return -1;
	argv[n++] = (char *)"/bin/bash";
	argv[n++] = (char *)EP_SCRIPT;
	argv[n++] = (char *)"start";
	argv[n++] = e->dir;
	argv[n++] = (char *)"--lifetime";
	argv[n++] = (char *)"900";
	for (int i = 0; opts != NULL && opts[i] != NULL && i < 8; i++)
		argv[n++] = (char *)opts[i];
	argv[n] = NULL;
	if (ep_run(argv, NULL) != 0 || ep_read_env(e) != 0)
		return -1;
	e->up = 1;
	return 0;
}

/* POST faults (JSON) to "sts", "imds", "ddb" or "kms". */
static int ep_ctl(const struct ep *e, const char *which, const char *json)
{
	char *argv[] = {(char *)"/bin/bash", (char *)EP_SCRIPT, (char *)"ctl", (char *)e->dir,
	                (char *)which,       (char *)json,      NULL};

	return ep_run(argv, NULL);
}

/* Requests the server has answered so far (its control stats; counted
 * before the answer is sent), or -1. */
static long ep_requests(const struct ep *e, const char *which)
{
	char *argv[] = {(char *)"/bin/bash", (char *)EP_SCRIPT, (char *)"ctl",
	                (char *)e->dir,      (char *)which,     NULL};
	char out[700];
	json_error_t jerr;
	json_t *j;
	long n = -1;

	if (ig_bfmt(out, sizeof(out), "%s/ctl.out", e->dir) != 0 || ep_run(argv, out) != 0)
		return -1;
	if ((j = json_load_file(out, 0, &jerr)) != NULL) {
		json_t *v = json_object_get(json_object_get(j, "stats"), "requests");
		if (json_is_integer(v))
			n = (long)json_integer_value(v);
		json_decref(j);
	}
	return n;
}

/* Stop the servers and remove dir. */
static void ep_stop(struct ep *e)
{
	char *argv[] = {(char *)"/bin/bash", (char *)EP_SCRIPT, (char *)"stop", e->dir, NULL};
	char *rm[] = {(char *)"/bin/rm", (char *)"-rf", (char *)"--", e->dir, NULL};

	if (e->dir[0] == '\0')
		return;
	if (e->up)
		(void)ep_run(argv, NULL);
	if (strstr(e->dir, "/build/") != NULL)
		(void)ep_run(rm, NULL);
	e->up = 0;
}

/* The keys of the state's credential `profile` (bastion, instance,
 * outsider), read as the helper reads a credentials file. */
__attribute__((unused)) static int ep_profile(const struct ep *e, const char *profile,
                                              struct ig_aws_creds *c)
{
	struct ig_creds_config cc = {0};
	struct ig_creds_info info;

	cc.source = IG_CREDS_SRC_FILE;
	cc.file = e->aws_credentials;
	cc.profile = profile;
	return ig_creds_load(&cc, c, &info);
}

/* Start the servers (opts as for ep_start) in a fresh scratch directory
 * build/t-TAG-PID (its path into scratch); the servers are part of the
 * tree, so their absence is a failure, never a skip.  (Not every test
 * that includes this header uses every helper: hence "unused".) */
__attribute__((unused)) static int ep_start_scratch(struct ep *e, char *scratch, size_t cap,
                                                    const char *tag, const char *const *opts)
{
	char dir[600];

	if (!ep_available() ||
	    ig_bfmt(scratch, cap, "%s/build/t-%s-%d", IG_SOURCE_DIR, tag, (int)getpid()) != 0 ||
	    mkdir(scratch, 0700) != 0 || ig_bfmt(dir, sizeof(dir), "%s/ep", scratch) != 0)
		return -1;
	return ep_start(e, dir, opts);
}

/* Stop the servers and remove the scratch directory. */
__attribute__((unused)) static int ep_stop_scratch(struct ep *e, const char *scratch)
{
	char *rm[] = {(char *)"/bin/rm", (char *)"-rf", (char *)"--", (char *)scratch, NULL};

	ep_stop(e);
	return ep_run(rm, NULL) == 0 ? 0 : -1;
}

#endif
