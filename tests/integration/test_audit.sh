#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# "audit": generated NSGs and firewall policies against a policy: the default rules only, an
# exact export, a broken NSG (Storage blocked, 29877 missing, RDP open from the Internet),
# priority shadowing, a subnet and a NIC NSG together, firewall policies, and bad input.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$TESTDIR/../.." && pwd)
VNET=192.0.2.0/24,2001:db8:ffff::/48

setup() {
	T=$(python3 "$SRC/scripts/mktags-demo" "$WORK" EastUS2)
	cat >"$WORK/p.policy" <<'P'
allow in tcp port 44224 from tag:AzureMachineLearning flow T-IN-AML
allow in tcp port 29876-29877 from tag:BatchNodeManagement.EastUS2 flow T-IN-BATCH
allow out tcp port 443 to tag:Storage.EastUS2 flow T-OUT-STORAGE
allow out tcp port 443 to tag:AzureActiveDirectory flow T-OUT-AAD
allow out udp port 53 to 192.0.2.53 flow T-DNS
P
	"$AMLGUARD" -q export -p "$WORK/p.policy" --tags "$T" --format nsg --deny-rest \
		--name subnet-nsg -o "$WORK/exact.json" || die "export failed"
}

# audit OUT.json EXPECTED-STATUS ARGS...
audit() {
	local out=$1 want=$2 rc=0
	shift 2
	"$AMLGUARD" -j audit -p "$WORK/p.policy" --tags "$T" --vnet $VNET "$@" >"$WORK/$out" \
		2>"$WORK/$out.err" || rc=$?
	[ $rc -eq "$want" ] || die "audit $*: exit $rc, want $want: $(cat "$WORK/$out.err")"
}

# Edit a copy of the exact NSG with a python statement on "rules" (the securityRules list).
nsg_edit() {
	python3 - "$WORK/exact.json" "$WORK/$1" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rules = doc["properties"]["securityRules"]
def rule(name, prio, direction, access, proto, src, dst, port):
    return {"name": name, "properties": {"priority": prio, "direction": direction,
            "access": access, "protocol": proto, "sourceAddressPrefix": src,
            "destinationAddressPrefix": dst, "sourcePortRange": "*",
            "destinationPortRange": port}}
def props(name):
    return next(r["properties"] for r in rules if r["name"] == name)
exec(sys.argv[3])
json.dump(doc, open(sys.argv[2], "w"), indent=1)
PY
}

check_json() {
	python3 - "$WORK/$1" "$2" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
flows = {f["flow"]: f for f in rep["flows"]}
rules = {(r["set"], r["rule"]): r for r in rep["rules"]}
exec(sys.argv[2])
PY
}

test_exact() {
	setup
	audit exact.out 0 --nsg "$WORK/exact.json"
	check_json exact.out '
assert rep["summary"]["exact"] is True, rep["summary"]
for f in flows.values():
    assert f["verdict"] == "allowed" and f["probes"] > 0, f
# the default rules sit below the deny-all rules: never reached
assert rules[("subnet-nsg", "AllowInternetOutBound")]["verdict"] == "shadowed"
assert rules[("subnet-nsg", "T-OUT-STORAGE")]["covered_by"] == ["T-OUT-STORAGE"]'
	# the table says the same
	"$AMLGUARD" audit -p "$WORK/p.policy" --tags "$T" --vnet $VNET --nsg "$WORK/exact.json" |
		grep -q "the rules allow exactly the policy" || die "table: not exact"
}

test_defaults_only() {
	setup
	echo '{"name": "empty", "properties": {"securityRules": []}}' >"$WORK/empty.json"
	audit def.out 1 --nsg "$WORK/empty.json"
	check_json def.out '
for name in ("T-IN-AML", "T-IN-BATCH"):
    f = flows[name]
    assert f["verdict"] == "blocked" and f["blocked"] == f["probes"], f
    assert f["blocked_by"] == [{"set": "empty", "rule": "DenyAllInBound", "priority": 65500,
                                "access": "Deny"}], f
for name in ("T-OUT-STORAGE", "T-OUT-AAD", "T-DNS"):
    assert flows[name]["verdict"] == "allowed", flows[name]
inet = rules[("empty", "AllowInternetOutBound")]
assert inet["verdict"] == "allows more" and inet["excess"] > 0, inet
# the documented flows inside it (and the platform rules: IMDS, DHCP)
assert {"T-OUT-STORAGE", "T-OUT-AAD"} <= set(inet["covered_by"]), inet
assert "T-DNS" not in inet["covered_by"] and "T-IN-AML" not in inet["covered_by"], inet
assert rules[("empty", "AllowVnetInBound")]["verdict"] == "allows more"
assert "T-DNS" in rules[("empty", "AllowVnetOutBound")]["covered_by"]
assert rep["summary"]["flows_blocked"] == 2 and rep["summary"]["exact"] is False'
}

# Storage blocked by a deny rule, 29877 missing, RDP open from the Internet.
test_broken_nsg() {
	setup
	nsg_edit broken.json '
rules.append(rule("DenyStorage", 105, "Outbound", "Deny", "Tcp", "*", "Storage.EastUS2", "443"))
props("T-OUT-STORAGE")["priority"] = 200
props("T-IN-BATCH")["destinationPortRange"] = "29876"
rules.append(rule("AllowRDP", 300, "Inbound", "Allow", "Tcp", "Internet", "*", "3389"))'
	audit broken.out 1 --nsg "$WORK/broken.json"
	check_json broken.out '
st = flows["T-OUT-STORAGE"]
assert st["verdict"] == "blocked" and st["blocked_by"][0]["rule"] == "DenyStorage", st
assert st["blocked_by"][0]["priority"] == 105
b = flows["T-IN-BATCH"]
assert b["verdict"] == "blocked" and 0 < b["blocked"] < b["probes"], b
assert b["blocked_by"][0]["rule"] == "amlguard-deny-rest-in", b
assert b["example"].endswith(":29877"), b
assert flows["T-IN-AML"]["verdict"] == "allowed"
assert rules[("subnet-nsg", "T-OUT-STORAGE")]["verdict"] == "shadowed"
rdp = rules[("subnet-nsg", "AllowRDP")]
assert rdp["verdict"] == "allows more" and rdp["excess"] == rdp["probes"], rdp
assert rdp["example"].startswith("in tcp ") and rdp["example"].endswith(":3389"), rdp
assert rdp["covered_by"] == [], rdp
assert rep["summary"]["flows_blocked"] == 2 and rep["summary"]["rules_allowing_more"] == 1'
	"$AMLGUARD" audit -p "$WORK/p.policy" --tags "$T" --vnet $VNET --nsg "$WORK/broken.json" \
		>"$WORK/broken.txt" && die "table: exit 0"
	grep -q "T-OUT-STORAGE .*blocked .*subnet-nsg/DenyStorage (Deny, priority 105)" \
		"$WORK/broken.txt" || die "table: $(cat "$WORK/broken.txt")"
	grep -q "subnet-nsg/AllowRDP (priority 300, in): allows more" "$WORK/broken.txt" ||
		die "table: no RDP finding"
}

test_priority_shadowing() {
	setup
	nsg_edit shadow.json '
rules.append(rule("DenyOutEarly", 105, "Outbound", "Deny", "*", "*", "*", "*"))'
	audit shadow.out 1 --nsg "$WORK/shadow.json"
	check_json shadow.out '
assert flows["T-OUT-STORAGE"]["verdict"] == "allowed"  # priority 100, before the deny
for name in ("T-OUT-AAD", "T-DNS"):
    f = flows[name]
    assert f["verdict"] == "blocked" and f["blocked_by"][0]["rule"] == "DenyOutEarly", f
    assert rules[("subnet-nsg", name)]["verdict"] == "shadowed", rules[("subnet-nsg", name)]
assert rules[("subnet-nsg", "T-OUT-STORAGE")]["verdict"] == "within the policy"'
}

# Inbound meets the subnet's NSG, then the NIC's; a NIC NSG with the defaults blocks it.
test_subnet_and_nic() {
	setup
	echo '{"name": "nic-nsg", "properties": {"securityRules": []}}' >"$WORK/nic.json"
	audit two.out 1 --nsg "$WORK/exact.json" --nsg "$WORK/nic.json"
	check_json two.out '
f = flows["T-IN-AML"]
assert f["verdict"] == "blocked" and f["blocked_by"][0]["set"] == "nic-nsg", f
assert flows["T-OUT-STORAGE"]["verdict"] == "allowed"
# the NIC allows the Internet, the subnet does not: nothing more gets out
assert rules[("nic-nsg", "AllowInternetOutBound")]["verdict"] == "within the policy", \
    rules[("nic-nsg", "AllowInternetOutBound")]'
}

test_firewall() {
	setup
	echo 'allow out tcp port 443 to host:*.blob.core.windows.net flow T-HOSTS' >>"$WORK/p.policy"
	"$AMLGUARD" -q export -p "$WORK/p.policy" --tags "$T" --format azfw -o "$WORK/fw.json" ||
		die "azfw export"
	audit fw.out 0 --azfw "$WORK/fw.json"
	check_json fw.out '
assert flows["T-OUT-STORAGE"]["verdict"] == "allowed"
assert flows["T-HOSTS"]["verdict"] == "allowed", flows["T-HOSTS"]
assert flows["T-IN-AML"]["verdict"] == "not judged"'
	# No storage rule, and an application rule for every name.
	python3 - "$WORK/fw.json" "$WORK/fw-broken.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
net, app = doc["properties"]["ruleCollections"]
net["rules"] = [r for r in net["rules"] if r["name"] != "T-OUT-STORAGE"]
app["rules"].append({"ruleType": "ApplicationRule", "name": "AllowAll",
                     "protocols": [{"protocolType": "Https", "port": 443}],
                     "sourceAddresses": ["*"], "targetFqdns": ["*"]})
json.dump(doc, open(sys.argv[2], "w"))
PY
	audit fwb.out 1 --azfw "$WORK/fw-broken.json"
	check_json fwb.out '
f = flows["T-OUT-STORAGE"]
assert f["verdict"] == "blocked", f
assert f["blocked_by"][0]["rule"].startswith("(no rule: the firewall denies"), f
allow_all = [r for r in rep["rules"] if r["rule"] == "AllowAll"][0]
assert allow_all["verdict"] == "allows more" and allow_all["beyond"] == ["*"], allow_all'
	# Network rules come before application rules: a deny of 443 to everything blocks the
	# host rule too.
	python3 - "$WORK/fw.json" "$WORK/fw-deny.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["properties"]["ruleCollections"].append({
    "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "deny-web",
    "priority": 50, "action": {"type": "Deny"},
    "rules": [{"ruleType": "NetworkRule", "name": "DenyWeb", "ipProtocols": ["TCP"],
               "sourceAddresses": ["*"], "destinationAddresses": ["*"],
               "destinationPorts": ["443"]}]})
json.dump(doc, open(sys.argv[2], "w"))
PY
	audit fwd.out 1 --azfw "$WORK/fw-deny.json"
	check_json fwd.out '
for name in ("T-HOSTS", "T-OUT-STORAGE", "T-OUT-AAD"):
    f = flows[name]
    assert f["verdict"] == "blocked" and f["blocked_by"][0]["rule"] == "DenyWeb", f
    assert f["blocked_by"][0]["collection"] == "amlguard/deny-web", f
assert flows["T-DNS"]["verdict"] == "allowed"'
}

# audit_err EXPECTED-STATUS ARGS...: the text errors in $WORK/err
audit_err() {
	local want=$1 rc=0
	shift
	"$AMLGUARD" audit -p "$WORK/p.policy" --tags "$T" "$@" >/dev/null 2>"$WORK/err" || rc=$?
	[ $rc -eq "$want" ] || die "audit $*: exit $rc, want $want: $(cat "$WORK/err")"
}

test_bad_input() {
	setup
	echo '{"name": "x", "properties": {"securityRules": [' >"$WORK/trunc.json"
	audit_err 2 --vnet $VNET --nsg "$WORK/trunc.json"
	grep -q "trunc.json:2:0: invalid JSON" "$WORK/err" || die "$(cat "$WORK/err")"
	nsg_edit badtag.json '
rules.append(rule("X", 300, "Outbound", "Allow", "Tcp", "*", "Storgae.EastUS2", "443"))'
	audit_err 2 --vnet $VNET --nsg "$WORK/badtag.json"
	grep -q "rule 'X': 'Storgae.EastUS2' is no address, prefix or service tag" "$WORK/err" ||
		die "$(cat "$WORK/err")"
	nsg_edit dup.json '
rules.append(rule("Y", 100, "Outbound", "Allow", "Tcp", "*", "*", "443"))'
	audit_err 2 --vnet $VNET --nsg "$WORK/dup.json"
	grep -q "have the same priority 100" "$WORK/err" || die "$(cat "$WORK/err")"
	# no VNet: VirtualNetwork and Internet are unknown
	audit_err 2 --nsg "$WORK/exact.json"
	grep -q "the VNet's address space is unknown" "$WORK/err" || die "$(cat "$WORK/err")"
}

run_tests "$@"
