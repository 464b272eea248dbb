/*
 * test_http.c - the HTTP unit: the endpoint URL check, the config and
 * credential checks (each refusal's reason, nothing sent), request
 * refusals (header injection, reserved headers, bad method or path), the
 * error-document readers of both protocols, and the transport against a
 * scripted loopback server: what goes on the wire (Host, the caller's
 * headers, no Expect, no form type on a bare body, the method), what comes
 * back (body, request id, error code, status), and every outcome of the
 * reason table: retries on throttling, 429 and 5xx up to max_attempts, no
 * retry on other errors, redirects not followed, the body cap, timeouts,
 * refused connections, and several requests in one call.  Signed requests
 * over TLS are test_sts.c's (against the STS test endpoint).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iamgate/http.h"
#include "iamgate/util.h"

#define KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
#define NOW 1700000000

/* ------------------------------------------------------------------ */
/* A scripted server: one canned answer per connection, in order.      */

struct srv {
	pid_t pid;
	int port;
	char log[256]; /* every request received, each followed by "\n=====\n" */
};

static void srv_log(const char *path, const char *req, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);

	if (fd < 0)
		return;
	if (write(fd, req, n) < 0 || write(fd, "\n=====\n", 7) < 0)
		_exit(3);
	close(fd);
}

/* Read one request (headers and a Content-Length body) into buf. */
static size_t srv_read(int c, char *buf, size_t cap)
{
	size_t n = 0, need = 0;
	ssize_t k;
	char *end, *cl;

	while (n + 1 < cap && (k = read(c, buf + n, cap - 1 - n)) > 0) {
		n += (size_t)k;
		buf[n] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		if (need == 0) {
			cl = strcasestr(buf, "\r\nContent-Length:");
			need = (size_t)(end - buf) + 4 +
			       (cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
		}
		if (n >= need)
			break;
	}
	return n;
}

/* script[i]: the raw answer to connection i; "SLEEP": accept and say
 * nothing; "CLOSE": accept and hang up. */
static void srv_child(int lfd, const char *const *script, size_t n, const char *log)
{
	char buf[65536];

	alarm(30);
	for (size_t i = 0; i < n; i++) {
		int c = accept(lfd, NULL, NULL);
		size_t got;
		if (c < 0)
			_exit(2);
		got = srv_read(c, buf, sizeof(buf));
		srv_log(log, buf, got);
		if (strcmp(script[i], "SLEEP") == 0) {
			sleep(10);
		} else if (strcmp(script[i], "CLOSE") != 0 &&
		           write(c, script[i], strlen(script[i])) < 0) {
			_exit(3);
		}
		close(c);
	}
	_exit(0);
}

static void srv_start(struct srv *s, const char *const *script, size_t n)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(lfd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(ig_bfmt(s->log, sizeof(s->log), "%s/build/t-http-%d-%d.log", IG_SOURCE_DIR,
	                         (int)getpid(), s->port),
	                 0);
	unlink(s->log);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0)
		srv_child(lfd, script, n, s->log);
	close(lfd);
}

/* Stop the server; returns what it received (malloc'd, "" if nothing). */
static char *srv_stop(struct srv *s)
{
	char *text = NULL;
	size_t len = 0;
	int fd, st;

	kill(s->pid, SIGKILL);
	waitpid(s->pid, &st, 0);
	fd = open(s->log, O_RDONLY);
	if (fd < 0 || ig_read_fd(fd, 1 << 20, &text, &len) != 0)
		text = strdup("");
	if (fd >= 0)
		close(fd);
	unlink(s->log);
	assert_non_null(text);
	return text;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */

static char url[64];

static void plain_cfg(struct ig_http_config *c, const struct srv *s, enum ig_http_proto proto)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(ig_bfmt(url, sizeof(url), "http://127.0.0.1:%d", s ? s->port : 1), 0);
	c->endpoint = url;
	c->plain_http = 1;
	c->proto = proto;
	c->timeout_ms = 8000;
	c->max_attempts = 3;
}

static void json_post(struct ig_http_request *q, struct ig_http_header h[2], char *hbuf, size_t cap,
                      const char *body)
{
	memset(q, 0, sizeof(*q));
	assert_int_equal(ig_http_json_target("1.0", "DynamoDB_20120810.GetItem", hbuf, cap, h), 0);
	q->method = "POST";
	q->headers = h;
	q->n_headers = 2;
	q->body = body;
	q->body_len = strlen(body);
}

#define OK_JSON                                                                                    \
	"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/x-amz-json-1.0\r\n"     \
	"x-amzn-RequestId: RID200\r\nContent-Length: 11\r\n\r\n{\"Item\":{}}"

static const char *json_err(const char *status, const char *type, char *buf, size_t cap)
{
	char body[256];

	assert_int_equal(ig_bfmt(body, sizeof(body),
	                         "{\"__type\":\"com.amazonaws.dynamodb.v20120810#%s\","
	                         "\"message\":\"secret-ish text\"}",
	                         type),
	                 0);
	assert_int_equal(ig_bfmt(buf, cap,
	                         "HTTP/1.1 %s\r\nConnection: close\r\nx-amzn-RequestId: RIDERR\r\n"
	                         "Content-Type: application/x-amz-json-1.0\r\n"
	                         "Content-Length: %zu\r\n\r\n%s",
	                         status, strlen(body), body),
	                 0);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Checks without the network                                          */

static void test_base_url(void **state)
{
	static const struct {
		const char *url, *scheme, *base, *host;
	} ok[] = {
	        {"https://sts.us-east-1.amazonaws.com", "https",
	         "https://sts.us-east-1.amazonaws.com", "sts.us-east-1.amazonaws.com"},
	        {"https://sts.us-east-1.amazonaws.com/", "https",
	         "https://sts.us-east-1.amazonaws.com", "sts.us-east-1.amazonaws.com"},
	        {"https://sts.us-east-1.amazonaws.com:443", "https",
	         "https://sts.us-east-1.amazonaws.com", "sts.us-east-1.amazonaws.com"},
	        {"https://127.0.0.1:8443", "https", "https://127.0.0.1:8443", "127.0.0.1:8443"},
	        {"https://[::1]:8443/", "https", "https://[::1]:8443", "[::1]:8443"},
	        {"http://169.254.169.254", "http", "http://169.254.169.254", "169.254.169.254"},
	        {"http://[fd00:ec2::254]", "http", "http://[fd00:ec2::254]", "[fd00:ec2::254]"},
	};
	static const struct {
		const char *url, *scheme;
	} bad[] = {
	        {"http://127.0.0.1:8443", "https"},
	        {"https://127.0.0.1", "http"},
	        {"https://u:p@127.0.0.1", "https"},
	        {"https://u@127.0.0.1", "https"},
	        {"https://127.0.0.1/sts", "https"},
	        {"https://127.0.0.1/?a=1", "https"},
	        {"https://127.0.0.1/#x", "https"},
	        {"https://[fe80::1%25eth0]/", "https"},
	        {"https://", "https"},
	        {"127.0.0.1", "https"},
	        {"file:///etc/passwd", "file"},
	        {"https://127.0.0.1:99999", "https"},
	        {"https://127.0.0.1 /", "https"},
	        {"", "https"},
	};
	char base[128], host[128];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (ig_http_base_url(ok[i].url, ok[i].scheme, base, sizeof(base), host,
		                     sizeof(host)) != 0)
			fail_msg("ok case %zu (%s) refused", i, ok[i].url);
		assert_string_equal(base, ok[i].base);
		assert_string_equal(host, ok[i].host);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ig_http_base_url(bad[i].url, bad[i].scheme, base, sizeof(base), host,
		                     sizeof(host)) != IG_ERR_INVAL)
			fail_msg("bad case %zu (%s) accepted", i, bad[i].url);
	}
	assert_int_equal(ig_http_base_url(NULL, "https", base, sizeof(base), host, sizeof(host)),
	                 IG_ERR_INVAL);
	assert_int_equal(
	        ig_http_base_url("https://a-long-host-name.example", "https", base, 10, host, 64),
	        IG_ERR_INVAL);
}

static void base_creds(struct ig_aws_creds *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->access_key_id, KEY_ID, sizeof(KEY_ID));
	memcpy(c->secret_access_key, SECRET, sizeof(SECRET));
}

static int64_t fixed_clock(void *arg)
{
	(void)arg;
	return NOW;
}

static void test_check(void **state)
{
	struct ig_http_config c = {0};
	struct ig_aws_creds cr;
	enum ig_reason why;

	(void)state;
	base_creds(&cr);
	c.endpoint = "https://dynamodb.ap-northeast-1.amazonaws.com";
	c.region = "ap-northeast-1";
	c.service = "dynamodb";
	c.proto = IG_HTTP_JSON;
	c.now = fixed_clock;
	assert_int_equal(ig_http_check(&c, &cr, &why), 0);
	assert_int_equal(why, IG_R_OK);

	c.service = "DynamoDB";
	assert_int_equal(ig_http_check(&c, &cr, &why), IG_ERR_INVAL);
	assert_int_equal(why, IG_R_INVALID_CONFIG);
	c.service = NULL;
	assert_int_equal(ig_http_check(&c, &cr, &why), IG_ERR_INVAL);
	c.service = "dynamodb";
	c.region = "ap northeast";
	assert_int_equal(ig_http_check(&c, &cr, &why), IG_ERR_INVAL);
	assert_int_equal(why, IG_R_INVALID_CONFIG);
	c.region = "ap-northeast-1";
	c.proto = (enum ig_http_proto)7;
	assert_int_equal(ig_http_check(&c, &cr, &why), IG_ERR_INVAL);
	c.proto = IG_HTTP_JSON;
	/* Signed requests never go in clear, and plain_http never signs. */
	c.endpoint = "http://dynamodb.ap-northeast-1.amazonaws.com";
	assert_int_equal(ig_http_check(&c, &cr, &why), IG_ERR_INVAL);
	assert_int_equal(why, IG_R_INVALID_CONFIG);
	c.plain_http = 1;
	assert_int_equal(ig_http_check(&c, &cr, &why), IG_ERR_INVAL);
	assert_int_equal(why, IG_R_INVALID_CONFIG);
	assert_int_equal(ig_http_check(&c, NULL, &why), 0);
	c.endpoint = "https://dynamodb.ap-northeast-1.amazonaws.com";
	assert_int_equal(ig_http_check(&c, NULL, &why), IG_ERR_INVAL);
	c.plain_http = 0;

	assert_int_equal(ig_http_check(&c, NULL, &why), IG_ERR_INVAL);
	assert_int_equal(why, IG_R_BASE_CREDENTIALS_MISSING);
	cr.access_key_id[3] = '/';
	assert_int_equal(ig_http_check(&c, &cr, &why), IG_ERR_INVAL);
	assert_int_equal(why, IG_R_BASE_CREDENTIALS_MISSING);
	base_creds(&cr);
	cr.expiration = NOW + IG_AWS_CREDS_EXPIRY_MARGIN;
	assert_int_equal(ig_http_check(&c, &cr, &why), IG_ERR_INVAL);
	assert_int_equal(why, IG_R_BASE_CREDENTIALS_EXPIRED);
	cr.expiration = NOW + IG_AWS_CREDS_EXPIRY_MARGIN + 1;
	assert_int_equal(ig_http_check(&c, &cr, &why), 0);
	assert_int_equal(ig_http_check(NULL, &cr, &why), IG_ERR_INVAL);
	assert_int_equal(why, IG_R_INVALID_CONFIG);
}

/* A request the unit refuses is never sent: nothing reaches the server. */
static void test_request_refusals(void **state)
{
	static const struct ig_http_header bad_headers[] = {
	        {"X-Amz-Target", "a\r\nAuthorization: x"},
	        {"X-Amz-Target", "a\nb"},
	        {"X-Amz-Target", "caf\xc3\xa9"},
	        {"Authorization", "x"},
	        {"host", "evil.example"},
	        {"X-Amz-Security-Token", "x"},
	        {"Content-Length", "1"},
	        {"Transfer-Encoding", "chunked"},
	        {"Expect", "100-continue"},
	        {"Bad Name", "x"},
	        {"", "x"},
	        {"X-A", NULL},
	};
	const char *const script[] = {OK_JSON};
	struct ig_http_config c;
	struct ig_http_request q = {0};
	struct ig_http_response resp;
	struct ig_http_header h[IG_HTTP_MAX_HEADERS + 1];
	struct srv s;
	char *got;

	(void)state;
	srv_start(&s, script, 1);
	plain_cfg(&c, &s, IG_HTTP_JSON);
	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
		q = (struct ig_http_request){"POST", "/", NULL, &bad_headers[i], 1, "{}", 2};
		assert_int_equal(ig_http_send(&c, NULL, &q, &resp), IG_ERR_INVAL);
		assert_int_equal(resp.reason, IG_R_INVALID_REQUEST);
		assert_int_equal(resp.attempts, 0);
	}
	for (size_t i = 0; i <= IG_HTTP_MAX_HEADERS; i++)
		h[i] = (struct ig_http_header){"X-A", "b"};
	q = (struct ig_http_request){"POST", "/", NULL, h, IG_HTTP_MAX_HEADERS + 1, NULL, 0};
	assert_int_equal(ig_http_send(&c, NULL, &q, &resp), IG_ERR_INVAL);
	q = (struct ig_http_request){"post", "/", NULL, NULL, 0, NULL, 0};
	assert_int_equal(ig_http_send(&c, NULL, &q, &resp), IG_ERR_INVAL);
	q.method = "GET / HTTP/1.1\r\n";
	assert_int_equal(ig_http_send(&c, NULL, &q, &resp), IG_ERR_INVAL);
	q.method = "GET";
	q.path = "relative";
	assert_int_equal(ig_http_send(&c, NULL, &q, &resp), IG_ERR_INVAL);
	q.path = "/a?b";
	assert_int_equal(ig_http_send(&c, NULL, &q, &resp), IG_ERR_INVAL);
	q.path = "/a b";
	assert_int_equal(ig_http_send(&c, NULL, &q, &resp), IG_ERR_INVAL);
	q.path = "/";
	q.query = "a=1#frag";
	assert_int_equal(ig_http_send(&c, NULL, &q, &resp), IG_ERR_INVAL);
	q.query = NULL;
	q.body_len = 3;
	assert_int_equal(ig_http_send(&c, NULL, &q, &resp), IG_ERR_INVAL);
	assert_int_equal(resp.reason, IG_R_INVALID_REQUEST);
	assert_int_equal(ig_http_send(&c, NULL, NULL, &resp), IG_ERR_INVAL);
	assert_int_equal(ig_http_send_all(&c, NULL, &q, 0, &resp), IG_ERR_INVAL);
	got = srv_stop(&s);
	assert_string_equal(got, "");
	free(got);
}

static void test_parse_error(void **state)
{
	static const struct {
		enum ig_http_proto proto;
		const char *body, *etype, *code, *rid;
	} ok[] = {
	        {IG_HTTP_JSON,
	         "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
	         "ConditionalCheckFailedException\"}",
	         NULL, "ConditionalCheckFailedException", ""},
	        {IG_HTTP_JSON, "{\"__type\":\"NotFoundException\",\"message\":\"m\"}", NULL,
	         "NotFoundException", ""},
	        {IG_HTTP_JSON, "not json", "ThrottlingException:http://internal.amazon.com/x",
	         "ThrottlingException", ""},
	        {IG_HTTP_JSON, "{\"__type\":\"bad code!\"}", "ValidationException",
	         "ValidationException", ""},
	        {IG_HTTP_QUERY,
	         "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>"
	         "<Type>Sender</Type><Code>NoSuchEntity</Code><Message>m</Message></Error>"
	         "<RequestId>4a5b-6c</RequestId></ErrorResponse>",
	         NULL, "NoSuchEntity", "4a5b-6c"},
	        {IG_HTTP_QUERY,
	         "<ErrorResponse><Error><Code>Throttling</Code></Error>"
	         "<RequestId>bad id!</RequestId></ErrorResponse>",
	         NULL, "Throttling", ""},
	};
	static const struct {
		enum ig_http_proto proto;
		const char *body, *etype;
	} bad[] = {
	        {IG_HTTP_JSON, "{}", NULL},
	        {IG_HTTP_JSON, "{\"__type\":\"x#\"}", NULL},
	        {IG_HTTP_JSON, "{\"__type\":7}", NULL},
	        {IG_HTTP_JSON, "{\"__type\":\"a\\u0000b\"}", NULL},
	        {IG_HTTP_JSON,
	         "{\"__type\":\"0123456789012345678901234567890123456789012345678901"
	         "234567890123\"}",
	         NULL},
	        {IG_HTTP_JSON, "", ":x"},
	        {IG_HTTP_QUERY, "<ErrorResponse><Error><Code></Code></Error></ErrorResponse>",
	         NULL},
	        {IG_HTTP_QUERY, "<Other><Error><Code>X</Code></Error></Other>", NULL},
	        {IG_HTTP_QUERY,
	         "<ErrorResponse xmlns=\"urn:a\" xmlns:b=\"urn:b\"><b:Error><Code>X</Code>"
	         "</b:Error></ErrorResponse>",
	         NULL},
	        {IG_HTTP_QUERY, "<!DOCTYPE x><ErrorResponse/>", NULL},
	        {IG_HTTP_PLAIN, "{\"__type\":\"X\"}", "X"},
	};
	char code[IG_HTTP_CODE_MAX], rid[IG_HTTP_REQUEST_ID_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (ig_http_parse_error(ok[i].proto, ok[i].body, strlen(ok[i].body), ok[i].etype,
		                        code, sizeof(code), rid, sizeof(rid)) != 0)
			fail_msg("ok case %zu refused", i);
		assert_string_equal(code, ok[i].code);
		assert_string_equal(rid, ok[i].rid);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(code, 'X', sizeof(code));
		if (ig_http_parse_error(bad[i].proto, bad[i].body, strlen(bad[i].body),
		                        bad[i].etype, code, sizeof(code), rid,
		                        sizeof(rid)) != IG_ERR_PARSE)
			fail_msg("bad case %zu accepted: %s", i, code);
		assert_string_equal(code, "");
		assert_string_equal(rid, "");
	}
	assert_int_equal(ig_http_parse_error(IG_HTTP_JSON, "{}", 2, "Code", code, 1, NULL, 0),
	                 IG_ERR_RANGE);
	assert_int_equal(ig_http_parse_error(IG_HTTP_JSON, NULL, 0, "Code", code, 5, NULL, 0), 0);
	assert_string_equal(code, "Code");
	assert_int_equal(ig_http_parse_error(IG_HTTP_JSON, NULL, 0, "Code", code, 4, NULL, 0),
	                 IG_ERR_PARSE);
}

static void test_throttle_and_target(void **state)
{
	struct ig_http_header h[2];
	char buf[128];

	(void)state;
	assert_true(ig_http_is_throttle("Throttling"));
	assert_true(ig_http_is_throttle("ThrottlingException"));
	assert_true(ig_http_is_throttle("ProvisionedThroughputExceededException"));
	assert_true(ig_http_is_throttle("RequestLimitExceeded"));
	assert_false(ig_http_is_throttle("ConditionalCheckFailedException"));
	assert_false(ig_http_is_throttle("throttling"));
	assert_false(ig_http_is_throttle(""));
	assert_false(ig_http_is_throttle(NULL));
	assert_int_equal(ig_http_json_target("1.1", "TrentService.Decrypt", buf, sizeof(buf), h),
	                 0);
	assert_string_equal(h[0].name, "Content-Type");
	assert_string_equal(h[0].value, "application/x-amz-json-1.1");
	assert_string_equal(h[1].name, "X-Amz-Target");
	assert_string_equal(h[1].value, "TrentService.Decrypt");
	assert_int_equal(ig_http_json_target("1.1", "TrentService.Decrypt", buf, 40, h),
	                 IG_ERR_RANGE);
}

/* ------------------------------------------------------------------ */
/* On the wire                                                         */

/* One client call against a scripted server. */
struct call {
	struct srv s;
	struct ig_http_config c;
	struct ig_http_request q;
	struct ig_http_response resp;
	struct ig_http_header h[2];
	char hbuf[128];
};

/* Start the server with script[0..n) and aim a request at it: a JSON POST
 * of body, or, with body NULL, a bare GET of "/". */
static void call_start(struct call *k, const char *const *script, size_t n,
                       enum ig_http_proto proto, const char *body)
{
	memset(k, 0, sizeof(*k));
	srv_start(&k->s, script, n);
	plain_cfg(&k->c, &k->s, proto);
	if (body != NULL)
		json_post(&k->q, k->h, k->hbuf, sizeof(k->hbuf), body);
	else
		k->q = (struct ig_http_request){"GET", "/", NULL, NULL, 0, NULL, 0};
}

static int call_send(struct call *k)
{
	ig_http_response_clear(&k->resp);
	return ig_http_send(&k->c, NULL, &k->q, &k->resp);
}

/* Stop the server; returns the requests it got (malloc'd). */
static char *call_end(struct call *k)
{
	ig_http_response_clear(&k->resp);
	return srv_stop(&k->s);
}

/* The server got n requests. */
static void call_end_count(struct call *k, size_t n)
{
	char *got = call_end(k);

	assert_int_equal(count(got, "\n=====\n"), n);
	free(got);
}

static void test_ok_and_wire(void **state)
{
	const char *const script[] = {OK_JSON};
	struct call k;
	char host[64], *got;

	(void)state;
	call_start(&k, script, 1, IG_HTTP_JSON, "{\"Key\":{}}");
	assert_int_equal(call_send(&k), 0);
	assert_int_equal(k.resp.reason, IG_R_OK);
	assert_int_equal(k.resp.status, 200);
	assert_int_equal(k.resp.attempts, 1);
	assert_string_equal(k.resp.request_id, "RID200");
	assert_string_equal(k.resp.aws_error, "");
	assert_int_equal(k.resp.body.len, 11);
	assert_string_equal(ig_buf_str(&k.resp.body), "{\"Item\":{}}");
	ig_http_response_clear(&k.resp);
	assert_null(k.resp.body.p);
	got = call_end(&k);
	assert_non_null(strstr(got, "POST / HTTP/1.1\r\n"));
	assert_int_equal(ig_bfmt(host, sizeof(host), "\r\nHost: 127.0.0.1:%d\r\n", k.s.port), 0);
	assert_int_equal(count(got, "\r\nHost: "), 1);
	assert_non_null(strstr(got, host));
	assert_non_null(strstr(got, "\r\nContent-Type: application/x-amz-json-1.0\r\n"));
	assert_non_null(strstr(got, "\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\n"));
	assert_non_null(strstr(got, "\r\n\r\n{\"Key\":{}}"));
	assert_null(strcasestr(got, "Expect:"));
	assert_null(strcasestr(got, "Authorization:")); /* plain_http never signs */
	free(got);
}

/* GET has no body and no Content-Type; PUT with no body and no type
 * (the IMDS token call) gets neither curl's form type nor a body. */
static void test_methods(void **state)
{
	const char *const script[] = {
	        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
	        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\ntoken",
	};
	struct ig_http_header th = {"X-aws-ec2-metadata-token-ttl-seconds", "21600"};
	struct call k;
	char *got;

	(void)state;
	call_start(&k, script, 2, IG_HTTP_PLAIN, NULL);
	k.q.path = "/latest/meta-data/";
	k.q.query = "a=1&b=2";
	assert_int_equal(call_send(&k), 0);
	assert_non_null(k.resp.body.p); /* an empty 200 body is "", not NULL */
	assert_string_equal(ig_buf_str(&k.resp.body), "");
	k.q = (struct ig_http_request){"PUT", "/latest/api/token", NULL, &th, 1, NULL, 0};
	assert_int_equal(call_send(&k), 0);
	assert_string_equal(ig_buf_str(&k.resp.body), "token");
	got = call_end(&k);
	assert_non_null(strstr(got, "GET /latest/meta-data/?a=1&b=2 HTTP/1.1\r\n"));
	assert_non_null(strstr(got, "PUT /latest/api/token HTTP/1.1\r\n"));
	assert_non_null(strstr(got, "\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n"));
	assert_null(strcasestr(got, "Content-Type"));
	assert_int_equal(count(got, "Content-Length: 0\r\n"), 1); /* the PUT's */
	free(got);
}

/* Throttling codes and 429 are retried; the last answer decides. */
static void test_retry_throttle(void **state)
{
	char e1[512], e2[512];
	const char *const script[] = {
	        json_err("400 Bad Request", "ThrottlingException", e1, sizeof(e1)),
	        json_err("400 Bad Request", "ProvisionedThroughputExceededException", e2,
	                 sizeof(e2)),
	        OK_JSON,
	};
	const char *const s429[] = {
	        "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: "
	        "2\r\n\r\nno",
	        "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: "
	        "2\r\n\r\nno",
	};
	struct call k;

	(void)state;
	call_start(&k, script, 3, IG_HTTP_JSON, "{}");
	assert_int_equal(call_send(&k), 0);
	assert_int_equal(k.resp.attempts, 3);
	assert_string_equal(k.resp.request_id, "RID200");
	call_end_count(&k, 3);

	call_start(&k, s429, 2, IG_HTTP_JSON, "{}");
	k.c.max_attempts = 2;
	assert_int_equal(call_send(&k), IG_ERR_AWS);
	assert_int_equal(k.resp.reason, IG_R_HTTP_ERROR);
	assert_int_equal(k.resp.status, 429);
	assert_int_equal(k.resp.attempts, 2);
	assert_null(k.resp.body.p); /* an error's body is dropped */
	call_end_count(&k, 2);
}

/* An error that is not throttling is final at once, its code kept. */
static void test_aws_error_not_retried(void **state)
{
	char e1[512];
	const char *const script[] = {
	        json_err("400 Bad Request", "ConditionalCheckFailedException", e1, sizeof(e1)),
	        OK_JSON,
	};
	const char *const typed[] = {
	        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
	        "x-amzn-ErrorType: AccessDeniedException:http://internal.amazon.com/x\r\n"
	        "Content-Length: 9\r\n\r\nnot json!",
	};
	struct call k;

	(void)state;
	call_start(&k, script, 2, IG_HTTP_JSON, "{}");
	assert_int_equal(call_send(&k), IG_ERR_AWS);
	assert_int_equal(k.resp.reason, IG_R_AWS_ERROR);
	assert_string_equal(k.resp.aws_error, "ConditionalCheckFailedException");
	assert_string_equal(k.resp.request_id, "RIDERR");
	assert_int_equal(k.resp.status, 400);
	assert_int_equal(k.resp.attempts, 1);
	assert_int_equal(k.resp.body.len, 0);
	call_end_count(&k, 1);

	call_start(&k, typed, 1, IG_HTTP_JSON, "{}");
	assert_int_equal(call_send(&k), IG_ERR_AWS);
	assert_string_equal(k.resp.aws_error, "AccessDeniedException");
	assert_string_equal(k.resp.request_id, "");
	call_end_count(&k, 1);
}

/* 5xx is retried; a query-protocol error names its code and RequestId in
 * the body; a redirect is final and not followed. */
static void test_5xx_xml_redirect(void **state)
{
	const char *const s5[] = {
	        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: "
	        "0\r\n\r\n",
	        "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 104\r\n"
	        "\r\n<ErrorResponse><Error><Code>InternalFailure</Code></Error><RequestId>r-500"
	        "</RequestId></ErrorResponse>   ",
	};
	const char *const s3[] = {
	        "HTTP/1.1 302 Found\r\nConnection: close\r\nLocation: http://127.0.0.1:1/\r\n"
	        "Content-Length: 0\r\n\r\n",
	        OK_JSON,
	};
	struct call k;

	(void)state;
	call_start(&k, s5, 2, IG_HTTP_QUERY, "Action=X");
	k.c.max_attempts = 2;
	assert_int_equal(call_send(&k), IG_ERR_AWS);
	assert_int_equal(k.resp.reason, IG_R_HTTP_5XX);
	assert_int_equal(k.resp.status, 500);
	assert_int_equal(k.resp.attempts, 2);
	assert_string_equal(k.resp.aws_error, "InternalFailure");
	assert_string_equal(k.resp.request_id, "r-500");
	call_end_count(&k, 2);

	call_start(&k, s3, 2, IG_HTTP_QUERY, "Action=X");
	assert_int_equal(call_send(&k), IG_ERR_NET);
	assert_int_equal(k.resp.reason, IG_R_HTTP_REDIRECT);
	assert_int_equal(k.resp.status, 302);
	assert_int_equal(k.resp.attempts, 1);
	call_end_count(&k, 1);
}

/* The body cap, with a Content-Length and without one (chunked, checked
 * as the body streams). */
static void test_body_cap(void **state)
{
	const char *const big[] = {
	        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 101\r\n\r\n"
	        "0123456789012345678901234567890123456789012345678901234567890123456789"
	        "0123456789012345678901234567890",
	        "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
	        "40\r\n0123456789012345678901234567890123456789012345678901234567890123\r\n"
	        "40\r\n0123456789012345678901234567890123456789012345678901234567890123\r\n0\r\n\r"
	        "\n",
	};
	struct call k;

	(void)state;
	call_start(&k, big, 2, IG_HTTP_PLAIN, NULL);
	k.c.max_response = 100;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(call_send(&k), IG_ERR_PARSE);
		assert_int_equal(k.resp.reason, IG_R_RESPONSE_TOO_LARGE);
		assert_int_equal(k.resp.attempts, 1);
		assert_null(k.resp.body.p);
	}
	call_end_count(&k, 2);
}

/* No answer: a hang-up is retried, silence times out, nobody listening
 * is connect_failed. */
static void test_transport(void **state)
{
	const char *const hangup[] = {"CLOSE", "CLOSE"};
	const char *const silent[] = {"SLEEP"};
	struct call k;

	(void)state;
	call_start(&k, hangup, 2, IG_HTTP_PLAIN, NULL);
	k.c.max_attempts = 2;
	assert_int_equal(call_send(&k), IG_ERR_NET);
	assert_int_equal(k.resp.reason, IG_R_TRANSPORT_ERROR);
	assert_int_equal(k.resp.attempts, 2);
	call_end_count(&k, 2);

	call_start(&k, silent, 1, IG_HTTP_PLAIN, NULL);
	k.c.timeout_ms = 1500;
	k.c.max_attempts = 1;
	assert_int_equal(call_send(&k), IG_ERR_TIMEOUT);
	assert_int_equal(k.resp.reason, IG_R_TIMEOUT);
	assert_int_equal(k.resp.status, 0);
	call_end_count(&k, 1);

	plain_cfg(&k.c, NULL, IG_HTTP_PLAIN); /* port 1: nothing listens */
	k.c.max_attempts = 2;
	assert_int_equal(call_send(&k), IG_ERR_NET);
	assert_int_equal(k.resp.reason, IG_R_CONNECT_FAILED);
	assert_int_equal(k.resp.attempts, 2);
	ig_http_response_clear(&k.resp);
}

/* Several requests in one call: all answered, each its own outcome; an
 * invalid one beside them is not sent. */
static void test_send_all(void **state)
{
	const char *const script[] = {OK_JSON, OK_JSON, OK_JSON};
	struct ig_http_request q[4];
	struct ig_http_response resp[4];
	struct call k;
	char *got;

	(void)state;
	call_start(&k, script, 3, IG_HTTP_JSON, "{\"n\":0}");
	for (int i = 0; i < 4; i++)
		q[i] = k.q;
	q[1].body = "{\"n\":1}";
	q[2].method = "bad";
	q[3].body = "{\"n\":3}";
	memset(resp, 0xa5, sizeof(resp)); /* need not be initialised */
	assert_int_equal(ig_http_send_all(&k.c, NULL, q, 4, resp), IG_ERR_INVAL);
	for (int i = 0; i < 4; i++) {
		if (i == 2) {
			assert_int_equal(resp[i].reason, IG_R_INVALID_REQUEST);
			assert_int_equal(resp[i].attempts, 0);
		} else {
			assert_int_equal(resp[i].reason, IG_R_OK);
			assert_string_equal(ig_buf_str(&resp[i].body), "{\"Item\":{}}");
		}
		ig_http_response_clear(&resp[i]);
	}
	got = call_end(&k);
	assert_int_equal(count(got, "\n=====\n"), 3);
	assert_non_null(strstr(got, "{\"n\":0}"));
	assert_non_null(strstr(got, "{\"n\":1}"));
	assert_non_null(strstr(got, "{\"n\":3}"));
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_base_url),
	        cmocka_unit_test(test_check),
	        cmocka_unit_test(test_request_refusals),
	        cmocka_unit_test(test_parse_error),
	        cmocka_unit_test(test_throttle_and_target),
	        cmocka_unit_test(test_ok_and_wire),
	        cmocka_unit_test(test_methods),
	        cmocka_unit_test(test_retry_throttle),
	        cmocka_unit_test(test_aws_error_not_retried),
	        cmocka_unit_test(test_5xx_xml_redirect),
	        cmocka_unit_test(test_body_cap),
	        cmocka_unit_test(test_transport),
	        cmocka_unit_test(test_send_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
