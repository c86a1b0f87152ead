/* test_ladder_svg.c: the ladder pictures of recorded runs, drawn by a real
 * renderer (librsvg, the one rsvg-convert and GNOME use) into pixels: a
 * picture that does not parse, or that renders blank, fails.  And the
 * scene under them has what the exchange had: an arrow per segment sent,
 * a dropped one ending on the router, the states, and a 60 s wait cut
 * short into a break that says how long it was.
 *
 * The Mermaid text is checked for its form: the header, one participant
 * per lane, a "-x" arrow for a drop, nothing that Mermaid reads as its
 * own syntax inside a label.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <librsvg/rsvg.h>

#include "ladder_mermaid.h"
#include "ladder_scene.h"
#include "ladder_svg.h"
#include "timeline.h"

/* The picture of the recording at path, as text. */
static char *svg_of(const char *path, struct sl_timeline *tl)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	assert_int_equal(sl_timeline_load(tl, path), 0);
	f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(sl_ladder_svg(tl, "test: variant", f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Renders svg at its own size and returns the share of pixels that are
 * not white; fails the test when librsvg cannot read it. */
static double ink(const char *svg, int *w, int *h)
{
	GError *err = NULL;
	RsvgHandle *rh = rsvg_handle_new_from_data((const guint8 *)svg,
						   strlen(svg), &err);
	gdouble dw, dh;
	cairo_surface_t *s;
	cairo_t *cr;
	RsvgRectangle vp;
	long inked = 0;
	unsigned char *px;
	int stride;

	if (!rh)
		fail_msg("librsvg refused the picture: %s",
			 err ? err->message : "?");
	assert_true(rsvg_handle_get_intrinsic_size_in_pixels(rh, &dw, &dh));
	*w = (int)dw;
	*h = (int)dh;
	assert_true(*w > 100 && *h > 100);
	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, *w, *h);
	cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	vp = (RsvgRectangle){ 0, 0, dw, dh };
	if (!rsvg_handle_render_document(rh, cr, &vp, &err))
		fail_msg("librsvg could not draw it: %s",
			 err ? err->message : "?");
	cairo_surface_flush(s);
	px = cairo_image_surface_get_data(s);
	stride = cairo_image_surface_get_stride(s);
	for (int y = 0; y < *h; y++)
		for (int x = 0; x < *w; x++)
			if ((*(uint32_t *)(px + y * stride + 4 * x) &
			     0xffffff) != 0xffffff)
				inked++;
	cairo_destroy(cr);
	cairo_surface_destroy(s);
	g_object_unref(rh);
	return (double)inked / ((double)*w * *h);
}

static void test_renders(void **state)
{
	static const char *const runs[] = { "close-unread-rst.tl",
					    "faults-retransmit.tl",
					    "timewait-60s.tl",
					    "kernel-linger-zero.tl" };

	(void)state;
	for (size_t i = 0; i < sizeof(runs) / sizeof(*runs); i++) {
		char path[512];
		struct sl_timeline tl;
		char *svg;
		int w, h;
		double share;

		snprintf(path, sizeof(path), "%s/%s", SL_TEST_DATA, runs[i]);
		svg = svg_of(path, &tl);
		share = ink(svg, &w, &h);
		print_message("%s: %dx%d, %.1f%% inked\n", runs[i], w, h,
			      100 * share);
		/* Lifelines, arrows and text: a few percent of the page;
		 * blank is none, a black page is all of it. */
		assert_true(share > 0.01 && share < 0.5);
		free(svg);
		sl_timeline_free(&tl);
	}
}

/* The renderer is not fooled: an empty picture counts as blank, and a
 * broken one is refused (so the test above can fail). */
static void test_blank_and_broken_are_seen(void **state)
{
	const char *blank = "<svg xmlns=\"http://www.w3.org/2000/svg\" "
			    "width=\"400\" height=\"300\"/>";
	GError *err = NULL;
	RsvgHandle *rh;
	int w, h;

	(void)state;
	assert_true(ink(blank, &w, &h) < 0.01);
	rh = rsvg_handle_new_from_data((const guint8 *)"<svg><text>", 11, &err);
	assert_null(rh);
	g_clear_error(&err);
}

static void test_scene(void **state)
{
	struct sl_timeline tl;
	struct sl_ladder l;
	int sent = 0, lost = 0, states = 0;

	(void)state;
	assert_int_equal(
		sl_timeline_load(&tl, SL_TEST_DATA "/faults-retransmit.tl"), 0);
	assert_int_equal(sl_ladder_build(&tl, &l), 0);
	for (int i = 0; i < tl.n; i++)
		sent += sl_timeline_is_sent(&tl.ev[i]);
	assert_int_equal(l.narrows, sent);
	for (int i = 0; i < l.narrows; i++)
		lost += l.arrow[i].lost;
	/* The retransmissions never arrived: the router is drawn, and they
	 * end on it. */
	assert_true(lost > 0);
	assert_int_equal(l.nlanes, 3);
	assert_int_equal(l.router_lane, 1);
	for (int i = 0; i < l.nnotes; i++)
		states += l.note[i].kind == SL_NOTE_STATE;
	assert_true(states > 0);
	/* Time goes down. */
	for (int i = 1; i < l.nt; i++)
		assert_true(l.y[i] > l.y[i - 1]);
	sl_ladder_free(&l);
	sl_timeline_free(&tl);

	/* Nothing dropped: two lanes.  60 s of TIME-WAIT: one break that
	 * says so, not 60 s of picture. */
	assert_int_equal(sl_timeline_load(&tl, SL_TEST_DATA "/timewait-60s.tl"),
			 0);
	assert_int_equal(sl_ladder_build(&tl, &l), 0);
	assert_int_equal(l.nlanes, 2);
	assert_true(l.nbreaks >= 1);
	assert_true(l.brk[l.nbreaks - 1].ns > 59 * 1000000000LL);
	assert_true(l.height < 2000);
	sl_ladder_free(&l);
	sl_timeline_free(&tl);
}

static void test_mermaid(void **state)
{
	struct sl_timeline tl;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	(void)state;
	assert_int_equal(
		sl_timeline_load(&tl, SL_TEST_DATA "/faults-retransmit.tl"), 0);
	f = open_memstream(&buf, &n);
	assert_int_equal(sl_ladder_mermaid(&tl, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_true(!strncmp(buf, "sequenceDiagram\n", 16));
	assert_non_null(strstr(buf, "    participant router\n"));
	assert_non_null(strstr(buf, "client-xrouter: "));
	assert_non_null(strstr(buf, "client->>server: S "));
	/* Every line is a statement Mermaid knows, none carries a ';'. */
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		assert_null(strchr(line, ';'));
		assert_true(!strcmp(line, "sequenceDiagram") ||
			    !strncmp(line, "    participant ", 16) ||
			    !strncmp(line, "    Note ", 9) ||
			    strstr(line, "->>") || strstr(line, "-x"));
	}
	free(buf);
	sl_timeline_free(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_renders),
		cmocka_unit_test(test_blank_and_broken_are_seen),
		cmocka_unit_test(test_scene),
		cmocka_unit_test(test_mermaid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
