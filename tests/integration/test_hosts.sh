#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Host rules live: dnsmasq serves the names (a CNAME chain, 1-second TTLs) on a documentation
# address; the host resolves and connects at once (never flagged), connects after expiry
# (flagged, "learned as"), and sends another server name to an allowed address (flagged).
. "$(dirname "$0")/lib.sh"

RC=$TESTDIR/tools/resolve_connect.py

policy() {
	cat >"$WORK/h.policy" <<'EOF'
mode enforce
platform off
resolver 198.51.100.53
dns ttl-floor 0
dns grace 1
allow out udp port 53 to 198.51.100.0/24 flow DNS
allow out tcp port 443 to host:*.blob.core.windows.net flow BLOB
allow out tcp port 443 to host:pypi.org flow PYPI
EOF
}

# Azure's kind of names: the asked name, two CNAMEs, then the address.  TTL 1 s.
dns_servers() {
	local a
	for a in 198.51.100.8 198.51.100.9 198.51.100.54; do
		in_ns "$NS_REMOTE" ip addr add $a/32 dev lo
	done
	bg in_ns "$NS_REMOTE" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
		--bind-interfaces --listen-address=198.51.100.53 --user=root --pid-file= \
		--local-ttl=1 --log-facility="$WORK/dnsmasq.log" \
		--cname=acct.blob.core.windows.net,acct.privatelink.blob.core.windows.net \
		--cname=acct.privatelink.blob.core.windows.net,blob.ams20.store.trafficmanager.net \
		--host-record=blob.ams20.store.trafficmanager.net,198.51.100.8 \
		--host-record=pypi.org,198.51.100.9
	# an untrusted server that would send pypi.org elsewhere
	bg in_ns "$NS_REMOTE" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
		--bind-interfaces --listen-address=198.51.100.54 --user=root --pid-file= \
		--local-ttl=1 --log-facility="$WORK/dnsmasq2.log" --host-record=pypi.org,198.51.100.7
	# one certificate for all the tests of this file ($WORK outlives each test)
	[ -s "$WORK/c.pem" ] ||
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$WORK/k.pem" -out "$WORK/c.pem" -days 1 -subj /CN=test >/dev/null 2>&1
	bg in_ns "$NS_REMOTE" openssl s_server -accept 0.0.0.0:443 -www -quiet -cert "$WORK/c.pem" \
		-key "$WORK/k.pem"
	wait_listen "$NS_REMOTE" 53
	wait_listen "$NS_REMOTE" 443
}

setup() {
	setup_direct
	policy
	dns_servers
	amlg attach -i "$IF_HOST" -p "$WORK/h.policy"
	attached "$NS_HOST" "$IF_HOST"
}

rc() {
	in_ns "$NS_HOST" python3 "$RC" "$@"
}

violations() {
	amlg -j status -i "$IF_HOST" | python3 -c '
import json, sys
c = json.load(sys.stdin)[0]["counters"]
print(c["out"]["violation_packets"] + c["in"]["violation_packets"])'
}

test_resolve_then_connect_at_once() {
	setup
	local i
	for i in $(seq 20); do
		rc 198.51.100.53 acct.blob.core.windows.net 443 >"$WORK/out" ||
			{ cat "$WORK/out"; die "round $i: resolve-then-connect failed"; }
		rc 198.51.100.53 pypi.org 443 >/dev/null || die "round $i: pypi.org failed"
		sleep 0.1
	done
	[ "$(violations)" -eq 0 ] || die "$(violations) violations for connections made right after the answer"
	amlg status -i "$IF_HOST" | grep -q "addresses learned" || die "status shows no DNS counters"
}

test_expired_name_is_flagged() {
	setup
	rc 198.51.100.53 acct.blob.core.windows.net 443 >/dev/null || die "the first connection failed"
	sleep 3.5 # TTL 1 s + grace 1 s, and a margin
	if rc 198.51.100.53 acct.blob.core.windows.net 443 --ip 198.51.100.8 >/dev/null; then
		die "connected after the name expired"
	fi
	drain_log "$WORK/log"
	cat "$WORK/log"
	[ "$(count_events "$WORK/log" "e['dst']=='198.51.100.8' and e['dport']==443 and e.get('learned_as')=='acct.blob.core.windows.net' and e['action']=='drop'")" -ge 1 ] ||
		die "no violation saying the address was learned as acct.blob.core.windows.net"
	# resolving again opens it again
	rc 198.51.100.53 acct.blob.core.windows.net 443 >/dev/null || die "after a new lookup"
}

test_other_server_name_is_flagged() {
	setup
	rc 198.51.100.53 acct.blob.core.windows.net 443 --sni acct.blob.core.windows.net >/dev/null ||
		die "the right name failed"
	if rc 198.51.100.53 acct.blob.core.windows.net 443 --sni evil.example.com >/dev/null; then
		die "a TLS client naming another server got through"
	fi
	drain_log "$WORK/log"
	[ "$(count_events "$WORK/log" "e['reason']=='sni-mismatch' and e['dst']=='198.51.100.8'")" -ge 1 ] ||
		die "no sni-mismatch violation"
}

test_untrusted_resolver_teaches_nothing() {
	setup
	if rc 198.51.100.54 pypi.org 443 >/dev/null; then
		die "an answer from an untrusted server opened an address"
	fi
	amlg -j status -i "$IF_HOST" | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]["counters"]["dns"]
assert d["untrusted"] >= 1, d'
}

test_fqdn_listing() {
	setup
	rc 198.51.100.53 acct.blob.core.windows.net 443 >/dev/null || die "connect failed"
	rc 198.51.100.53 pypi.org 443 >/dev/null || die "connect failed"
	amlg fqdn -i "$IF_HOST"
	amlg -j fqdn -i "$IF_HOST" | python3 -c '
import json, sys
v = {(e["name"], e["address"]): e for e in json.load(sys.stdin)}
e = v[("acct.blob.core.windows.net", "198.51.100.8")]
assert e["pattern"] == "*.blob.core.windows.net" and e["rules"][0]["flow"] == "BLOB", e
assert -1 <= e["ttl_left"] <= 2, e
p = v[("pypi.org", "198.51.100.9")]
assert p["pattern"] == "pypi.org" and p["rules"][0]["flow"] == "PYPI", p'
}

run_tests "$@"
