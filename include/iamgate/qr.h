/*
 * qr.h - draw a QR code on the terminal (libqrencode), for the texts an
 * administrator carries to a phone or a safe: a TOTP enrolment URI, the
 * audit log's verification key.
 */
#ifndef IAMGATE_QR_H
#define IAMGATE_QR_H

/* Print text as a QR code on stdout with UTF-8 half blocks, dark on light
 * with a quiet zone; on failure say so on stderr (the text is shown
 * beside it by the caller). */
void ig_qr_print(const char *text);

#endif
