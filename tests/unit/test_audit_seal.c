/*
 * test_audit_seal.c - forward-secure sealing: the key's one-way evolution,
 * its texts, sealing across epochs, and what verify says with the
 * verification key after root-level tampering (a rewritten line and a
 * recomputed chain, a cut log, an erased key file) and after crashes
 * (between a seal and the key's evolution, kill -9 at random).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "audit_fixture.h"
#include "iamgate/audit_file.h"
#include "iamgate/audit_seal.h"

#define EPOCH_S 60
#define EP(n) (T0 + (int64_t)(n)*EPOCH_S * 1000)

static struct ig_audit_seal_vkey g_vk;

/* seal-init at T0: a key of epoch 0 beside the log, and its init line. */
static void seal_init(void)
{
	struct ig_audit_seal_key k;
	struct ig_audit_opts o = opts_at(g_log, T0);
	char id[IG_AUDIT_SEAL_ID_LEN + 1], name[NAME_MAX + 1];
	struct ig_audit_event ev = {"audit_seal_init",  NULL, NULL, "test", "info",
	                            "seal_initialized", NULL};
	int dfd;

	assert_int_equal(ig_audit_seal_new(T0 / 1000, EPOCH_S, &k), 0);
	memcpy(g_vk.seed, k.key, sizeof(k.key));
	g_vk.start_s = k.start_s;
	g_vk.epoch_s = k.epoch_s;
	assert_int_equal(ig_open_trusted_dir(g_dir, &dfd, NULL, 0), 0);
	assert_int_equal(ig_bfmt(name, sizeof(name), "audit.jsonl.seal"), 0);
	assert_int_equal(ig_audit_seal_store(dfd, name, &k, -1), 0);
	close(dfd);
	ig_audit_seal_key_id(k.key, id);
	ev.extra = json_pack("{ss}", "key_id", id);
	assert_int_equal(ig_audit_append(&o, &ev), 0);
	json_decref(ev.extra);
}

static void key_path(char *out, size_t cap)
{
	assert_int_equal(ig_bfmt(out, cap, "%s.seal", g_log), 0);
}

/* Verify with the verification key as of now_ms; returns the chain's result. */
static int verify_sealed(int64_t now_ms, struct ig_audit_verify_result *res,
                         struct ig_audit_seal_result *sr)
{
	const char *paths[1] = {g_log};
	struct ig_audit_verify_seal vs;
	int r;

	memset(&vs, 0, sizeof(vs));
	vs.vk = &g_vk;
	vs.now_ms = now_ms;
	r = ig_audit_verify_files(paths, 1, res, &vs);
	*sr = vs.seal;
	printf("#   seal: found %d lines %llu..%llu epochs %llu..%llu closed %llu bad %llu (%s) "
	       "stop %llu (%s)\n",
	       sr->found, (unsigned long long)sr->first_line, (unsigned long long)sr->proven_line,
	       (unsigned long long)sr->first_epoch, (unsigned long long)sr->last_epoch,
	       (unsigned long long)sr->epochs_closed, (unsigned long long)sr->bad_line, sr->what,
	       (unsigned long long)sr->stop_line, sr->stop_what);
	return r;
}

/* Events in epochs 0..4, two per epoch. */
static void sealed_log(void)
{
	seal_init();
	for (int e = 0; e < 5; e++) {
		assert_int_equal(append_ev(g_log, EP(e) + 1000, "alice", "allow", NULL), 0);
		assert_int_equal(append_ev(g_log, EP(e) + 2000, "bob", "deny", NULL), 0);
	}
}

static void t_evolve_one_way(void **state)
{
	struct ig_audit_seal_key a, b;

	(void)state;
	assert_int_equal(ig_audit_seal_new(T0 / 1000, EPOCH_S, &a), 0);
	b = a;
	assert_int_equal(ig_audit_seal_evolve(&a, 3), 0);
	assert_int_equal(ig_audit_seal_evolve(&b, 1), 0);
	assert_int_equal(ig_audit_seal_evolve(&b, 3), 0);
	assert_int_equal(a.epoch, 3);
	assert_memory_equal(a.key, b.key, sizeof(a.key));
	/* Never backwards; no absurd jumps. */
	assert_int_equal(ig_audit_seal_evolve(&b, 2), 0);
	assert_int_equal(b.epoch, 3);
	assert_int_equal(ig_audit_seal_evolve(&b, 3 + (1u << 25)), IG_ERR_RANGE);
	assert_int_equal(ig_audit_seal_epoch_at(100, 60, 99 * 1000), 0);
	assert_int_equal(ig_audit_seal_epoch_at(100, 60, 280 * 1000), 3);
	assert_int_equal(ig_audit_seal_new(0, 5, &a), IG_ERR_RANGE);
}

static void t_texts(void **state)
{
	struct ig_audit_seal_key k, back;
	struct ig_audit_seal_vkey vk;
	char vtext[IG_AUDIT_SEAL_VKEY_MAX + 1], ftext[256];

	(void)state;
	assert_int_equal(ig_audit_seal_new(1795910400, 900, &k), 0);
	assert_int_equal(ig_audit_seal_vkey_format(&k, vtext, sizeof(vtext)), 0);
	printf("#   vkey %.20s...\n", vtext);
	assert_int_equal(ig_audit_seal_vkey_parse(vtext, &vk), 0);
	assert_memory_equal(vk.seed, k.key, sizeof(k.key));
	assert_int_equal(vk.start_s, 1795910400);
	assert_int_equal(vk.epoch_s, 900);
	vtext[10] = 'X';
	assert_int_equal(ig_audit_seal_vkey_parse(vtext, &vk), IG_ERR_PARSE);
	assert_int_equal(ig_audit_seal_vkey_parse("igseal1-00-1-900", &vk), IG_ERR_PARSE);
	assert_int_equal(ig_audit_seal_evolve(&k, 5), 0);
	assert_int_equal(ig_audit_seal_vkey_format(&k, vtext, sizeof(vtext)), IG_ERR_INVAL);
	assert_int_equal(
	        ig_bfmt(ftext, sizeof(ftext), "iamgate-audit-seal v1 1795910400 900 5 %064d\n", 0),
	        0);
	assert_int_equal(ig_audit_seal_key_parse(ftext, strlen(ftext), &back), 0);
	assert_int_equal(back.epoch, 5);
	ftext[strlen(ftext) - 1] = 'x';
	assert_int_equal(ig_audit_seal_key_parse(ftext, strlen(ftext), &back), IG_ERR_PARSE);
	assert_int_equal(ig_audit_seal_key_parse("iamgate-audit-seal v1 1 5 0 00\n", 31, &back),
	                 IG_ERR_PARSE);
}

static void t_sealed_intact(void **state)
{
	struct ig_audit_verify_result res;
	struct ig_audit_seal_result sr;
	char kp[PATH_MAX], *text;
	struct stat st;

	(void)state;
	sealed_log();
	assert_int_equal(verify_sealed(EP(4) + 5000, &res, &sr), 0);
	assert_true(sr.found);
	assert_int_equal(sr.first_line, 2); /* after log_start */
	assert_int_equal(sr.proven_line, res.lines);
	assert_int_equal(sr.bad_line, 0);
	assert_int_equal(sr.stop_line, 0);
	assert_int_equal(sr.epochs_closed, 4);
	assert_int_equal(sr.last_epoch, 4);
	/* The key on the host is epoch 4's, root 0600. */
	key_path(kp, sizeof(kp));
	assert_int_equal(stat(kp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	text = slurp(kp, NULL);
	assert_non_null(strstr(text, " 60 4 "));
	free(text);
	/* A wrong verification key proves nothing. */
	g_vk.seed[0] ^= 1;
	assert_int_equal(verify_sealed(EP(4) + 5000, &res, &sr), 0);
	assert_false(sr.found);
}

/* Root rewrites a line of epoch 1 and recomputes the whole chain after it. */
static void rechain_from(struct lines *L, size_t from)
{
	char hex[65];

	for (size_t i = from; i < L->n; i++) {
		char *p = strstr(L->l[i], "\"prev\":\"");
		assert_non_null(p);
		sha_hex(L->l[i - 1], strlen(L->l[i - 1]), hex);
		memcpy(p + 8, hex, 64);
	}
}

static void t_root_rewrite(void **state)
{
	struct ig_audit_verify_result res;
	struct ig_audit_seal_result sr;
	struct lines L;
	char *x;
	size_t target = 0;

	(void)state;
	sealed_log();
	split(g_log, &L);
	for (size_t i = 0; i < L.n; i++)
		if (strstr(L.l[i], "\"user\":\"bob\"") && strstr(L.l[i], "\"seal\":\"1:")) {
			target = i;
			break;
		}
	assert_true(target > 0);
	x = subst(L.l[target], "\"decision\":\"deny\"", "\"decision\":\"allow\"");
	L.l[target] = x;
	rechain_from(&L, target + 1);
	join(g_log, &L, -1);
	/* The chain alone (head file aside) cannot tell; the seals can. */
	(void)verify_sealed(EP(4) + 5000, &res, &sr);
	assert_int_equal(
	        res.broken_line == 0 || res.broken_line == res.lines + 1 || res.head_checked, 1);
	assert_int_equal(sr.bad_line, target + 1);
	assert_non_null(strstr(sr.what, "changed after it was sealed"));
	assert_true(sr.proven_line < target + 1);
	free(x);
	free(L.buf);
}

/* Cut the log before the seal that closed epoch 3: where sealing stops. */
static void t_truncated(void **state)
{
	struct ig_audit_verify_result res;
	struct ig_audit_seal_result sr;
	struct lines L;
	ssize_t cut = -1;

	(void)state;
	sealed_log();
	split(g_log, &L);
	for (size_t i = 0; i < L.n; i++)
		if (strstr(L.l[i], "\"event\":\"audit_seal\"") && strstr(L.l[i], "\"epoch\":3"))
			cut = (ssize_t)i;
	assert_true(cut > 0);
	L.n = (size_t)cut;
	join(g_log, &L, -1);
	(void)verify_sealed(EP(12), &res, &sr);
	assert_int_equal(sr.bad_line, 0);
	assert_int_equal(sr.stop_line, (uint64_t)cut + 1);
	assert_non_null(strstr(sr.stop_what, "epoch 3 ended without a seal"));
	/* Lines an intruder adds with the current key do not hide the cut. */
	assert_int_equal(append_ev(g_log, EP(4) + 9000, "mallory", "allow", NULL), 0);
	(void)verify_sealed(EP(4) + 9500, &res, &sr);
	assert_true(sr.bad_line > (uint64_t)cut);
	assert_non_null(strstr(sr.what, "epoch 3 was not closed"));
	free(L.buf);
}

/* The key file erased: sealing stops, the log says so, verify says where. */
static void t_key_erased(void **state)
{
	struct ig_audit_verify_result res;
	struct ig_audit_seal_result sr;
	struct lines L;
	char kp[PATH_MAX];

	(void)state;
	sealed_log();
	key_path(kp, sizeof(kp));
	assert_int_equal(unlink(kp), 0);
	assert_int_equal(append_ev(g_log, EP(4) + 9000, "carol", "allow", NULL), 0);
	assert_int_equal(append_ev(g_log, EP(4) + 9500, "carol", "allow", NULL), 0);
	split(g_log, &L);
	assert_non_null(strstr(L.l[L.n - 3], "\"event\":\"audit_seal_stopped\""));
	assert_non_null(strstr(L.l[L.n - 3], "\"reason\":\"seal_key_missing\""));
	assert_null(strstr(L.l[L.n - 1], "\"seal\""));
	assert_int_equal(verify_sealed(EP(4) + 9900, &res, &sr), 0);
	assert_int_equal(sr.stop_line, L.n - 2);
	assert_non_null(strstr(sr.stop_what, "no sealing key file"));
	free(L.buf);
}

/* A crash after the closing seal, before the key evolved. */
static void t_crash_between_seal_and_evolve(void **state)
{
	struct ig_audit_opts o = opts_at(g_log, EP(1) + 10);
	struct ig_audit_verify_result res;
	struct ig_audit_seal_result sr;
	char kp[PATH_MAX], *old, *text;
	size_t n;
	int fd;

	(void)state;
	seal_init();
	assert_int_equal(append_ev(g_log, EP(0) + 500, "alice", "allow", NULL), 0);
	key_path(kp, sizeof(kp));
	old = slurp(kp, &n);
	assert_int_equal(ig_audit_tick(&o), 0); /* seal epoch 0, evolve to 1 */
	/* Undo the evolution: the state a crash right after the seal leaves. */
	fd = open(kp, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, old, n), (ssize_t)n);
	close(fd);
	assert_int_equal(append_ev(g_log, EP(1) + 20, "bob", "allow", NULL), 0);
	text = slurp(g_log, NULL);
	/* One closing line, not two. */
	assert_non_null(strstr(text, "\"event\":\"audit_seal\""));
	assert_null(
	        strstr(strstr(text, "\"event\":\"audit_seal\"") + 1, "\"event\":\"audit_seal\""));
	free(text);
	text = slurp(kp, NULL);
	assert_non_null(strstr(text, " 60 1 "));
	free(text);
	assert_int_equal(verify_sealed(EP(1) + 30, &res, &sr), 0);
	assert_int_equal(sr.bad_line, 0);
	assert_int_equal(sr.stop_line, 0);
	assert_int_equal(sr.proven_line, res.lines);
	free(old);
}

/* A quiet host: only the timer's tick closes the epochs. */
static void t_tick(void **state)
{
	struct ig_audit_opts o = opts_at(g_log, EP(3) + 10);
	struct ig_audit_verify_result res;
	struct ig_audit_seal_result sr;

	(void)state;
	seal_init();
	/* Nothing ran since: by epoch 9, verify says sealing stopped. */
	(void)verify_sealed(EP(9), &res, &sr);
	assert_int_equal(sr.stop_line, 3);
	assert_non_null(strstr(sr.stop_what, "epoch 0 ended without a seal"));
	assert_int_equal(ig_audit_tick(&o), 0);
	o.now_ms = EP(3) + 20;
	assert_int_equal(ig_audit_tick(&o), 0); /* same epoch: nothing */
	assert_int_equal(verify_sealed(EP(3) + 30, &res, &sr), 0);
	assert_int_equal(res.lines, 3);
	assert_int_equal(sr.stop_line, 0);
	assert_int_equal(sr.epochs_closed, 1);
}

/* An unsafe key file fails the append (a deny), it is not skipped. */
static void t_unsafe_key(void **state)
{
	char kp[PATH_MAX];

	(void)state;
	seal_init();
	key_path(kp, sizeof(kp));
	assert_int_equal(chmod(kp, 0640), 0);
	assert_int_equal(append_ev(g_log, T0 + 100, "alice", "allow", NULL), IG_ERR_UNSAFE);
	assert_int_equal(chmod(kp, 0600), 0);
	assert_int_equal(append_ev(g_log, T0 + 100, "alice", "allow", NULL), 0);
}

/* kill -9 at random moments while writers cross epochs; then verify. */
static void t_kill9_sealing(void **state)
{
	struct ig_audit_verify_result res;
	struct ig_audit_seal_result sr;
	int64_t t = T0 + 10;

	(void)state;
	seal_init();
	srand(7);
	for (int round = 0; round < 12; round++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			for (int i = 0; i < 1000; i++)
				if (append_ev(g_log, t + i * 7000, "k", "allow", NULL) != 0)
					_exit(1);
			_exit(0);
		}
		usleep((useconds_t)(200 + rand() % 20000));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, NULL, 0), pid);
		t += 1000 * 7000;
	}
	assert_int_equal(append_ev(g_log, t, "after", "allow", NULL), 0);
	(void)verify_sealed(t + 10, &res, &sr);
	printf("#   %llu lines, %llu torn, chain break at %llu\n", (unsigned long long)res.lines,
	       (unsigned long long)res.torn, (unsigned long long)res.broken_line);
	assert_int_equal(res.broken_line, 0);
	assert_int_equal(sr.bad_line, 0);
	assert_int_equal(sr.stop_line, 0);
	assert_int_equal(sr.proven_line, res.lines);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(t_evolve_one_way, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_texts, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_sealed_intact, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_root_rewrite, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_truncated, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_key_erased, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_crash_between_seal_and_evolve, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tick, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_unsafe_key, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_kill9_sealing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
