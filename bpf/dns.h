/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Learning addresses from DNS answers, in the datapath, before the answer reaches the client:
 * a client that connects right after its lookup finds the address already allowed.
 *
 * Only answers from the policy's trusted resolvers count.  The message (UDP, or TCP with its
 * length prefix, all within this segment) is copied to scratch memory and read with bounded
 * loops: the question and every answer's owner name and CNAME target are matched against the
 * host patterns; the union of what matched applies to every A/AAAA address of the answer, each
 * with its own TTL (raised to the policy's floor, plus a grace period).  Compression pointers
 * must point backwards, names stay within 255 bytes, at most AMLG_DNS_ANSWERS answers are read:
 * anything else is reported as malformed-dns and nothing is learned from it.
 */
#ifndef AMLG_DNS_H
#define AMLG_DNS_H

#include "names.h"
#include "parse.h"
#include "stats.h"

#define AMLG_DNS_ANSWERS 32
#define AMLG_DNS_JUMPS 16
#define DNS_HDR 12
#define E2BIG 7

#define DNS_OK 0
#define DNS_SKIP 1 /* not an answer to learn from (not trusted, no host rules, ...) */
#define DNS_BAD -1 /* malformed or incomplete */

/* Decoding one name: where we read, where the name ends in the message, how many jumps. */
struct name_ctx {
	__u8 *msg;
	__u32 mlen;
	__u32 pos; /* next byte to read */
	__u32 end; /* first byte after the name where it was found (set at the first jump) */
	__u32 jumps;
	__u32 label; /* bytes left in the current label */
	__u32 err;
	__u32 done;
	struct amlg_namebuf *nb;
};

static __always_inline __u8 msg_byte(const __u8 *msg, __u32 pos)
{
	return msg[BOUND(pos, AMLG_MSG_MAX - 1)];
}

static long name_step(__u32 i, struct name_ctx *nc)
{
	__u32 pos = nc->pos;
	__u8 b;

	if (pos >= nc->mlen) {
		nc->err = 1;
		return 1;
	}
	b = msg_byte(nc->msg, pos);
	if (nc->label) {
		/* a label byte, lower-cased; a dot inside a label could fake a boundary */
		if (b == '.' || b == 0)
			nc->nb->bad = 1;
		if (b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		if (nc->nb->len >= AMLG_NAME_MAX - 1) {
			nc->err = 1;
			return 1;
		}
		nc->nb->text[BOUND(nc->nb->len, AMLG_NAME_MAX - 1)] = b;
		nc->nb->len++;
		nc->label--;
		nc->pos = pos + 1;
		return 0;
	}
	if (b == 0) {
		if (!nc->jumps)
			nc->end = pos + 1;
		nc->done = 1;
		return 1;
	}
	if ((b & 0xc0) == 0xc0) {
		__u32 target;

		if (pos + 1 >= nc->mlen) {
			nc->err = 1;
			return 1;
		}
		target = ((b & 0x3f) << 8) | msg_byte(nc->msg, pos + 1);
		/* only backwards: a forward pointer or a loop is malformed */
		if (target >= pos || ++nc->jumps > AMLG_DNS_JUMPS) {
			nc->err = 1;
			return 1;
		}
		if (nc->jumps == 1)
			nc->end = pos + 2;
		nc->pos = target;
		return 0;
	}
	if (b & 0xc0) {
		nc->err = 1; /* extended label types */
		return 1;
	}
	if (nc->nb->len) {
		if (nc->nb->len >= AMLG_NAME_MAX - 1) {
			nc->err = 1;
			return 1;
		}
		nc->nb->text[BOUND(nc->nb->len, AMLG_NAME_MAX - 1)] = '.';
		nc->nb->len++;
	}
	nc->label = b;
	nc->pos = pos + 1;
	return 0;
}

/*
 * Decode the name at pos of sc->msg (mlen bytes) into sc->nb: where the name ends (the first
 * byte after it), or DNS_BAD.  Global: the verifier checks the name loop once, on its own,
 * instead of at each of the three places that read a name.
 */
__noinline int dns_name(struct amlg_scratch *sc, __u32 mlen, __u32 pos)
{
	struct name_ctx nc = { .mlen = mlen, .pos = pos };

	if (!sc)
		return DNS_BAD;
	nc.msg = sc->msg;
	nc.nb = &sc->nb;
	sc->nb.len = 0;
	sc->nb.bad = 0;
	sc->nb.hash = 0;
	bpf_loop(AMLG_NAME_MAX + AMLG_DNS_JUMPS + 64, name_step, &nc, 0);
	if (nc.err || !nc.done)
		return DNS_BAD;
	return (int)(nc.end & 0xffff);
}

/* Decode the name at *pos into sc->nb; *pos moves past it.  0, or DNS_BAD. */
static __always_inline int decode_name(struct amlg_scratch *sc, __u32 mlen, __u32 *pos)
{
	int end = dns_name(sc, mlen, *pos);

	if (end < 0)
		return DNS_BAD;
	*pos = (__u32)end;
	return 0;
}

static __always_inline __u16 msg16(const __u8 *msg, __u32 pos)
{
	return (__u16)(msg_byte(msg, pos) << 8 | msg_byte(msg, pos + 1));
}

static __always_inline __u32 msg32(const __u8 *msg, __u32 pos)
{
	return (__u32)msg16(msg, pos) << 16 | msg16(msg, pos + 2);
}

/*
 * Copy len bytes of the packet at off (in the skb, or the batch buffer bp) to dst, which has
 * room for AMLG_MSG_MAX.  0 or -1.
 */
static __always_inline int payload_copy(struct __sk_buff *skb, struct amlg_batch_pkt *bp, __u32 off,
					__u32 len, __u8 *dst)
{
	__u32 n;

	if (!len || len > AMLG_MSG_MAX)
		return -1;
	n = BOUND(len - 1, AMLG_MSG_MAX - 1) + 1;
	if (bp) {
		if (off + len > AMLG_BATCH_SNAP)
			return -1;
		return bpf_probe_read_kernel(dst, n, bp->data + BOUND(off, 2047)) ? -1 : 0;
	}
	if (!skb)
		return -1;
	return bpf_skb_load_bytes(skb, off, dst, n) ? -1 : 0;
}

/* The name a client asked for, for fqdn listings and violation reports. */
static __always_inline void remember_name(__u64 hash, struct amlg_scratch *sc)
{
	sc->name.len = (__u16)sc->nb.len;
	__builtin_memcpy(sc->name.text, sc->nb.text, AMLG_NAME_MAX);
	bpf_map_update_elem(&amlg_names, &hash, &sc->name, BPF_ANY);
}

struct answer_ctx {
	struct amlg_scratch *sc;
	const struct amlg_pcfg *pc;
	__u32 slot;
	__u32 mlen;
	__u32 pos;
	__u32 count;
	__u32 err;
	__u32 naddr;
};

/*
 * Names already matched, by where they start (in the scratch memory): an owner that points at
 * one of them is that name again (typically every answer's owner points at the question or at
 * the CNAME target), and matching it again could add nothing to the union.
 */

static __always_inline void seen_add(struct amlg_scratch *sc, __u32 start)
{
	__u32 n = sc->nseen;

	if (n < AMLG_DNS_SEEN) {
		sc->seen[BOUND(n, AMLG_DNS_SEEN - 1)] = start;
		sc->nseen = n + 1;
	}
}

/* Is the name at pos a pointer to a name matched before?  Then it is 2 bytes long. */
static __always_inline int seen_ptr(const struct answer_ctx *ac, __u32 pos)
{
	__u8 b = msg_byte(ac->sc->msg, pos);
	__u32 target;

	if ((b & 0xc0) != 0xc0 || pos + 1 >= ac->mlen)
		return 0;
	target = ((b & 0x3f) << 8) | msg_byte(ac->sc->msg, pos + 1);
	if (target >= pos)
		return 0;
	for (__u32 k = 0; k < AMLG_DNS_SEEN; k++)
		if (k < ac->sc->nseen && ac->sc->seen[k] == target)
			return 1;
	return 0;
}

static long answer_step(__u32 i, struct answer_ctx *ac)
{
	struct amlg_scratch *sc = ac->sc;
	__u32 pos = ac->pos, ttl;
	__u16 type, rdlen;

	if (i >= ac->count)
		return 1;
	if (seen_ptr(ac, pos)) {
		pos += 2;
	} else {
		__u32 start = pos;

		if (decode_name(sc, ac->mlen, &pos)) {
			ac->err = 1;
			return 1;
		}
		name_match(ac->slot, ac->pc, &sc->nb, &sc->set);
		seen_add(sc, start);
	}
	if (pos + 10 > ac->mlen) {
		ac->err = 1;
		return 1;
	}
	type = msg16(sc->msg, pos);
	ttl = msg32(sc->msg, pos + 4);
	rdlen = msg16(sc->msg, pos + 8);
	pos += 10;
	if (pos + rdlen > ac->mlen) {
		ac->err = 1;
		return 1;
	}
	if (type == 5) { /* CNAME: its target belongs to the chain too */
		__u32 p = pos;

		if (decode_name(sc, ac->mlen, &p)) {
			ac->err = 1;
			return 1;
		}
		name_match(ac->slot, ac->pc, &sc->nb, &sc->set);
		seen_add(sc, pos);
	} else if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
		__u32 n = ac->naddr;

		if (n < AMLG_DNS_ADDRS) {
			struct dns_addr *a = &sc->addrs[n];

			a->family = type == 1 ? 4 : 6;
			a->ttl = ttl;
			/* the rdlen bytes lie in the message (checked above), zero-padded to 16 */
			__builtin_memset(a->addr, 0, 16);
			if (bpf_probe_read_kernel(a->addr, type == 1 ? 4 : 16,
						  sc->msg + BOUND(pos, AMLG_MSG_MAX - 1))) {
				ac->err = 1;
				return 1;
			}
			ac->naddr = n + 1;
		}
	}
	ac->pos = pos + rdlen;
	return 0;
}

static __always_inline int trusted(const struct amlg_pcfg *pc, const struct amlg_pkt *pkt)
{
	for (__u32 i = 0; i < AMLG_RESOLVERS_MAX; i++) {
		const struct amlg_resolver *r = &pc->resolvers[i];

		if (i >= pc->nresolvers)
			break;
		__u64 d = 0;

		if (r->family != pkt->family)
			continue;
		/* both are zero-padded to 16 bytes */
		for (__u32 k = 0; k < 16; k += 8)
			d |= *(const __u64 *)(r->addr + k) ^ *(const __u64 *)(pkt->saddr + k);
		if (!d)
			return 1;
	}
	return 0;
}

struct learn_sweep {
	__u64 now;
	__u64 min_expires;
	struct amlg_learn_key min_key;
	__u32 removed;
	__u32 have_min;
};

static __always_inline __u64 learned_expires(const struct amlg_learned *v)
{
	__u64 e = 0;

	for (int i = 0; i < AMLG_LEARN_SLOTS; i++)
		if (v->s[i].pattern.hash && v->s[i].expires_ns > e)
			e = v->s[i].expires_ns;
	return e;
}

static long sweep_one(void *map, struct amlg_learn_key *k, struct amlg_learned *v,
		      struct learn_sweep *sw)
{
	__u64 e = learned_expires(v);

	if (e <= sw->now) {
		bpf_map_delete_elem(map, k);
		sw->removed++;
	} else if (!sw->have_min || e < sw->min_expires) {
		sw->min_expires = e;
		sw->min_key = *k;
		sw->have_min = 1;
	}
	return 0;
}

/*
 * Put (pattern, name) into v: refresh its slot, else a free or expired one, else the oldest.
 * The learning functions are global: the verifier checks each once, whatever loop calls them.
 *
 * Across CPUs: v is shared, and its slots are written with plain stores.  Two CPUs learning the
 * same address at the same instant (two answers from trusted resolvers) write the same values
 * when they learn the same pattern and name; for different ones they may pick the same free
 * slot, and the later write wins -- the other pattern is learned again from its next answer
 * (its TTL).  A reader that catches a slot half-written sees the pattern of one answer with the
 * name or expiry of the other: both from trusted answers for that address.  Nothing is ever
 * learned that no trusted answer said.
 */
__noinline int learn_slot(struct amlg_learned *v, const struct amlg_host_key *p, __u64 name_hash,
			  __u64 expires, __u64 now)
{
	int same = -1, free = -1, oldest_i = 0;
	__u64 oldest = ~0ull;
	__u32 pick;

	if (!v || !p)
		return 0;
	for (int i = 0; i < AMLG_LEARN_SLOTS; i++) {
		struct amlg_learn_slot *s = &v->s[i];

		if (s->pattern.hash == p->hash && s->pattern.len == p->len &&
		    s->pattern.kind == p->kind && s->name_hash == name_hash) {
			same = i;
			break;
		}
		if (free < 0 && (!s->pattern.hash || s->expires_ns <= now))
			free = i;
		if (s->expires_ns < oldest) {
			oldest = s->expires_ns;
			oldest_i = i;
		}
	}
	pick = (__u32)(same >= 0 ? same : free >= 0 ? free : oldest_i) & (AMLG_LEARN_SLOTS - 1);
	if (same >= 0 && v->s[pick].expires_ns > expires)
		return 0; /* a longer TTL was already learned */
	v->s[pick].pattern = *p;
	v->s[pick].name_hash = name_hash;
	v->s[pick].expires_ns = expires;
	return 0;
}

/* Learn sc->addrs[idx] for every pattern in sc->set. */
__noinline int learn_addr(struct amlg_scratch *sc, __u32 idx, __u64 name_hash, __u64 expires,
			  __u64 now)
{
	struct amlg_learn_key k = {};
	struct amlg_match_set *set;
	struct amlg_learned *v, *fresh;
	struct amlg_stats *st = stats_get();
	struct dns_addr *a;

	if (!sc || !st)
		return 0;
	set = &sc->set;
	fresh = &sc->fresh;
	a = &sc->addrs[idx & (AMLG_DNS_ADDRS - 1)];
	k.family = a->family;
	__builtin_memcpy(k.addr, a->addr, 16);
	v = bpf_map_lookup_elem(&amlg_learned, &k);
	if (!v) {
		__builtin_memset(fresh, 0, sizeof(*fresh));
		fresh->first_ns = now;
		for (__u32 i = 0; i < AMLG_NAMES_MATCH_MAX; i++)
			if (i < set->n)
				learn_slot(fresh, &set->k[i], name_hash, expires, now);
		long err = bpf_map_update_elem(&amlg_learned, &k, fresh, BPF_NOEXIST);

		if (err == -E2BIG) {
			/* Full: expired entries go first; if none, the soonest to expire. */
			struct learn_sweep sw = { .now = now };

			bpf_for_each_map_elem(&amlg_learned, sweep_one, &sw, 0);
			st->dns_evicted_expired += sw.removed;
			if (!sw.removed && sw.have_min) {
				bpf_map_delete_elem(&amlg_learned, &sw.min_key);
				st->dns_evicted_live++;
			}
			err = bpf_map_update_elem(&amlg_learned, &k, fresh, BPF_NOEXIST);
		}
		/*
		 * -EEXIST: another CPU learned the address between our lookup and our insert
		 * (never overwritten: its slots would be lost).  Learn into its entry instead.
		 */
		if (err != -EEXIST) {
			st->dns_learned++;
			return 0;
		}
		v = bpf_map_lookup_elem(&amlg_learned, &k);
		if (!v)
			return 0;
	}
	for (__u32 i = 0; i < AMLG_NAMES_MATCH_MAX; i++)
		if (i < set->n)
			learn_slot(v, &set->k[i], name_hash, expires, now);
	st->dns_learned++;
	return 0;
}

/*
 * Learn from a DNS response the protected side receives (pkt, in skb's data or the batch
 * buffer bp).  Returns DNS_OK, DNS_SKIP, or DNS_BAD (report as malformed-dns).
 */
__noinline int dns_learn(struct __sk_buff *skb, struct amlg_batch_pkt *bp,
			 const struct amlg_pkt *pkt, __u64 now)
{
	struct answer_ctx ac = {};
	struct amlg_scratch *sc = scratch_get();
	struct amlg_stats *st = stats_get();
	struct amlg_pcfg *pc;
	struct amlg_cfg *cfg;
	__u32 zero = 0, off, len, slot, qd, an, pos = DNS_HDR;
	__u64 name_hash = 0;
	__u16 flags;

	cfg = bpf_map_lookup_elem(&amlg_cfg, &zero);
	if (!pkt || !sc || !st || !cfg)
		return DNS_SKIP;
	slot = cfg->active & 1;
	pc = bpf_map_lookup_elem(&amlg_pcfg, &slot);
	if (!pc || !(pc->flags & AMLG_PF_HOSTS) || !pkt->payload_len)
		return DNS_SKIP;
	if (!trusted(pc, pkt)) {
		st->dns_untrusted++;
		return DNS_SKIP;
	}
	st->dns_responses++;
	off = pkt->payload_off;
	len = pkt->payload_len;
	if (pkt->proto == IPPROTO_TCP) {
		__u8 pfx[2];

		/* the length prefix, then the message, all in this segment */
		if (len < 2 + DNS_HDR)
			goto bad;
		if (bp) {
			if (off + 2 > AMLG_BATCH_SNAP ||
			    bpf_probe_read_kernel(pfx, 2, bp->data + BOUND(off, 1023)))
				goto bad;
		} else if (!skb || bpf_skb_load_bytes(skb, off, pfx, 2)) {
			goto bad;
		}
		if ((__u32)(pfx[0] << 8 | pfx[1]) != len - 2)
			goto bad; /* several messages, or one split over segments */
		off += 2;
		len -= 2;
	}
	if (len < DNS_HDR || len > AMLG_MSG_MAX)
		goto bad;
	if (payload_copy(skb, bp, off, len, sc->msg))
		goto bad;
	flags = msg16(sc->msg, 2);
	/* a response (QR), a standard query, no error: otherwise nothing to learn */
	if (!(flags & 0x8000) || (flags & 0x7800) || (flags & 0x000f))
		return DNS_SKIP;
	qd = msg16(sc->msg, 4);
	an = msg16(sc->msg, 6);
	if (qd > 1)
		goto bad; /* no resolver sends several questions: nothing here can be trusted */
	if (!an)
		return DNS_SKIP;
	sc->set.n = 0;
	sc->nseen = 0;
	if (qd) {
		if (decode_name(sc, len, &pos))
			goto bad;
		name_match(slot, pc, &sc->nb, &sc->set);
		name_hash = sc->nb.hash;
		remember_name(name_hash, sc);
		pos += 4;
		sc->seen[0] = DNS_HDR;
		sc->nseen = 1;
	}
	ac.sc = sc;
	ac.pc = pc;
	ac.slot = slot;
	ac.mlen = len;
	ac.pos = pos;
	ac.count = an < AMLG_DNS_ANSWERS ? an : AMLG_DNS_ANSWERS;
	bpf_loop(AMLG_DNS_ANSWERS, answer_step, &ac, 0);
	if (ac.err)
		goto bad;
	if (!sc->set.n)
		return DNS_OK;
	for (__u32 i = 0; i < AMLG_DNS_ADDRS; i++) {
		__u64 ttl, expires;

		if (i >= ac.naddr)
			break;
		ttl = sc->addrs[i & (AMLG_DNS_ADDRS - 1)].ttl;
		if (ttl < pc->dns_ttl_floor_s)
			ttl = pc->dns_ttl_floor_s;
		expires = now + (ttl + pc->dns_grace_s) * 1000000000ull;
		learn_addr(sc, i, name_hash, expires, now);
	}
	return DNS_OK;
bad:
	st->dns_malformed++;
	return DNS_BAD;
}

/*
 * The name a remote address of pkt was learned for (the latest to expire, live or not), or 0.
 * Global: it keeps its key off amlg_judge()'s stack.
 */
__noinline __u64 learned_name_of(const struct amlg_pkt *pkt, __u32 dir)
{
	struct amlg_learn_key k = {};
	struct amlg_learned *v;
	__u64 name = 0, latest = 0;

	if (!pkt)
		return 0;
	k.family = pkt->family;
	__builtin_memcpy(k.addr, dir == AMLG_DIR_OUT ? pkt->daddr : pkt->saddr, 16);
	v = bpf_map_lookup_elem(&amlg_learned, &k);
	if (!v)
		return 0;
	for (int i = 0; i < AMLG_LEARN_SLOTS; i++) {
		if (v->s[i].pattern.hash && v->s[i].expires_ns >= latest) {
			latest = v->s[i].expires_ns;
			name = v->s[i].name_hash;
		}
	}
	return name;
}

#endif
