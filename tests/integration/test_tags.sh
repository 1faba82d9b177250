#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Service tags end to end: a policy with tag: endpoints attached with a tag file in Microsoft's
# format, the file's identity in status and in every log line, a reload with the next week's
# file, and reloads with a broken file or a region it lacks, which change nothing.
. "$(dirname "$0")/lib.sh"

# A tag file in the download's format; $1 = changeNumber, $2 = extra prefix of Storage.EastUS2.
tag_file() {
	local change=$1 extra=${2:-} path=$WORK/ServiceTags_Public_2025010$1.json
	python3 - "$path" "$change" $extra <<'PY'
import json, sys
path, change, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def value(name, region, prefixes):
    return {"name": name, "id": name, "properties": {
        "changeNumber": change, "region": region, "regionId": 33 if region else 0,
        "platform": "Azure", "systemService": "AzureStorage", "addressPrefixes": prefixes,
        "networkFeatures": None}}
doc = {"changeNumber": change, "cloud": "Public", "values": [
    value("Storage", "", ["198.51.100.0/25", "2001:db8:1::/48"] + extra),
    value("Storage.EastUS2", "eastus2", ["198.51.100.0/25"] + extra)]}
json.dump(doc, open(path, "w"), indent=2)
PY
	echo "$path"
}

servers() {
	tcp_echo_server "$NS_REMOTE" 198.51.100.7 443
	tcp_echo_server "$NS_REMOTE" 2001:db8:1::5 443
	tcp_echo_server "$NS_REMOTE" 203.0.113.9 443
	wait_listen "$NS_REMOTE" 443
}

tags_of() {
	amlg -j status -i "$IF_HOST" | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]
t = s["policy"]["tags"]
print(t["cloud"], t["change"], t["date"], s["policy"]["generation"])'
}

test_tags_attach_status_log_reload() {
	local t7 t8 bad rc
	setup_direct
	servers
	t7=$(tag_file 7)
	t8=$(tag_file 8 203.0.113.0/24)
	cat >"$WORK/p.policy" <<-'P'
		define region = EastUS2
		allow out tcp port 443 to tag:storage.$region flow T-STORAGE
		allow out tcp port 443 to tag:Storage flow T-STORAGE-ANY
	P
	amlg attach -i "$IF_HOST" -p "$WORK/p.policy" --tags "$t7" --mode enforce
	attached "$NS_HOST" "$IF_HOST"
	tcp_roundtrip "$NS_HOST" 198.51.100.7 443 || die "regional tag not allowed"
	tcp_roundtrip "$NS_HOST" 2001:db8:1::5 443 || die "IPv6 prefix of the tag not allowed"
	if tcp_roundtrip "$NS_HOST" 203.0.113.9 443; then die "address outside the tag passed"; fi
	[ "$(tags_of)" = "Public 7 20250107 1" ] || die "status tags: $(tags_of)"
	amlg status -i "$IF_HOST" | grep -q "ServiceTags_Public_20250107.json (cloud Public, changeNumber 7, date 20250107)" ||
		die "plain status lacks the tag file"
	drain_log "$WORK/log"
	[ "$(count_events "$WORK/log" "e['dst']=='203.0.113.9' and e['tags']=={'cloud': 'Public', 'change': 7, 'date': '20250107'}")" -ge 1 ] ||
		die "log lines lack the tag file's identity"

	# Next week's file widens the tag: an atomic reload like any other.
	amlg reload -i "$IF_HOST" -p "$WORK/p.policy" --tags "$t8"
	[ "$(tags_of)" = "Public 8 20250108 2" ] || die "after reload: $(tags_of)"
	tcp_roundtrip "$NS_HOST" 203.0.113.9 443 || die "the new prefix is not allowed"

	# A truncated file: a clear error naming it, exit 2, the running policy untouched.
	bad=$WORK/ServiceTags_Public_20250109.json
	head -c 300 "$t8" >"$bad"
	rc=0
	amlg reload -i "$IF_HOST" -p "$WORK/p.policy" --tags "$bad" 2>"$WORK/err" || rc=$?
	cat "$WORK/err"
	[ $rc -eq 2 ] || die "broken tag file: exit $rc"
	grep -q "ServiceTags_Public_20250109.json:[0-9]*:[0-9]*: error: service-tag file: invalid JSON" "$WORK/err" ||
		die "the error does not name the file and position"
	[ "$(tags_of)" = "Public 8 20250108 2" ] || die "a broken file changed the state: $(tags_of)"
	tcp_roundtrip "$NS_HOST" 203.0.113.9 443 || die "traffic broke after a refused reload"

	# A region the file lacks: an error at the tag, with the nearest name, nothing changes.
	rc=0
	amlg reload -i "$IF_HOST" -p "$WORK/p.policy" --tags "$t8" --var region=EastUS3 \
		2>"$WORK/err" || rc=$?
	cat "$WORK/err"
	[ $rc -eq 2 ] || die "unknown region: exit $rc"
	grep -q "p.policy:2:27: error: no service tag in .* has the region 'EastUS3'" "$WORK/err" ||
		die "no located error for the region"
	grep -q "did you mean the region 'EastUS2'" "$WORK/err" || die "no hint for the region"
	[ "$(tags_of)" = "Public 8 20250108 2" ] || die "an unknown region changed the state"
}

test_tags_commands() {
	local t7 t8 rc
	t7=$(tag_file 7)
	t8=$(tag_file 8 203.0.113.0/24)
	"$AMLGUARD" tags list --tags "$t7" | grep -q "^Storage.EastUS2 .* 1 *0 *eastus2" ||
		die "tags list"
	"$AMLGUARD" -j tags show keyvault --tags "$t7" >"$WORK/out" 2>&1 && die "unknown tag shown"
	"$AMLGUARD" tags show storage.eastus2 --tags "$t7" | grep -q "^  198.51.100.0/25$" ||
		die "tags show"
	rc=0
	"$AMLGUARD" -j tags diff "$t7" "$t8" >"$WORK/diff.json" || rc=$?
	[ $rc -eq 1 ] || die "diff with changes: exit $rc"
	python3 - "$WORK/diff.json" <<-'PY'
		import json, sys
		d = json.load(open(sys.argv[1]))
		assert d["changed"] == 2, d
		assert all(t["added"] == ["203.0.113.0/24"] and t["removed"] == [] for t in d["tags"]), d
	PY
	"$AMLGUARD" tags diff "$t7" "$t7" >/dev/null || die "diff of a file with itself"
}

run_tests "$@"
