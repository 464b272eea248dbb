/*
 * audit_cli.h - `iamgate audit ...`: the auditors' and administrators'
 * commands on the audit log (verify, show, seal-init, seal).  The options
 * are parsed here once; show lives in audit_show.c.
 */
#ifndef IAMGATE_AUDIT_CLI_H
#define IAMGATE_AUDIT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IG_AUDIT_CLI_MAX_LOGS 100

struct ig_audit_cli_opts {
	const char *logs[IG_AUDIT_CLI_MAX_LOGS];
	size_t nlogs;
	const char *config;
	int rotated, json, utc;
	const char *user, *decision, *role, *event, *reason;
	int have_since, have_until;
	int64_t since, until;
	const char *vkey_file, *against;
};

/*
 * argv[0] is "audit".  Returns the exit status: 0 ok/intact, 1 chain broken,
 * torn or not proven by its seals (verify), 2 usage error or a log or
 * configuration that cannot be read.  default_log_path is used when neither
 * --log nor --config is given (may be NULL).
 */
int ig_audit_cli(int argc, char **argv, const char *default_log_path);

/* Print s (NULL: "-") with anything but printable ASCII as \xNN. */
void ig_audit_cli_say(FILE *f, const char *s);

#endif
