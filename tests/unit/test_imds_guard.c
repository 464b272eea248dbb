/*
 * test_imds_guard.c - the metadata lockdown check (imds_guard.h).
 *
 * Targets and records are pure.  The probe is tried against listeners and
 * closed ports on 127.0.0.1 only: this test never connects to a metadata
 * address (outside a network namespace of its own those are real hosts);
 * tests/net/t_imds_lockdown.sh does, inside one, with the nftables rule.
 * The probe needs root (it drops to an unprivileged uid), and so does
 * this test; a child that gave up root must be told the check cannot be
 * made.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "iamgate/imds_guard.h"
#include "iamgate/http.h"
#include "iamgate/util.h"

static char dir[4096];
static int dfd = -1;

static int setup(void **st)
{
	(void)st;
	if (ig_bfmt(dir, sizeof(dir), "%s/build/t-imds-guard.XXXXXX", IG_SOURCE_DIR) != 0 ||
	    mkdtemp(dir) == NULL || chmod(dir, 0700) != 0)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd >= 0 ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	(void)unlinkat(dfd, IG_IMDS_GUARD_FILE, 0);
	close(dfd);
	return rmdir(dir);
}

static void targets_are(const char *ep, size_t n, const char *t0, const char *t1)
{
	struct ig_imds_target t[IG_IMDS_GUARD_MAX_TARGETS];
	char why[512] = "", base[300], host[300];
	size_t got = 99;

	assert_int_equal(ig_imds_guard_targets(ep, t, &got, why, sizeof(why)), 0);
	assert_int_equal(got, n);
	assert_string_equal(t[0].text, t0);
	if (n == 2)
		assert_string_equal(t[1].text, t1);
	/* Never wider than the parser the IMDS client uses (src/aws). */
	assert_int_equal(ig_http_base_url(ep, "http", base, sizeof(base), host, sizeof(host)), 0);
}

static void test_targets(void **st)
{
	(void)st;
	targets_are("http://169.254.169.254", 2, "169.254.169.254:80", "[fd00:ec2::254]:80");
	targets_are("http://169.254.169.254:8080/", 2, "169.254.169.254:8080",
	            "[fd00:ec2::254]:8080");
	targets_are("http://[fd00:ec2::254]", 2, "[fd00:ec2::254]:80", "169.254.169.254:80");
	targets_are("http://[FD00:EC2:0::254]:81", 2, "[fd00:ec2::254]:81", "169.254.169.254:81");
	/* The same IPv4 packets: the same target, and the other family too. */
	targets_are("http://[::ffff:169.254.169.254]", 2, "169.254.169.254:80",
	            "[fd00:ec2::254]:80");
	targets_are("http://127.0.0.1:1234", 1, "127.0.0.1:1234", NULL);
	targets_are("http://[::1]:65535", 1, "[::1]:65535", NULL);
	targets_are("http://169.254.169.253", 1, "169.254.169.253:80", NULL);
}

static void test_targets_refused(void **st)
{
	static const char *const bad[] = {
	        "",
	        "169.254.169.254",
	        "https://169.254.169.254",
	        "HTTP://169.254.169.254",
	        "http://",
	        "http://instance-data",
	        "http://instance-data.ec2.internal:80",
	        "http://169.254.169.254:0",
	        "http://169.254.169.254:080",
	        "http://169.254.169.254:65536",
	        "http://169.254.169.254:",
	        "http://169.254.169.254:80:80",
	        "http://169.254.169.254:+80",
	        "http://169.254.169.254/latest",
	        "http://169.254.169.254//",
	        "http://169.254.169.254?x=1",
	        "http://169.254.169.254#x",
	        "http://user@169.254.169.254",
	        "http://169.254.169.254@127.0.0.1",
	        "http://169.254.169.0254",
	        "http://0xa9.254.169.254",
	        "http://2852039166",
	        "http://169.254.43518",
	        "http://[fe80::1%25eth0]",
	        "http://[fe80::1%eth0]",
	        "http://[::1",
	        "http://[::1]x",
	        "http://[]",
	        "http://[169.254.169.254]",
	        "http://fd00:ec2::254",
	        "http:// 169.254.169.254",
	};
	struct ig_imds_target t[IG_IMDS_GUARD_MAX_TARGETS];
	char why[512], longer[400];
	size_t n;

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		n = 7;
		if (ig_imds_guard_targets(bad[i], t, &n, why, sizeof(why)) != IG_ERR_INVAL)
			fail_msg("accepted: \"%s\"", bad[i]);
		assert_int_equal(n, 0);
		assert_non_null(strstr(why, "fix:"));
	}
	assert_int_equal(ig_imds_guard_targets(NULL, t, &n, why, sizeof(why)), IG_ERR_INVAL);
	memset(longer, '1', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer, "http://127.0.0.1/", 17);
	assert_int_equal(ig_imds_guard_targets(longer, t, &n, why, sizeof(why)), IG_ERR_INVAL);
}

static void test_record_round_trip(void **st)
{
	struct ig_imds_guard_record a = {.uid = 65534, .checked = 1700000000, .reachable = 1};
	struct ig_imds_guard_record b;
	char text[IG_IMDS_GUARD_FILE_MAX];

	(void)st;
	assert_int_equal(ig_bfmt(a.endpoint, sizeof(a.endpoint), "http://169.254.169.254"), 0);
	assert_int_equal(ig_bfmt(a.target, sizeof(a.target), "[fd00:ec2::254]:80"), 0);
	assert_int_equal(ig_imds_guard_format_record(&a, text, sizeof(text)), 0);
	assert_int_equal(ig_imds_guard_parse_record(text, strlen(text), &b), 0);
	assert_string_equal(b.endpoint, a.endpoint);
	assert_int_equal(b.uid, 65534);
	assert_int_equal(b.checked, 1700000000);
	assert_int_equal(b.reachable, 1);
	assert_string_equal(b.target, "[fd00:ec2::254]:80");
	/* Locked: the target is not kept. */
	a.reachable = 0;
	assert_int_equal(ig_imds_guard_format_record(&a, text, sizeof(text)), 0);
	assert_int_equal(ig_imds_guard_parse_record(text, strlen(text), &b), 0);
	assert_int_equal(b.reachable, 0);
	assert_string_equal(b.target, "");
	assert_int_equal(ig_imds_guard_format_record(&a, text, 20), IG_ERR_RANGE);
}

static void test_record_refused(void **st)
{
	static const char *const bad[] = {
	        "",
	        "[]",
	        "{}",
	        "{\"endpoint\":\"e\",\"uid\":1,\"checked\":1,\"verdict\":\"locked\"}",
	        "{\"endpoint\":\"e\",\"uid\":1,\"checked\":1,\"verdict\":\"locked\",\"target\":"
	        "\"\","
	        "\"x\":1}",
	        "{\"endpoint\":\"e\",\"uid\":1,\"checked\":1,\"verdict\":\"locked\",\"target\":"
	        "\"\","
	        "\"uid\":1}",
	        "{\"endpoint\":\"e\",\"uid\":0,\"checked\":1,\"verdict\":\"locked\",\"target\":"
	        "\"\"}",
	        "{\"endpoint\":\"e\",\"uid\":4294967295,\"checked\":1,\"verdict\":\"locked\","
	        "\"target\":\"\"}",
	        "{\"endpoint\":\"e\",\"uid\":1,\"checked\":-1,\"verdict\":\"locked\",\"target\":"
	        "\"\"}",
	        "{\"endpoint\":\"e\",\"uid\":\"1\",\"checked\":1,\"verdict\":\"locked\","
	        "\"target\":\"\"}",
	        "{\"endpoint\":\"e\",\"uid\":1,\"checked\":1,\"verdict\":\"maybe\",\"target\":"
	        "\"\"}",
	        "{\"endpoint\":\"e\",\"uid\":1,\"checked\":1,\"verdict\":\"locked\",\"target\":"
	        "\"x\"}",
	        "{\"endpoint\":\"e\",\"uid\":1,\"checked\":1,\"verdict\":\"locked\",\"target\":"
	        "\"\"} x",
	};
	struct ig_imds_guard_record r;
	char big[IG_IMDS_GUARD_FILE_MAX + 64];

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ig_imds_guard_parse_record(bad[i], strlen(bad[i]), &r) != IG_ERR_PARSE)
			fail_msg("accepted: %s", bad[i]);
	memset(big, ' ', sizeof(big));
	memcpy(big, bad[4], strlen(bad[4]));
	assert_int_equal(ig_imds_guard_parse_record(big, sizeof(big), &r), IG_ERR_PARSE);
}

/* A TCP socket on 127.0.0.1 with a port of its own: listening, or bound
 * only (a connect to it is refused). */
static int local_port(int listening, int backlog, unsigned *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (listening)
		assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static struct ig_imds_guard_cfg cfg_for(char *ep, size_t cap, unsigned port)
{
	struct ig_imds_guard_cfg g = {.uid = IG_IMDS_GUARD_UID_DEFAULT,
	                              .state_dirfd = dfd,
	                              .now = time(NULL),
	                              .timeout_ms = 1500};

	assert_int_equal(ig_bfmt(ep, cap, "http://127.0.0.1:%u", port), 0);
	g.endpoint = ep;
	return g;
}

/*
 * Run by a process that cannot become the probe uid (not root), the check
 * says it cannot be made, even with a listener to reach: tried in a child
 * that gives up root first.  Exit status 0 when the contract held.
 */
static void test_not_root_cannot_check(void **st)
{
	struct ig_imds_guard_result res;
	struct ig_imds_guard_cfg g;
	char ep[64];
	unsigned port;
	int fd, status = -1;
	pid_t pid;

	(void)st;
	fd = local_port(1, 8, &port);
	g = cfg_for(ep, sizeof(ep), port);
	g.state_dirfd = -1;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && setresuid(1000, 1000, 1000) != 0)
			_exit(10);
		if (ig_imds_guard_check(&g, &res) != IG_ERR_UNSAFE)
			_exit(11);
		if (res.reason != IG_R_IMDS_LOCKDOWN_UNVERIFIED || !strstr(res.detail, "fix:"))
			_exit(12);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(fd);
}

/* The record file: root, 0600, parses, says verdict. */
static void record_is(const char *ep, int reachable)
{
	struct ig_imds_guard_record r;
	struct stat s;
	char *buf = NULL;
	size_t len;

	assert_int_equal(fstatat(dfd, IG_IMDS_GUARD_FILE, &s, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(s.st_mode & 07777, 0600);
	assert_int_equal(s.st_uid, 0);
	assert_int_equal(
	        ig_read_file_at(dfd, IG_IMDS_GUARD_FILE, IG_IMDS_GUARD_FILE_MAX, 1, &buf, &len), 0);
	assert_int_equal(ig_imds_guard_parse_record(buf, len, &r), 0);
	free(buf);
	assert_string_equal(r.endpoint, ep);
	assert_int_equal(r.reachable, reachable);
}

static void test_listener_reached(void **st)
{
	struct ig_imds_guard_result res;
	struct ig_imds_guard_cfg g;
	char ep[64], want[64];
	unsigned port;
	int fd;

	(void)st;
	fd = local_port(1, 8, &port);
	g = cfg_for(ep, sizeof(ep), port);
	assert_int_equal(ig_imds_guard_check(&g, &res), IG_ERR_DENIED);
	assert_int_equal(res.reason, IG_R_IMDS_REACHABLE_BY_USERS);
	assert_int_equal(ig_bfmt(want, sizeof(want), "127.0.0.1:%u", port), 0);
	assert_string_equal(res.target, want);
	assert_int_equal(res.from_record, 0);
	assert_int_equal(res.recorded, 1);
	assert_non_null(strstr(res.detail, want));
	assert_non_null(strstr(res.detail, "uid 65534"));
	assert_non_null(strstr(res.detail, "fix:"));
	record_is(ep, 1);
	/* A uid with no passwd entry is probed all the same. */
	g.uid = 4000000123u;
	g.fresh = 1;
	assert_int_equal(ig_imds_guard_check(&g, &res), IG_ERR_DENIED);
	assert_non_null(strstr(res.detail, "uid 4000000123"));
	close(fd);
}

static void test_refused_port_holds(void **st)
{
	struct ig_imds_guard_result res;
	struct ig_imds_guard_cfg g;
	char ep[64];
	unsigned port;
	int fd;

	(void)st;
	fd = local_port(0, 0, &port);
	g = cfg_for(ep, sizeof(ep), port);
	assert_int_equal(ig_imds_guard_check(&g, &res), 0);
	assert_int_equal(res.reason, IG_R_OK);
	assert_string_equal(res.target, "");
	assert_int_equal(res.recorded, 1);
	assert_non_null(strstr(res.detail, "holds"));
	record_is(ep, 0);
	close(fd);
}

/*
 * A connect that never completes (a drop rule) counts as blocked: a
 * listener whose accept queue is full (backlog 0: one connection) drops
 * new SYNs.
 */
static void test_unanswered_connect_holds(void **st)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct ig_imds_guard_result res;
	struct ig_imds_guard_cfg g;
	char ep[64];
	unsigned port;
	int c, fd;

	(void)st;
	fd = local_port(1, 0, &port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	g = cfg_for(ep, sizeof(ep), port);
	g.timeout_ms = 300;
	g.state_dirfd = -1;
	assert_int_equal(ig_imds_guard_check(&g, &res), 0);
	assert_int_equal(res.reason, IG_R_OK);
	assert_int_equal(res.recorded, 0);
	close(c);
	close(fd);
}

/* Write a record by hand (root 0600 unless mode says otherwise). */
static void put_record(const char *ep, uid_t uid, int64_t checked, int reachable, mode_t mode)
{
	struct ig_imds_guard_record r = {.uid = uid, .checked = checked, .reachable = reachable};
	char text[IG_IMDS_GUARD_FILE_MAX];

	assert_int_equal(ig_bfmt(r.endpoint, sizeof(r.endpoint), "%s", ep), 0);
	assert_int_equal(ig_bfmt(r.target, sizeof(r.target), "%s", reachable ? "10.0.0.1:1" : ""),
	                 0);
	assert_int_equal(ig_imds_guard_format_record(&r, text, sizeof(text)), 0);
	assert_int_equal(ig_write_file_at(dfd, IG_IMDS_GUARD_FILE, text, strlen(text), mode, 0, 0),
	                 0);
}

/* check against a listener; returns 1 when the recorded verdict was used. */
static int used_record(struct ig_imds_guard_cfg *g)
{
	struct ig_imds_guard_result res;
	int r = ig_imds_guard_check(g, &res);

	if (res.from_record) {
		assert_int_equal(r, 0);
		assert_int_equal(res.recorded, 0);
		return 1;
	}
	/* Probed afresh: the listener is reached and the record replaced. */
	assert_int_equal(r, IG_ERR_DENIED);
	assert_int_equal(res.recorded, 1);
	return 0;
}

static void test_record_used_for_a_minute(void **st)
{
	struct ig_imds_guard_result res;
	struct ig_imds_guard_cfg g;
	char ep[64];
	unsigned port;
	int fd;

	(void)st;
	fd = local_port(1, 8, &port);
	g = cfg_for(ep, sizeof(ep), port);
	/* A young "locked" record stands, though the listener would answer. */
	put_record(ep, 65534, (int64_t)g.now - 59, 0, 0600);
	assert_true(used_record(&g));
	put_record(ep, 65534, (int64_t)g.now, 0, 0600);
	assert_true(used_record(&g));
	/* Too old, from the future, for another uid or endpoint, unsafe, or a
	 * fresh check asked for: probed again. */
	put_record(ep, 65534, (int64_t)g.now - 60, 0, 0600);
	assert_false(used_record(&g));
	put_record(ep, 65534, (int64_t)g.now + 1, 0, 0600);
	assert_false(used_record(&g));
	put_record(ep, 1000, (int64_t)g.now, 0, 0600);
	assert_false(used_record(&g));
	put_record("http://127.0.0.1:1", 65534, (int64_t)g.now, 0, 0600);
	assert_false(used_record(&g));
	put_record(ep, 65534, (int64_t)g.now, 0, 0644);
	assert_false(used_record(&g));
	record_is(ep, 1);
	put_record(ep, 65534, (int64_t)g.now, 0, 0600);
	g.fresh = 1;
	assert_false(used_record(&g));
	/* A young "reachable" record refuses without a probe. */
	g.fresh = 0;
	put_record(ep, 65534, (int64_t)g.now - 5, 1, 0600);
	close(fd);
	assert_int_equal(ig_imds_guard_check(&g, &res), IG_ERR_DENIED);
	assert_int_equal(res.from_record, 1);
	assert_string_equal(res.target, "10.0.0.1:1");
	assert_int_equal(res.reason, IG_R_IMDS_REACHABLE_BY_USERS);
}

static void test_unverified(void **st)
{
	struct ig_imds_guard_result res;
	struct ig_imds_guard_cfg g = {.endpoint = "http://127.0.0.1:9", .state_dirfd = -1};

	(void)st;
	g.uid = 0;
	assert_int_equal(ig_imds_guard_check(&g, &res), IG_ERR_INVAL);
	assert_int_equal(res.reason, IG_R_IMDS_LOCKDOWN_UNVERIFIED);
	assert_non_null(strstr(res.detail, "imds_probe_uid"));
	g.uid = 65534;
	g.endpoint = "http://instance-data";
	assert_int_equal(ig_imds_guard_check(&g, &res), IG_ERR_INVAL);
	assert_int_equal(res.reason, IG_R_IMDS_LOCKDOWN_UNVERIFIED);
	assert_non_null(strstr(res.detail, "nothing is issued"));
	assert_non_null(strstr(res.detail, "fix:"));
	g.endpoint = NULL;
	assert_int_equal(ig_imds_guard_check(&g, &res), IG_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_targets),
	        cmocka_unit_test(test_targets_refused),
	        cmocka_unit_test(test_record_round_trip),
	        cmocka_unit_test(test_record_refused),
	        cmocka_unit_test(test_not_root_cannot_check),
	        cmocka_unit_test(test_listener_reached),
	        cmocka_unit_test(test_refused_port_holds),
	        cmocka_unit_test(test_unanswered_connect_holds),
	        cmocka_unit_test(test_record_used_for_a_minute),
	        cmocka_unit_test(test_unverified),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
