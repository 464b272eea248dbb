/*
 * audit_bench - audit log throughput for `make bench` (tests/bench/run.sh).
 *
 *   audit_bench LOG WRITERS APPENDS_EACH [sealed]
 *
 * With "sealed", a sealing key is made beside the log first (as
 * `iamgate audit seal-init` does), so each append also reads the key and
 * seals its line.  Writers write under the lock and flush after it (group
 * commit), so more writers should mean more appends per second.
 * Forks WRITERS processes (each helper run is its own process, so the
 * writers' lock is contended the way logins contend it), starts them
 * together, and each calls ig_audit_append APPENDS_EACH times with a
 * typical auth event (lock, tail read, one write, fsync, head update).
 * Prints "RESULT what=audit writers=W appends=N seconds=S per_s=R" where
 * the time is the wall time from the common start to the last exit.
 * Any failed append fails the run (status 1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "iamgate/audit.h"
#include "iamgate/audit_seal.h"
#include "iamgate/util.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A sealing key of epoch 0 at LOG.seal. */
static int make_key(const char *log)
{
	struct ig_audit_seal_key k;
	char dir[4096], name[256];
	const char *slash = strrchr(log, '/');
	int dfd, r;

	if (slash == NULL || ig_bfmt(dir, sizeof(dir), "%.*s", (int)(slash - log), log) != 0 ||
	    ig_bfmt(name, sizeof(name), "%s.seal", slash + 1) != 0)
		return 1;
	if (ig_open_trusted_dir(dir, &dfd, NULL, 0) != 0)
		return 1;
	(void)unlinkat(dfd, name, 0);
	r = ig_audit_seal_new((uint64_t)time(NULL), 900, &k) != 0 ||
	    ig_audit_seal_store(dfd, name, &k, -1) != 0;
	explicit_bzero(&k, sizeof(k));
	close(dfd);
	return r;
}

static int writer(const char *log, long id, long count)
{
	struct ig_audit_opts o = {
	        .path = log,
	        .use_syslog = 0,
	        .host = "bench-host",
	        .lock_timeout_ms = 120000, /* contention is what we measure */
	};
	char user[32];
	json_t *x = json_pack("{s:I}", "failures", (json_int_t)0);

	if (x == NULL)
		return 1;
	snprintf(user, sizeof(user), "bench%ld", id);
	for (long i = 0; i < count; i++) {
		struct ig_audit_event ev = {
		        .event = "auth",
		        .user = user,
		        .rhost = "192.0.2.10",
		        .service = "sshd",
		        .decision = "allow",
		        .reason = "ok",
		        .extra = x,
		};
		int r = ig_audit_append(&o, &ev);

		if (r != 0) {
			fprintf(stderr, "audit_bench: writer %ld: append failed: %s\n", id,
			        ig_strerror(r));
			json_decref(x);
			return 1;
		}
	}
	json_decref(x);
	return 0;
}

int main(int argc, char **argv)
{
	pid_t pids[256];
	long w, each;
	int go[2], fails = 0;
	double t0, t1;
	char c;

	if (argc != 4 && !(argc == 5 && strcmp(argv[4], "sealed") == 0))
		return fprintf(stderr, "usage: audit_bench LOG WRITERS APPENDS_EACH [sealed]\n"), 2;
	if (argc == 5 && make_key(argv[1]) != 0)
		return fprintf(stderr, "audit_bench: cannot make a sealing key beside the log\n"),
		       2;
	w = strtol(argv[2], NULL, 10);
	each = strtol(argv[3], NULL, 10);
	if (w < 1 || w > 256 || each < 1)
		return fprintf(stderr, "audit_bench: 1..256 writers, >= 1 append\n"), 2;
	if (pipe(go) != 0)
		return 2;
	for (long i = 0; i < w; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return 2;
		if (pids[i] == 0) {
			close(go[1]);
			if (read(go[0], &c, 1) != 0) /* EOF is the start signal */
				_exit(3);
			_exit(writer(argv[1], i, each));
		}
	}
	close(go[0]);
	t0 = now_s();
	close(go[1]);
	for (long i = 0; i < w; i++) {
		int st = 0;

		while (waitpid(pids[i], &st, 0) < 0)
			if (errno != EINTR)
				return 2;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fails++;
	}
	t1 = now_s();
	if (fails)
		return fprintf(stderr, "audit_bench: %d writers failed\n", fails), 1;
	printf("RESULT what=audit%s writers=%ld appends=%ld seconds=%.3f per_s=%.1f\n",
	       argc == 5 ? "_sealed" : "", w, w * each, t1 - t0, (double)(w * each) / (t1 - t0));
	return 0;
}
