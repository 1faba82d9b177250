#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Checks of the shipped monitoring and deployment files, one per ctest test (label alerting):
#   rules         promtool check rules + the rules' unit tests (promtool test rules), and the
#                 fast copy of the end-to-end test still a valid rules file of the same alerts
#   alertmanager  amtool check-config, and the routes: critical to the on-call, the rest to
#                 tickets, grouped by host
#   scrape        promtool check config of the scrape example (its rule file from the tree)
#   cloud-init    cloud-init schema of the user-data (and a broken copy refused); its site file
#                 compiled against the shipped policy it configures
#   dashboard     the Grafana dashboard parses, and every metric it and the rules query is one
#                 amlguard exports (or Prometheus's own "up", "ALERTS")
# Usage: check.sh WHAT [AMLGUARD]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
dist=$top/user/dist
work=$(mktemp -d /tmp/amlguard-alerting.XXXXXX)
trap 'rm -rf "$work"' EXIT

need() {
	command -v "$1" >/dev/null || {
		echo "check.sh: $1 is missing (Debian package $2; scripts/deps installs it)" >&2
		exit 1
	}
}

case ${1:-} in
rules)
	need promtool prometheus
	promtool check rules "$dist/prometheus/amlguard.rules.yml"
	(cd "$here" && promtool test rules amlguard.rules.test.yml)
	bash "$here/fast-rules" "$dist/prometheus/amlguard.rules.yml" >"$work/fast.yml"
	promtool check rules "$work/fast.yml"
	# the same alerts, expressions and labels; only durations differ
	diff <(grep -c 'alert:' "$dist/prometheus/amlguard.rules.yml") <(grep -c 'alert:' "$work/fast.yml")
	[ "$(diff "$dist/prometheus/amlguard.rules.yml" "$work/fast.yml" | grep -c '^>')" -gt 0 ]
	! diff "$dist/prometheus/amlguard.rules.yml" "$work/fast.yml" | grep '^>' |
		grep -vE '^> +(for: 2s|expr: .*\[20s\].*)$'
	;;
alertmanager)
	need amtool prometheus-alertmanager
	amtool check-config "$dist/prometheus/alertmanager.yml"
	route() {
		amtool config routes test --config.file="$dist/prometheus/alertmanager.yml" "$@"
	}
	[ "$(route alertname=AmlguardUndeclaredEgress severity=critical host=10.0.0.4)" = amlguard-oncall ]
	[ "$(route alertname=AmlguardNotAttached severity=critical host=10.0.0.4)" = amlguard-oncall ]
	[ "$(route alertname=AmlguardUndeclaredEgressBlocked severity=warning host=10.0.0.4)" = amlguard-tickets ]
	[ "$(route alertname=AmlguardTagsStale severity=warning host=10.0.0.4)" = amlguard-tickets ]
	[ "$(route alertname=HostMaintenance host=10.0.0.4)" = null ]
	python3 - "$dist/prometheus/alertmanager.yml" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
assert c["route"]["group_by"] == ["host"], c["route"]
inhibit = {(tuple(r["source_matchers"]), tuple(r["target_matchers"])) for r in c["inhibit_rules"]}
assert (('alertname="HostMaintenance"',), ('alertname=~"Amlguard.*"',)) in inhibit, inhibit
assert all("host" in r["equal"] for r in c["inhibit_rules"])
PY
	;;
scrape)
	need promtool prometheus
	sed "s|/usr/share/amlguard/prometheus/|$dist/prometheus/|" \
		"$dist/prometheus/prometheus-scrape.yml" >"$work/prometheus.yml"
	promtool check config "$work/prometheus.yml"
	;;
cloud-init)
	need cloud-init cloud-init
	amlguard=${2:?the amlguard binary}
	cloud-init schema --config-file "$dist/cloud-init/amlguard-user-data.yml"
	# the check can fail: a list where a string belongs is refused
	sed 's|^  - \[systemctl, enable, --now, amlguard.service\]|  - 42|; s|^runcmd:|runcmd: 7\nx:|' \
		"$dist/cloud-init/amlguard-user-data.yml" >"$work/broken.yml"
	if cloud-init schema --config-file "$work/broken.yml" >/dev/null 2>&1; then
		echo "cloud-init schema accepts a broken user-data" >&2
		exit 1
	fi
	python3 - "$dist/cloud-init/amlguard-user-data.yml" "$work" <<'PY'
import os, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
paths = [f["path"] for f in doc["write_files"]]
assert paths == ["/etc/amlguard/amlguard.conf", "/etc/amlguard/site.policy"], paths
for f in doc["write_files"]:
    with open(os.path.join(sys.argv[2], os.path.basename(f["path"])), "w") as out:
        out.write(f["content"])
cmds = [" ".join(c) if isinstance(c, list) else c for c in doc["runcmd"]]
assert any("apt-get install" in c.replace(", ", " ") or ("apt-get" in c and "install" in c) for c in cmds), cmds
assert any(c.startswith("systemctl enable --now amlguard") for c in cmds), cmds
conf = open(os.path.join(sys.argv[2], "amlguard.conf")).read()
assert "var site = /etc/amlguard/site.policy" in conf and "policy = /usr/share/amlguard/policies/compute-instance.policy" in conf
PY
	tags=$(python3 "$top/scripts/mktags-demo" "$work" EastUS2)
	"$amlguard" compile -p "$top/policies/compute-instance.policy" --tags "$tags" \
		--var region=EastUS2 --var site="$work/site.policy" >/dev/null
	;;
dashboard)
	python3 "$here/metric_names.py" "$top/user/metrics/metrics_collect.c" \
		"$dist/grafana/amlguard-dashboard.json" "$dist/prometheus/amlguard.rules.yml"
	;;
*)
	echo "usage: check.sh rules|alertmanager|scrape|cloud-init|dashboard [AMLGUARD]" >&2
	exit 2
	;;
esac
echo "check.sh $1: ok"
