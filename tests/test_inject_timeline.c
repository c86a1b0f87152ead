/* test_inject_timeline.c: an injected segment appears once on the timeline,
 * as the capture saw it leave, marked "(injected)" with the role's note.
 *
 * The timeline is built by hand: a connection's SYN and FIN from the
 * client, then an injection (SL_EV_INJECT, what sl_inject() records) and
 * the two copies of the same segment that the captures of the client and
 * the server would record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "ipaddr.h"
#include "timeline.h"

#define CLIENT 0
#define SERVER 2
#define ISN 1000000u

static const char *const hosts[] = { "client", "router", "server" };

static struct sl_event packet(int64_t t, int at, uint8_t flags, uint32_t seq)
{
	struct sl_event e;

	memset(&e, 0, sizeof(e));
	e.kind = SL_EV_PACKET;
	e.t = e.t_start = t;
	e.host = at;
	e.from = CLIENT;
	e.to = SERVER;
	sl_ip_pton("198.18.1.2", &e.pkt.saddr);
	sl_ip_pton("198.19.1.2", &e.pkt.daddr);
	e.pkt.sport = 40000;
	e.pkt.dport = 5000;
	e.pkt.seq = seq;
	e.pkt.flags = flags;
	e.pkt.win = 64240;
	e.pkt.opt.wscale = -1;
	return e;
}

static struct sl_event injection(int64_t t0, int64_t t1, uint8_t flags,
				 uint32_t seq, const char *note)
{
	struct sl_event e = packet(t1, CLIENT, flags, seq);

	e.kind = SL_EV_INJECT;
	e.t_start = t0;
	snprintf(e.name, sizeof(e.name), "inject");
	snprintf(e.text, sizeof(e.text), "%s", note);
	return e;
}

/* SYN, FIN; then a SYN injected at 1000..1100 ns after 900 and captured at
 * 1050 (client) and 1080 (server); its note says where its number is from. */
static void build(struct sl_timeline *tl, uint32_t inj_seq, bool captured,
		  bool twin)
{
	struct sl_event e;

	sl_timeline_init(tl);
	sl_timeline_set_hosts(tl, hosts, 3);
	e = packet(100, CLIENT, SL_TH_SYN, ISN);
	assert_int_equal(sl_timeline_add(tl, &e), 0);
	e = packet(200, CLIENT, SL_TH_FIN | SL_TH_ACK, ISN + 1);
	assert_int_equal(sl_timeline_add(tl, &e), 0);
	/* The same segment sent by the kernel before the injection: not
	 * the injected one, even though its fields are identical. */
	if (twin) {
		e = packet(900, CLIENT, SL_TH_SYN, inj_seq);
		assert_int_equal(sl_timeline_add(tl, &e), 0);
	}
	if (captured) {
		e = packet(1050, CLIENT, SL_TH_SYN, inj_seq);
		assert_int_equal(sl_timeline_add(tl, &e), 0);
		e = packet(1080, SERVER, SL_TH_SYN, inj_seq);
		assert_int_equal(sl_timeline_add(tl, &e), 0);
	}
	e = injection(1000, 1100, SL_TH_SYN, inj_seq, "seq: FIN + 1 + 100000");
	assert_int_equal(sl_timeline_add(tl, &e), 0);
	sl_timeline_finish(tl);
}

static int count_lines(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static char *written(const struct sl_timeline *tl)
{
	static char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	sl_timeline_write(tl, f);
	fclose(f);
	return buf;
}

static void test_marked_once(void **state)
{
	struct sl_timeline tl;
	int injected = 0;
	char *text;

	(void)state;
	build(&tl, ISN + 2 + 100000, true, true);
	for (int i = 0; i < tl.n; i++) {
		const struct sl_event *e = &tl.ev[i];

		if (e->kind == SL_EV_PACKET && !strcmp(e->name, "injected")) {
			injected++;
			assert_true(e->t >= 1000);
		}
		if (e->kind == SL_EV_INJECT)
			assert_int_equal(e->ret, 1); /* matched: hidden */
	}
	/* Both captures' copies, and not the kernel's own twin at 900. */
	assert_int_equal(injected, 2);
	text = written(&tl);
	/* Shown once (the sender's copy), with the note, and the injection
	 * event itself not at all. */
	assert_int_equal(count_lines(text, "(injected"), 1);
	assert_non_null(strstr(text, "(injected: seq: FIN + 1 + 100000)"));
	assert_null(strstr(text, "inject: IP"));
	sl_timeline_free(&tl);
}

static void test_relative_seq(void **state)
{
	struct sl_timeline tl;

	(void)state;
	/* An injected SYN starts no numbering: it reads against the old
	 * connection's ISN. */
	build(&tl, ISN + 2 + 100000, true, false);
	assert_non_null(strstr(written(&tl), "Flags [S], seq 100002,"));
	sl_timeline_free(&tl);
}

static void test_negative_relative_seq(void **state)
{
	struct sl_timeline tl;
	char *text;

	(void)state;
	build(&tl, ISN + 2 - 100000, true, false);
	text = written(&tl);
	/* tcpdump's unsigned number, and the signed one beside it. */
	assert_non_null(strstr(text, "seq 4294867298,"));
	assert_non_null(strstr(text, "(injected, seq -99998: "));
	sl_timeline_free(&tl);
}

static void test_not_captured(void **state)
{
	struct sl_timeline tl;
	char *text;

	(void)state;
	build(&tl, ISN + 2 + 100000, false, true);
	text = written(&tl);
	/* The kernel's twin stays unmarked, and the injection says that
	 * no capture saw it. */
	assert_int_equal(count_lines(text, "(injected"), 1);
	assert_non_null(strstr(text, "inject: IP 198.18.1.2.40000 > "));
	assert_non_null(strstr(text, "not seen by the capture"));
	sl_timeline_free(&tl);
}

static void test_save_load(void **state)
{
	char path[] = "/tmp/test_inject_timeline-XXXXXX";
	struct sl_timeline tl, back;
	int fd, marked = 0, injections = 0;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	build(&tl, ISN + 2 + 100000, true, true);
	assert_int_equal(sl_timeline_save(&tl, path), 0);
	assert_int_equal(sl_timeline_load(&back, path), 0);
	for (int i = 0; i < back.n; i++) {
		marked += back.ev[i].kind == SL_EV_PACKET &&
			  !strcmp(back.ev[i].name, "injected");
		injections += back.ev[i].kind == SL_EV_INJECT;
	}
	assert_int_equal(marked, 2);
	assert_int_equal(injections, 0); /* kept as the mark and its note */
	/* Judged again, it reads as the run showed it: with the note. */
	assert_non_null(
		strstr(written(&back), "(injected: seq: FIN + 1 + 100000)"));
	sl_timeline_free(&back);
	/* A mark other than "injected" in that field is garbage. */
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fprintf(f, "hosts\tclient\trouter\tserver\n"
			   "P\t1\t0\t0\t2\t198.18.1.2\t40000\t198.19.1.2\t5000"
			   "\t1\t0\t2\t64240\t0\tbogus\n");
		fclose(f);
		assert_int_equal(sl_timeline_load(&back, path), -EINVAL);
	}
	sl_timeline_free(&tl);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marked_once),
		cmocka_unit_test(test_relative_seq),
		cmocka_unit_test(test_negative_relative_seq),
		cmocka_unit_test(test_not_captured),
		cmocka_unit_test(test_save_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
