/*
 * io_floor.c - `make bench` section 1d: what the long-lived helper's design
 * costs before it checks anything.  A pre-forked server on a Unix socket (as
 * iamgate-helper --serve) answers requests and, per request, does only the
 * I/O an auth must do:
 *   ipc    read the request, write a reply (the process boundary)
 *   state  + what pam_oath does to its usersfile: a new file, write, fsync,
 *            rename over the old one (freeing the old one's blocks)
 *   audit  + an audit line: append, fsync (DESIGN.md: flushed before the
 *            decision is returned)
 * The three take turns request by request.  Prints one RESULT line per case
 * (the format of pam_driver.c).  Never part of `make check`.
 *
 *   io_floor DIR N      DIR: a directory on the file system of the TOTP
 *                       state and the audit log; N: requests per case
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CASES 3
static const char *const names[CASES] = {"ipc", "state", "audit"};

static void die(const char *what)
{
	fprintf(stderr, "io_floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write");
		p += w;
		n -= (size_t)w;
	}
}

/* The server: one request per connection, its first byte the case. */
static void serve(int lfd, int dfd)
{
	char line[256], req[512];
	int afd = openat(dfd, "floor-audit.jsonl", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (afd < 0)
		die("open the audit file");
	memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	for (;;) {
		int c = accept(lfd, NULL, NULL), mode;
		ssize_t n, got = 0;

		if (c < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		while ((n = read(c, req + got, sizeof(req) - (size_t)got)) > 0)
			got += n;
		mode = got > 0 ? req[0] - '0' : 0;
		if (mode >= 1) {
			int fd = openat(dfd, "floor-state.tmp",
			                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

			if (fd < 0)
				die("create the state file");
			write_all(fd, line, 200);
			if (fsync(fd) != 0 || close(fd) != 0 ||
			    renameat(dfd, "floor-state.tmp", dfd, "floor-state") != 0)
				die("replace the state file");
		}
		if (mode >= 2) {
			write_all(afd, line, sizeof(line));
			if (fsync(afd) != 0)
				die("fsync the audit file");
		}
		write_all(c, line, 130);
		close(c);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	double *v[CASES];
	char req[200];
	long n;
	int lfd, dfd;
	pid_t pid;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) < 3)
		return fprintf(stderr, "usage: io_floor DIR N (N >= 3)\n"), 2;
	if ((dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die(argv[1]);
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/floor.sock", argv[1]) >=
	    sizeof(sa.sun_path))
		return fprintf(stderr, "io_floor: %s: path too long\n", argv[1]), 2;
	(void)unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 16) != 0)
		die("listen");
	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0)
		serve(lfd, dfd);
	close(lfd);
	for (int k = 0; k < CASES; k++)
		if ((v[k] = calloc((size_t)n, sizeof(double))) == NULL)
			die("calloc");
	memset(req, 'r', sizeof(req));
	for (long i = -5; i < n; i++) { /* 5 rounds of warm-up */
		for (int k = 0; k < CASES; k++) {
			char buf[256];
			double t0 = now_us();
			int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

			req[0] = (char)('0' + k);
			if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0)
				die("connect");
			write_all(c, req, sizeof(req));
			if (shutdown(c, SHUT_WR) != 0)
				die("shutdown");
			while (read(c, buf, sizeof(buf)) > 0)
				;
			close(c);
			if (i >= 0)
				v[k][i] = now_us() - t0;
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	(void)unlink(sa.sun_path);
	for (int k = 0; k < CASES; k++) {
		qsort(v[k], (size_t)n, sizeof(double), cmp);
		printf("RESULT what=floor case=%s n=%ld p10_us=%.1f p50_us=%.1f p90_us=%.1f\n",
		       names[k], n, v[k][(long)(0.1 * (double)(n - 1) + 0.5)],
		       v[k][(long)(0.5 * (double)(n - 1) + 0.5)],
		       v[k][(long)(0.9 * (double)(n - 1) + 0.5)]);
		free(v[k]);
	}
	return 0;
}
