/* Tandem — MIT licence. Length-prefixed frames: 4-byte big-endian length, then the body. */
#ifndef TANDEM_FRAME_H
#define TANDEM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HDR	4
#define FRAME_MAX_DEFAULT	(1024 * 1024)
#define FRAME_MAX_MIN	4096
#define FRAME_MAX_MAX	(64 * 1024 * 1024)

enum frame_status {
	FRAME_NEED_MORE,	/* not enough bytes yet */
	FRAME_READY,		/* a whole frame is present */
	FRAME_ERR_ZERO,		/* length 0: never valid */
	FRAME_ERR_TOO_LARGE,	/* length over the cap: rejected before buffering the body */
};

const char	*frame_status_name(enum frame_status);

/*
 * Looks at the first avail bytes of a stream. With FRAME_READY, *body_len is the body length
 * and the frame occupies FRAME_HDR + *body_len bytes. With FRAME_NEED_MORE, *body_len is the
 * body length if the header is complete, else 0. The cap is checked as soon as the header is
 * complete, so an oversized frame is refused before its body arrives.
 */
enum frame_status frame_parse(const uint8_t *buf, size_t avail, size_t cap,
		    size_t *body_len /* OUT */);

/* Writes the 4-byte header for a body of len bytes. */
void		frame_put_header(uint8_t out[FRAME_HDR], uint32_t len);

#endif
