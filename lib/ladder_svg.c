/* ladder_svg.c: the ladder picture as SVG (ladder_svg.h).
 *
 * Plain SVG 1.1 that any renderer draws the same way (rsvg, browsers,
 * Inkscape): no script, no external reference, no web font.  The font is
 * named as DejaVu Sans Mono first, which Debian installs with any desktop
 * and librsvg, then the generic monospace, so the columns of numbers line
 * up wherever the file is opened.  Text that might cross a line carries a
 * white halo (paint-order), so labels stay legible over the lifelines.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "ladder_scene.h"
#include "ladder_svg.h"

#define TIME_W 86.0  /* the time column */
#define NOTE_W 250.0 /* the notes beside each outer lane */
#define SPAN_W 440.0 /* between the client's lane and the server's */
#define FONT "DejaVu Sans Mono, Liberation Mono, monospace"

static double lane_x(const struct sl_ladder *l, int lane)
{
	double left = TIME_W + NOTE_W;

	if (lane == l->nlanes - 1)
		return left + SPAN_W;
	if (lane == 0)
		return left;
	return left + SPAN_W / 2; /* the router, half-way */
}

/* Text into XML character data. */
static void put_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
}

/* Colour by what a segment does, as Wireshark's default rules hint it:
 * RST red, SYN green, FIN blue, data black, a bare ACK grey.  Each has its
 * own arrowhead (SVG 1.1 markers cannot take the line's colour). */
static const char *const colours[] = { "c62828", "2e7d32", "1565c0", "212121",
				       "757575" };

static const char *colour(const struct sl_ladder_arrow *a)
{
	const char *lbl = a->label;

	if (lbl[0] == 'R')
		return colours[0];
	if (lbl[0] == 'S')
		return colours[1];
	if (lbl[0] == 'F')
		return colours[2];
	if (strchr(lbl, '('))
		return colours[3];
	return colours[4];
}

static void header(FILE *f, const struct sl_ladder *l, const char *title)
{
	const struct sl_timeline *tl = l->tl;
	double w = TIME_W + 2 * NOTE_W + SPAN_W;

	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"font-family=\"%s\" font-size=\"11\">\n",
		w, l->height, w, l->height, FONT);
	fprintf(f, "<title>");
	put_text(f, title);
	fprintf(f, "</title>\n<rect width=\"100%%\" height=\"100%%\" "
		   "fill=\"#ffffff\"/>\n");
	fprintf(f, "<defs>\n");
	for (size_t i = 0; i < sizeof(colours) / sizeof(*colours); i++)
		fprintf(f,
			"<marker id=\"h%s\" viewBox=\"0 0 10 10\" "
			"refX=\"10\" refY=\"5\" markerWidth=\"7\" "
			"markerHeight=\"7\" orient=\"auto\"><path "
			"d=\"M0,0 L10,5 L0,10 z\" fill=\"#%s\"/></marker>\n",
			colours[i], colours[i]);
	fprintf(f, "</defs>\n");
	fprintf(f, "<text x=\"8\" y=\"16\" font-weight=\"bold\">");
	put_text(f, title);
	fprintf(f, "</text>\n<text x=\"8\" y=\"48\" fill=\"#616161\" "
		   "font-size=\"10\">time (s)</text>\n");
	for (int i = 0; i < l->nlanes; i++) {
		double x = lane_x(l, i);

		fprintf(f,
			"<rect x=\"%.1f\" y=\"28\" width=\"80\" height=\"20\" "
			"rx=\"3\" fill=\"#eceff1\" stroke=\"#455a64\"/>\n"
			"<text x=\"%.1f\" y=\"42\" text-anchor=\"middle\" "
			"font-weight=\"bold\">",
			x - 40, x);
		put_text(f, tl->host[l->lane_host[i]]);
		fprintf(f, "</text>\n");
	}
}

/* The lifelines, cut at each break, and the breaks with their length. */
static void lifelines(FILE *f, const struct sl_ladder *l)
{
	double x0 = TIME_W, x1 = TIME_W + 2 * NOTE_W + SPAN_W;

	for (int i = 0; i < l->nlanes; i++) {
		double y = 48, x = lane_x(l, i);

		for (int b = 0; b <= l->nbreaks; b++) {
			double end = b < l->nbreaks ? l->brk[b].y0 :
						      l->height - 12;

			fprintf(f,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				"y2=\"%.1f\" stroke=\"#90a4ae\" "
				"stroke-width=\"%s\"/>\n",
				x, y, x, end, i == l->router_lane ? "1" : "2");
			if (b < l->nbreaks)
				y = l->brk[b].y1;
		}
	}
	for (int b = 0; b < l->nbreaks; b++) {
		char len[32];
		double ym = (l->brk[b].y0 + l->brk[b].y1) / 2;

		sl_ladder_duration(l->brk[b].ns, len, sizeof(len));
		fprintf(f,
			"<path d=\"M%.1f,%.1f h%.1f\" stroke=\"#b0bec5\" "
			"stroke-dasharray=\"2,4\"/>\n"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
			"fill=\"#455a64\" font-style=\"italic\">"
			"&#8942; %s later (not to scale) &#8942;</text>\n",
			x0, ym, x1 - x0, lane_x(l, 0) + SPAN_W / 2, ym + 4,
			len);
	}
}

static void arrows(FILE *f, const struct sl_ladder *l)
{
	for (int i = 0; i < l->narrows; i++) {
		const struct sl_ladder_arrow *a = &l->arrow[i];
		double xa = lane_x(l, a->from), ya = sl_ladder_y(l, a->t0);
		double xb = lane_x(l, a->to), yb = sl_ladder_y(l, a->t1);
		const char *c = colour(a);

		if (a->lost) {
			/* It ends where the path lost it: on the router, or
			 * half-way when the router is not drawn. */
			xb = l->router_lane >= 0 ? lane_x(l, l->router_lane) :
						   (xa + xb) / 2;
			yb = ya + 10;
		}
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"#%s\" stroke-width=\"1.5\"%s",
			xa, ya, xb, yb, c,
			a->injected ? " stroke-dasharray=\"6,3\"" : "");
		if (!a->lost)
			fprintf(f, " marker-end=\"url(#h%s)\"", c);
		fprintf(f, "/>\n");
		if (a->lost)
			fprintf(f,
				"<path d=\"M%.1f,%.1f l8,8 m0,-8 l-8,8\" "
				"stroke=\"#c62828\" stroke-width=\"2\"/>\n",
				xb - 4, yb - 4);
		fprintf(f,
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
			"fill=\"#%s\" stroke=\"#ffffff\" stroke-width=\"3\" "
			"paint-order=\"stroke\">",
			(xa + xb) / 2, (ya + yb) / 2 - 3, c);
		put_text(f, a->label);
		if (a->lost)
			put_text(f, " lost");
		if (a->retransmitted)
			put_text(f, " (again)");
		if (a->injected)
			put_text(f, " (injected)");
		fprintf(f, "</text>\n");
	}
}

static void notes(FILE *f, const struct sl_ladder *l)
{
	for (int i = 0; i < l->nnotes; i++) {
		const struct sl_ladder_note *n = &l->note[i];
		double x = lane_x(l, n->lane), y = sl_ladder_y(l, n->t) + 4;
		int left = n->lane == 0;
		const char *style =
			n->kind == SL_NOTE_STATE ?
				"fill=\"#6a1b9a\" font-weight=\"bold\"" :
			n->kind == SL_NOTE_MARK	 ? "fill=\"#455a64\"" :
			n->kind == SL_NOTE_FAULT ? "fill=\"#e65100\"" :
						   "fill=\"#212121\"";

		fprintf(f,
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" %s "
			"stroke=\"#ffffff\" stroke-width=\"3\" "
			"paint-order=\"stroke\">",
			left ? x - 8 : x + 8, y, left ? "end" : "start", style);
		put_text(f, n->text);
		fprintf(f, "</text>\n");
	}
}

/* The time of every instant, in the left column, from the first packet. */
static void times(FILE *f, const struct sl_ladder *l)
{
	double last = -100;

	for (int i = 0; i < l->nt; i++) {
		if (l->y[i] - last < 11)
			continue; /* a crowd of instants: one time is enough */
		last = l->y[i];
		fprintf(f,
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
			"fill=\"#757575\" font-size=\"10\">%.6f</text>\n",
			TIME_W - 8, l->y[i] + 4,
			(double)(l->t[i] - l->tl->t0) / SL_NS_PER_SEC);
	}
}

int sl_ladder_svg(const struct sl_timeline *tl, const char *title, FILE *f)
{
	struct sl_ladder l;
	int ret = sl_ladder_build(tl, &l);

	if (ret < 0)
		return ret;
	header(f, &l, title);
	lifelines(f, &l);
	times(f, &l);
	arrows(f, &l);
	notes(f, &l);
	fprintf(f, "</svg>\n");
	sl_ladder_free(&l);
	return ferror(f) ? -EIO : 0;
}
