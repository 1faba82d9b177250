// SPDX-License-Identifier: GPL-2.0-only
/*
 * The capture reader of "check": the input as a capture file (pcap, pcapng, either gzipped, any
 * link type), opened and read to the end.  Every packet must come out as an Ethernet frame whose
 * bytes are all readable, never longer than its wire length; a file is read to its end, to an
 * error with a message, or to a truncated last packet with a message.
 */
#include <errno.h>
#include <string.h>

#include "offline/capture.h"
#include "fuzz.h"

#define MAX_PACKETS 100000

static volatile uint8_t sink;

static void touch(const uint8_t *p, uint32_t n)
{
	uint8_t x = 0;

	for (uint32_t i = 0; i < n; i++)
		x ^= p[i];
	sink ^= x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_path("capture.pcap");
	struct capture_pkt p;
	struct capture *c;
	char err[512] = "";
	uint64_t last = 0;
	int r, n = 0;

	fuzz_write(path, data, size);
	r = capture_open(path, &c, err, sizeof(err));
	if (r) {
		if (c || !err[0])
			fuzz_fail("capture_open() failed (%d) without a message or left a handle",
				  r);
		return 0;
	}
	capture_linktype(c);
	capture_linktype_name(c);
	while (n++ < MAX_PACKETS && (r = capture_next(c, &p)) == 1) {
		if (p.number != last + 1)
			fuzz_fail("packet number %llu after %llu", (unsigned long long)p.number,
				  (unsigned long long)last);
		last = p.number;
		if (p.cap > p.len)
			fuzz_fail("packet %llu: %u bytes captured of %u on the wire",
				  (unsigned long long)p.number, p.cap, p.len);
		if (p.frame != p.orig && p.cap < 14)
			fuzz_fail("packet %llu: a synthesized frame of %u bytes",
				  (unsigned long long)p.number, p.cap);
		touch(p.frame, p.cap);
		touch(p.orig, p.orig_cap);
		capture_progress(c);
	}
	if (r < 0 && (r != -EINVAL || !capture_error(c)[0]))
		fuzz_fail("capture_next() failed (%d) without a message", r);
	if (capture_truncated(c) && !capture_truncated(c)[0])
		fuzz_fail("an empty truncation message");
	capture_close(c);
	return 0;
}
