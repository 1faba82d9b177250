// SPDX-License-Identifier: GPL-2.0-only
/* Reading captures for "check": libpcap for the formats, zlib for gzip, frames as Ethernet. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "offline/capture.h"
#include "base/safe_io.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#define DLT_IPV6 229
#endif

#define ETH_HLEN 14
#define FRAME_MAX (ETH_HLEN + 262144)

struct capture {
	char *path;
	pcap_t *p;
	FILE *f;
	gzFile gz; /* gzip input, read through f (a cookie stream) */
	long size; /* bytes of the file */
	int linktype;
	uint64_t number;
	uint64_t next_off; /* classic pcap: the file offset of the next record (0: pcapng) */
	uint8_t *frame;
	char err[PCAP_ERRBUF_SIZE + 320];
	char trunc[PCAP_ERRBUF_SIZE + 320];
	char gzerr[128]; /* zlib's reason when the gzip stream is corrupt */
};

/* zlib's message without the "<fd:3>: " it puts in front */
static const char *gz_reason(gzFile gz, int *zerr)
{
	const char *m = gzerror(gz, zerr);
	const char *p = strncmp(m, "<fd:", 4) ? NULL : strstr(m, ">: ");

	return p ? p + 3 : m;
}

static ssize_t gz_read(void *cookie, char *buf, size_t n)
{
	struct capture *c = cookie;
	int r = gzread(c->gz, buf, n > 1u << 30 ? 1u << 30 : (unsigned)n);
	int zerr, saved = errno;

	if (r >= 0)
		return r;
	/* libpcap then says strerror(errno): keep zlib's own words for the message */
	snprintf(c->gzerr, sizeof(c->gzerr), "%s", gz_reason(c->gz, &zerr));
	errno = zerr == Z_ERRNO ? saved : EBADMSG;
	if (zerr == Z_ERRNO)
		c->gzerr[0] = '\0';
	return -1;
}

static int gz_close(void *cookie)
{
	struct capture *c = cookie;
	int r = gzclose(c->gz) == Z_OK ? 0 : EOF;

	c->gz = NULL;
	return r;
}

static bool supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		return true;
	default:
		return false;
	}
}

/* Open path, or its gzip decompression, as a stdio stream. */
static int open_stream(struct capture *c, char *err, size_t errsz)
{
	unsigned char magic[2] = { 0 };
	struct stat st;
	FILE *f = fopen(c->path, "rb");
	size_t n;

	if (!f) {
		snprintf(err, errsz, "%s: %s", c->path, strerror(errno));
		return -errno;
	}
	if (fstat(fileno(f), &st)) {
		snprintf(err, errsz, "%s: %s", c->path, strerror(errno));
		fclose(f);
		return -EIO;
	}
	c->size = st.st_size;
	/* a file, or a pipe (tcpdump -w - | ..., <(zcat ...)); /dev/zero is no capture */
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		fclose(f);
		snprintf(err, errsz, "%s: %s, not a capture file", c->path, file_kind(st.st_mode));
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	n = fread(magic, 1, 2, f);
	if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
		cookie_io_functions_t io = { .read = gz_read, .close = gz_close };
		int fd = dup(fileno(f));

		fclose(f);
		/* stdio read ahead through the shared file offset: start over */
		if (fd >= 0 && lseek(fd, 0, SEEK_SET) < 0) {
			close(fd);
			fd = -1;
		}
		c->gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
		if (!c->gz) {
			snprintf(err, errsz, "%s: cannot read the gzip stream", c->path);
			return -EIO;
		}
		c->f = fopencookie(c, "rb", io);
		if (!c->f) {
			gzclose(c->gz);
			c->gz = NULL;
			return -ENOMEM;
		}
		return 0;
	}
	rewind(f);
	c->f = f;
	return 0;
}

int capture_open(const char *path, struct capture **out, char *err, size_t errsz)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c = calloc(1, sizeof(*c));
	int ret;

	*out = NULL;
	if (!c || !(c->path = strdup(path)) || !(c->frame = malloc(FRAME_MAX))) {
		capture_close(c);
		return -ENOMEM;
	}
	ret = open_stream(c, err, errsz);
	if (ret) {
		capture_close(c);
		return ret;
	}
	c->p = pcap_fopen_offline_with_tstamp_precision(c->f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!c->p) {
		/* libpcap's own words for an empty file are about header bytes: say it plainly. */
		if (c->gzerr[0])
			snprintf(err, errsz, "%s: corrupt gzip data: %s", path, c->gzerr);
		else if (c->size == 0 && !c->gz)
			snprintf(err, errsz, "%s: empty file, not a capture", path);
		else
			snprintf(err, errsz, "%s: not a readable pcap or pcapng capture: %s", path,
				 ebuf);
		capture_close(c);
		return -EINVAL;
	}
	c->f = NULL; /* pcap_close() closes it */
	c->linktype = pcap_datalink(c->p);
	if (pcap_major_version(c->p) == 2)
		c->next_off = 24; /* past the file header */
	if (!supported(c->linktype)) {
		snprintf(err, errsz, "%s: link type %s (%d) is not supported", path,
			 pcap_datalink_val_to_name(c->linktype) ?: "unknown", c->linktype);
		capture_close(c);
		return -ENOTSUP;
	}
	*out = c;
	return 0;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The ethertype an IP packet without a link header gets, from its version. */
static uint16_t ip_ethertype(const uint8_t *ip, uint32_t n)
{
	if (n < 1)
		return 0;
	switch (ip[0] >> 4) {
	case 4:
		return 0x0800;
	case 6:
		return 0x86dd;
	default:
		return 0;
	}
}

/* BSD loopback: an address family, in host order (DLT_NULL) or network order (DLT_LOOP). */
static uint16_t af_ethertype(const uint8_t *h, bool network)
{
	uint32_t af = network ? (uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3] :
				(uint32_t)h[3] << 24 | h[2] << 16 | h[1] << 8 | h[0];

	if (!network && af > 0xffff) /* written by a big-endian host */
		af = (uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
	if (af == 2)
		return 0x0800;
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return 0x86dd;
	return 0;
}

/* The packet as an Ethernet frame: a synthesized header, then the network layer. */
static void to_ethernet(struct capture *c, const uint8_t *d, uint32_t cap, uint32_t len,
			struct capture_pkt *p)
{
	uint32_t hdr = 0;
	uint16_t type = 0;

	switch (c->linktype) {
	case DLT_EN10MB:
		p->frame = d;
		p->cap = cap;
		p->len = p->wire_len = len;
		return;
	case DLT_LINUX_SLL:
		hdr = 16;
		type = cap >= hdr ? be16(d + 14) : 0;
		break;
	case DLT_LINUX_SLL2:
		hdr = 20;
		type = cap >= hdr ? be16(d) : 0;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		hdr = 4;
		type = cap >= hdr ? af_ethertype(d, c->linktype == DLT_LOOP) : 0;
		break;
	default: /* raw IP */
		type = ip_ethertype(d, cap);
		break;
	}
	if (cap < hdr)
		hdr = cap;
	memset(c->frame, 0, 12);
	c->frame[12] = (uint8_t)(type >> 8);
	c->frame[13] = (uint8_t)type;
	memcpy(c->frame + ETH_HLEN, d + hdr, cap - hdr);
	p->frame = c->frame;
	p->cap = cap - hdr + ETH_HLEN;
	/* a wire length near 4 GiB must not wrap around below the captured length */
	len = len >= hdr ? len - hdr : 0;
	p->wire_len = len;
	p->len = (len < UINT32_MAX - ETH_HLEN ? len : UINT32_MAX - ETH_HLEN) + ETH_HLEN;
}

int capture_next(struct capture *c, struct capture_pkt *p)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	int r = pcap_next_ex(c->p, &h, &d);

	if (r == PCAP_ERROR_BREAK)
		return 0;
	if (r != 1) {
		const char *msg = pcap_geterr(c->p);

		/* The file ends inside a packet: report it, keep what came before. */
		if (strstr(msg, "truncated")) {
			snprintf(c->trunc, sizeof(c->trunc), "%s: packet %llu: %s", c->path,
				 (unsigned long long)c->number + 1, msg);
			return 0;
		}
		if (c->gzerr[0])
			snprintf(c->err, sizeof(c->err), "%s: packet %llu: corrupt gzip data: %s",
				 c->path, (unsigned long long)c->number + 1, c->gzerr);
		else if (c->next_off)
			snprintf(c->err, sizeof(c->err),
				 "%s: packet %llu (record at byte %llu): %s", c->path,
				 (unsigned long long)c->number + 1, (unsigned long long)c->next_off,
				 msg);
		else
			snprintf(c->err, sizeof(c->err), "%s: packet %llu: %s", c->path,
				 (unsigned long long)c->number + 1, msg);
		return -EINVAL;
	}
	c->number++;
	if (c->next_off)
		c->next_off += 16 + h->caplen;
	if (h->caplen > FRAME_MAX - ETH_HLEN) {
		snprintf(c->err, sizeof(c->err),
			 "%s: packet %llu: captured length %u is impossible", c->path,
			 (unsigned long long)c->number, h->caplen);
		return -EINVAL;
	}
	p->number = c->number;
	p->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
	p->orig = d;
	p->orig_cap = h->caplen;
	p->orig_len = h->len;
	to_ethernet(c, d, h->caplen, h->len < h->caplen ? h->caplen : h->len, p);
	return 1;
}

const char *capture_error(const struct capture *c)
{
	return c->err;
}

const char *capture_truncated(const struct capture *c)
{
	return c->trunc[0] ? c->trunc : NULL;
}

int capture_linktype(const struct capture *c)
{
	return c->linktype;
}

const char *capture_linktype_name(const struct capture *c)
{
	const char *n = pcap_datalink_val_to_name(c->linktype);

	return n ? n : "unknown";
}

double capture_progress(const struct capture *c)
{
	long pos;

	if (c->size <= 0)
		return 0;
	if (c->gz)
		pos = (long)gzoffset(c->gz);
	else
		pos = ftell(pcap_file(c->p));
	if (pos < 0)
		return 0;
	return pos >= c->size ? 1.0 : (double)pos / (double)c->size;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	if (c->p)
		pcap_close(c->p);
	else if (c->f)
		fclose(c->f);
	free(c->frame);
	free(c->path);
	free(c);
}

void capture_show_progress(const char *path, struct capture *c, uint64_t n, bool done)
{
	fprintf(stderr, "\r  %s: %3.0f%%, %llu packets%s", path,
		done ? 100.0 : 100.0 * capture_progress(c), (unsigned long long)n,
		done ? "\n" : "");
}
