/*
 * imds_guard.h - does the metadata lockdown hold?  Tried the way a user of
 * the bastion would try it: from an unprivileged uid.
 *
 * On EC2 any local process may ask the instance metadata service
 * (169.254.169.254, fd00:ec2::254) for the instance role's credentials, and
 * that role may assume every role the gate maps.  The package ships an
 * nftables rule (packaging/nftables/iamgate-imds.nft) that lets only uid 0
 * reach those addresses.  When the base credentials come from IMDS, nothing
 * is issued unless ig_imds_guard_check says the rule holds.
 *
 * The check: a child process drops to the probe uid (setgroups, setresgid,
 * setresuid; it must then be unable to get root back) and tries a TCP
 * connect, with a short timeout, to the configured endpoint's host:port
 * and, when that host is one of the two metadata addresses, to the other
 * one at the same port.  A connect that completes means a user could ask
 * for the instance role.  One that is refused, unreachable or times out
 * means the rule holds.  Nothing is ever sent on a connection.
 *
 * At most once a minute: a verdict (holds, or reachable) is recorded in
 * IG_IMDS_GUARD_FILE (root, 0600) in a trusted root-only directory, and a
 * recorded verdict younger than IG_IMDS_GUARD_MAX_AGE seconds for the same
 * endpoint and uid is used as it is.  A file that fails the trusted-file
 * checks (owner, mode, links) or does not parse is ignored and replaced.
 *
 * This unit links no libcurl (a socket connect only), so the lean helper
 * can check at start; its endpoint parser accepts a strict subset of what
 * ig_http_base_url (src/aws) accepts, and refuses the rest.
 */
#ifndef IAMGATE_IMDS_GUARD_H
#define IAMGATE_IMDS_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "iamgate/error.h"
#include "iamgate/reason.h"

#define IG_IMDS_GUARD_FILE "imds-guard.json"
#define IG_IMDS_GUARD_FILE_MAX 1024
#define IG_IMDS_GUARD_MAX_AGE 60        /* seconds a recorded verdict stands */
#define IG_IMDS_GUARD_TIMEOUT_MS 2000   /* all connects together: one SYN retry */
#define IG_IMDS_GUARD_UID_DEFAULT 65534 /* nobody */
#define IG_IMDS_GUARD_MAX_TARGETS 2
#define IG_IMDS_GUARD_ENDPOINT_MAX 256

/* One address to try: the endpoint's, or the other family's. */
struct ig_imds_target {
	struct sockaddr_storage sa;
	socklen_t salen;
	char text[64]; /* "169.254.169.254:80", "[fd00:ec2::254]:80" */
};

/*
 * The addresses to try for endpoint "http://HOST[:PORT][/]": HOST a
 * dotted-quad IPv4 address or a bracketed IPv6 one (an IPv4-mapped IPv6
 * address counts as its IPv4 address; no zone), PORT 1..65535 without
 * leading zeros (default 80).  t[0] is HOST:PORT; when HOST is one of the
 * two metadata addresses, t[1] is the other one at PORT (*n == 2).  A host
 * name, user info, a path, a query or anything else is IG_ERR_INVAL with a
 * sentence and the fix in why.
 */
int ig_imds_guard_targets(const char *endpoint, struct ig_imds_target t[IG_IMDS_GUARD_MAX_TARGETS],
                          size_t *n, char *why, size_t whycap) IG_MUST_CHECK;

struct ig_imds_guard_cfg {
	const char *endpoint; /* aws.credentials.imds_endpoint */
	uid_t uid;            /* the probe uid (never 0) */
	unsigned timeout_ms;  /* 0: IG_IMDS_GUARD_TIMEOUT_MS */
	int state_dirfd;      /* trusted root-only directory; -1: no record */
	time_t now;
	int fresh; /* 1: probe even when a recorded verdict stands (iamgate check) */
};

struct ig_imds_guard_result {
	/* IG_R_OK, IG_R_IMDS_REACHABLE_BY_USERS or IG_R_IMDS_LOCKDOWN_UNVERIFIED */
	enum ig_reason reason;
	int from_record; /* the verdict is the recorded one */
	int recorded;    /* this probe's verdict was written to the record */
	char target[64]; /* the address a user reached, else "" */
	/* What holds or is wrong, and the fix: for logs and `iamgate check`;
	 * never a secret. */
	char detail[512];
};

/*
 * Check the lockdown for cfg (see the top of this file).  res (required)
 * is always filled.  Returns 0 when it holds; IG_ERR_DENIED when the probe
 * uid connected to a target (reason imds_reachable_by_users); otherwise
 * the check could not be made (reason imds_lockdown_unverified):
 * IG_ERR_INVAL (endpoint, uid 0), IG_ERR_IO (fork, pipe, socket),
 * IG_ERR_UNSAFE (the child could not drop to the uid, or could regain
 * root) or IG_ERR_INTERNAL (the child died).  Every return but 0 means:
 * issue nothing.
 */
int ig_imds_guard_check(const struct ig_imds_guard_cfg *cfg,
                        struct ig_imds_guard_result *res) IG_MUST_CHECK;

/* A verdict as recorded in IG_IMDS_GUARD_FILE. */
struct ig_imds_guard_record {
	char endpoint[IG_IMDS_GUARD_ENDPOINT_MAX];
	uid_t uid;
	int64_t checked; /* unix seconds */
	int reachable;   /* 0: the lockdown held */
	char target[64]; /* reachable: the address the probe reached */
};

/*
 * Parse a record: one JSON object with exactly "endpoint" (string),
 * "uid" (1..4294967294), "checked" (>= 0), "verdict" ("locked" or
 * "reachable") and "target" (string, empty when locked), at most
 * IG_IMDS_GUARD_FILE_MAX bytes, no duplicate keys.  0 or IG_ERR_PARSE.
 */
int ig_imds_guard_parse_record(const char *text, size_t len,
                               struct ig_imds_guard_record *rec) IG_MUST_CHECK;

/* The record's text (NUL-terminated) into out: 0 or IG_ERR_RANGE. */
int ig_imds_guard_format_record(const struct ig_imds_guard_record *rec, char *out,
                                size_t cap) IG_MUST_CHECK;

#endif
