/*
 * qr.c - a QR code on the terminal (libqrencode).
 */
#include <stdio.h>

#include <qrencode.h>

#include "iamgate/qr.h"

void ig_qr_print(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int w, q = 2;

	if (qr == NULL) {
		fprintf(stderr, "iamgate: cannot draw the QR code; use the text above\n");
		return;
	}
	w = qr->width;
	/* Two modules per character cell with UTF-8 half blocks, dark on light,
	 * with a quiet zone, so phone cameras read it from a terminal. */
	for (int y = -q; y < w + q; y += 2) {
		for (int x = -q; x < w + q; x++) {
			int top = y >= 0 && y < w && x >= 0 && x < w && (qr->data[y * w + x] & 1);
			int bot = y + 1 >= 0 && y + 1 < w && x >= 0 && x < w &&
			          (qr->data[(y + 1) * w + x] & 1);
			if (top && bot)
				fputs(" ", stdout);
			else if (top)
				fputs("\u2584", stdout);
			else if (bot)
				fputs("\u2580", stdout);
			else
				fputs("\u2588", stdout);
		}
		fputs("\n", stdout);
	}
	QRcode_free(qr);
}
