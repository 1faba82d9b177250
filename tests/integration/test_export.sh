#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# "export": NSG and Azure Firewall documents checked against Microsoft's models
# (azure-mgmt-network from python3-azure), nftables exports checked by nft itself, partial
# exports and Azure's limits, and the nftables export against amlguard packet by packet.
. "$(dirname "$0")/lib.sh"

GENCAP=${GENCAP:-$(dirname "$AMLGUARD")/tests/tools/amlg-gencap}
SRC=$(cd "$TESTDIR/../.." && pwd)
MODELS="/usr/bin/python3 $TESTDIR/tools/azure_models.py"
SHARED=${AMLG_SHARED_DIR:-$SRC/../shared}

tags() {
	python3 "$SRC/scripts/mktags-demo" "$WORK" EastUS2
}

# A policy of every shape an export has to carry: protocols, port lists and ranges, local
# sides, IPv6, tags, CIDR sets, a rule without flow ID, and host rules.
write_policy() {
	cat >"$WORK/p.policy" <<'P'
set docs = { 203.0.113.0/28, 198.51.100.128/25 }
allow in tcp port 44224 from tag:AzureMachineLearning flow T-IN-AML
allow in tcp port 29876-29877 from tag:BatchNodeManagement.EastUS2 flow T-IN-BATCH
allow out tcp port 443 to { tag:Storage.EastUS2, @docs } flow T-OUT-STORAGE comment "tag and CIDRs together"
allow out tcp port { 443, 8787, 18881 } to 2001:db8:1::/48 from 2001:db8:ffff::/48 flow T-OUT-V6LOCAL
allow out udp port 53 to 198.51.100.53 flow T-DNS
allow out any port 5000-5010 to 203.0.113.9 flow T-ANYPORTS
allow out icmp to 198.51.100.0/24 flow T-PING
allow out icmpv6 to 2001:db8:1::/48 flow T-PING6
allow in any from 198.51.100.200
allow out tcp port 443 to { host:*.blob.core.windows.net, host:pypi.org } flow T-HOSTS
P
}

test_models() {
	write_policy
	local t rc
	t=$(tags)
	for pol in "$WORK/p.policy" "$SRC/policies/compute-instance.policy --var region=EastUS2"; do
		for fmt in nsg nsg-arm azfw; do
			rc=0
			# shellcheck disable=SC2086
			"$AMLGUARD" -q export -p $pol --tags "$t" \
				--format $fmt --deny-rest -o "$WORK/out.$fmt.json" 2>/dev/null || rc=$?
			[ $rc -le 1 ] || die "export $fmt of $pol: exit $rc"
			$MODELS $fmt "$WORK/out.$fmt.json" || die "$fmt of $pol: not Microsoft's model"
		done
	done
	# Microsoft's real tag file, when the shared data is there, adds a case.
	local real=$SHARED/data/servicetags/ServiceTags_Public_20251020.json
	if [ -r "$real" ]; then
		for fmt in nsg nsg-arm azfw; do
			rc=0
			"$AMLGUARD" -q export -p "$SRC/policies/compute-instance.policy" --tags "$real" \
				--var region=EastUS2 --var site=site/example.policy --format $fmt \
				--deny-rest -o "$WORK/real.$fmt.json" 2>/dev/null || rc=$?
			# host rules: partial as an NSG, whole as application rules
			[ $rc -eq "$([ $fmt = azfw ] && echo 0 || echo 1)" ] ||
				die "export $fmt with $real: exit $rc"
			$MODELS $fmt "$WORK/real.$fmt.json" || die "$fmt with $real: not Microsoft's model"
		done
	fi
	# The checker itself rejects what Azure would: a misspelled key, a bad enumeration.
	python3 - "$WORK/out.nsg.json" "$WORK/bad.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["properties"]["securityRules"][0]["properties"]["protocol"] = "TCP-ish"
d["properties"]["securityRules"][1]["properties"]["destinationPortRnage"] = "1"
json.dump(d, open(sys.argv[2], "w"))
PY
	! $MODELS nsg "$WORK/bad.json" >"$WORK/bad.out" || die "a broken NSG passed the models"
	if ! grep -q "TCP-ish" "$WORK/bad.out" || ! grep -q "destinationPortRnage: lost" "$WORK/bad.out"; then
		die "the model check did not name the broken fields"
	fi
}

test_nsg_content() {
	write_policy
	local t
	t=$(tags)
	"$AMLGUARD" export -p "$WORK/p.policy" --tags "$t" --format nsg --deny-rest \
		-o "$WORK/n.json" 2>"$WORK/err" && die "a policy with host rules exported fully"
	grep -q 'T-HOSTS (.*p.policy:11): host:\*.blob.core.windows.net not exported' "$WORK/err" ||
		die "host rule not listed: $(cat "$WORK/err")"
	grep -q "partial: 2 items" "$WORK/err" || die "no partial summary"
	python3 - "$WORK/n.json" <<'PY'
import json, sys
rules = {r["name"]: r["properties"] for r in json.load(open(sys.argv[1]))["properties"]["securityRules"]}
aml = rules["T-IN-AML"]
assert aml["direction"] == "Inbound" and aml["sourceAddressPrefix"] == "AzureMachineLearning", aml
assert aml["destinationPortRange"] == "44224" and aml["priority"] == 100, aml
assert rules["T-IN-BATCH"]["sourceAddressPrefix"] == "BatchNodeManagement.EastUS2"
assert rules["T-IN-BATCH"]["destinationPortRange"] == "29876-29877"
# a tag and a prefix list are two rules; the flow ID names both
st, st2 = rules["T-OUT-STORAGE"], rules["T-OUT-STORAGE-2"]
assert st["destinationAddressPrefix"] == "Storage.EastUS2", st
assert st2["destinationAddressPrefixes"] == ["198.51.100.128/25", "203.0.113.0/28"], st2
assert "tag and CIDRs together" in st["description"] and "T-OUT-STORAGE" in st["description"]
v6 = rules["T-OUT-V6LOCAL"]
assert v6["destinationPortRanges"] == ["443", "8787", "18881"], v6
assert v6["sourceAddressPrefix"] == "2001:db8:ffff::/48", v6
assert v6["destinationAddressPrefix"] == "2001:db8:1::/48", v6
# any protocol with ports: Tcp and Udp, never "*" (which would take ICMP too)
assert {rules["T-ANYPORTS"]["protocol"], rules["T-ANYPORTS-2"]["protocol"]} == {"Tcp", "Udp"}
assert rules["T-PING"]["protocol"] == "Icmp" and rules["T-PING"]["destinationPortRange"] == "*"
assert rules["line-10"]["protocol"] == "*" and rules["line-10"]["sourceAddressPrefix"] == "198.51.100.200/32"
out = sorted(r["priority"] for r in rules.values() if r["direction"] == "Outbound")
assert out == [100, 110, 120, 130, 140, 150, 160, 170, 4096], out
deny = rules["amlguard-deny-rest-out"]
assert deny["access"] == "Deny" and deny["priority"] == 4096
PY
	# The step follows --priority-step.
	"$AMLGUARD" -q export -p "$WORK/p.policy" --tags "$t" --format nsg --priority-step 1 \
		-o "$WORK/n1.json" 2>/dev/null || true
	python3 -c "
import json,sys
p=sorted(r['properties']['priority'] for r in json.load(open('$WORK/n1.json'))['properties']['securityRules'] if r['properties']['direction']=='Inbound')
assert p==[100,101,102], p"
	# Without host rules the export is whole: exit 0.
	grep -v T-HOSTS "$WORK/p.policy" >"$WORK/q.policy"
	"$AMLGUARD" -q export -p "$WORK/q.policy" --tags "$t" --format nsg -o "$WORK/q.json" ||
		die "a policy without host rules is not exported whole"
}

test_limits() {
	local t i
	t=$(tags)
	# 1001 rules: more than an NSG holds.
	for i in $(seq 1 1001); do
		echo "allow out tcp port $i to 203.0.113.9 flow T-R$i"
	done >"$WORK/many.policy"
	! "$AMLGUARD" export -p "$WORK/many.policy" --format nsg -o "$WORK/m.json" 2>"$WORK/err" ||
		die "1001 rules exported"
	grep -q "1001 security rules; an NSG holds at most 1000" "$WORK/err" || die "$(cat "$WORK/err")"
	[ ! -e "$WORK/m.json" ] || die "a failed export left a file"
	# 4001 destination prefixes.
	python3 -c "
print('set big = {')
for i in range(4001):
    print('  10.%d.%d.0/24,' % (i // 128, 2 * (i % 128)))
print('}')
print('allow out tcp port 443 to @big flow T-BIG')" >"$WORK/big.policy"
	! "$AMLGUARD" export -p "$WORK/big.policy" --format nsg 2>"$WORK/err" >/dev/null ||
		die "4001 prefixes exported"
	grep -q "4001 destination addresses and ranges; an NSG takes at most 4000" "$WORK/err" ||
		die "$(cat "$WORK/err")"
	# The firewall: unique source-destination combinations.
	python3 -c "
print('set src = {')
for i in range(200):
    print('  10.0.%d.0/24,' % (2 * i % 256) if i < 128 else '  10.2.%d.0/24,' % (2 * (i - 128)))
print('}')
print('set dst = {')
for i in range(101):
    print('  10.1.%d.0/24,' % (2 * i))
print('}')
print('allow out tcp port 443 to @dst from @src flow T-COMBOS')" >"$WORK/fw.policy"
	! "$AMLGUARD" export -p "$WORK/fw.policy" --format azfw 2>"$WORK/err" >/dev/null ||
		die "20200 combinations exported"
	grep -q "20200 unique source-destination combinations" "$WORK/err" || die "$(cat "$WORK/err")"
}

test_nft_syntax() {
	write_policy
	local t rc
	t=$(tags)
	for pol in "$WORK/p.policy" "$SRC/policies/compute-instance.policy --var region=EastUS2"; do
		for m in "--mode audit" "--mode enforce" "--mode enforce --log"; do
			rc=0
			# shellcheck disable=SC2086
			"$AMLGUARD" -q export -p $pol --tags "$t" $m \
				--format nft -o "$WORK/r.nft" 2>/dev/null || rc=$?
			[ $rc -eq 1 ] || die "nft export of $pol ($m): exit $rc, want 1 (host rules)"
			nft -c -f "$WORK/r.nft" || die "nft refuses the export of $pol ($m)"
		done
	done
	if ! grep -q 'policy drop;' "$WORK/r.nft" ||
		! grep -q 'ct state established,related accept' "$WORK/r.nft"; then
		die "no drop policy or conntrack"
	fi
	grep -q 'counter log prefix "amlguard-drop: " drop' "$WORK/r.nft" || die "--log: no log rule"
}

# The nftables export and amlguard judge the same packets the same way.
test_nft_differential() {
	local t
	setup_direct
	in_ns "$NS_HOST" ip -6 route add 2001:db8::/32 via 2001:db8:ffff::1
	t=$(tags)
	write_policy
	python3 "$TESTDIR/tools/nft_diff.py" --amlguard "$AMLGUARD" --gencap "$GENCAP" \
		--work "$WORK" --ns-host "$NS_HOST" --ns-remote "$NS_REMOTE" -- \
		-p "$WORK/p.policy" --tags "$t" || die "own policy: nftables and amlguard differ"
	in_ns "$NS_HOST" nft delete table inet amlguard
	python3 "$TESTDIR/tools/nft_diff.py" --amlguard "$AMLGUARD" --gencap "$GENCAP" \
		--work "$WORK" --ns-host "$NS_HOST" --ns-remote "$NS_REMOTE" -- \
		-p "$SRC/policies/compute-instance.policy" --tags "$t" --var region=EastUS2 ||
		die "compute-instance: nftables and amlguard differ"
}

run_tests "$@"
