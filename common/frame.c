/* Tandem — MIT licence. Frame header codec; the cap is checked before any body is buffered. */
#include "common/frame.h"

const char *
frame_status_name(enum frame_status s)
{
	switch (s) {
	case FRAME_NEED_MORE:		return "need-more";
	case FRAME_READY:		return "ready";
	case FRAME_ERR_ZERO:		return "zero-length";
	case FRAME_ERR_TOO_LARGE:	return "too-large";
	}
	return "unknown";
}

enum frame_status
frame_parse(const uint8_t *buf, size_t avail, size_t cap, size_t *body_len)
{
	uint32_t len;

	*body_len = 0;
	if (avail < FRAME_HDR)
		return FRAME_NEED_MORE;
	len = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | buf[3];
	if (len == 0)
		return FRAME_ERR_ZERO;
	if (len > cap)
		return FRAME_ERR_TOO_LARGE;
	*body_len = len;
	if (avail - FRAME_HDR < len)
		return FRAME_NEED_MORE;
	return FRAME_READY;
}

void
frame_put_header(uint8_t out[FRAME_HDR], uint32_t len)
{
	out[0] = len >> 24;
	out[1] = len >> 16;
	out[2] = len >> 8;
	out[3] = len;
}
