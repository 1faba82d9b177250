#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# attach --xdp on a gateway: the compute subnet's egress judged by XDP on the compute-facing veth,
# the other direction by tc; violations reported, dropped in enforce mode; status and detach.
. "$(dirname "$0")/lib.sh"

test_gateway_xdp() {
	setup_gateway
	cat >"$WORK/gw.policy" <<'POL'
mode enforce
allow out tcp port 443 to 198.51.100.7 flow GW-HTTPS
POL
	tcp_echo_server "$NS_REMOTE" 198.51.100.7 443
	tcp_echo_server "$NS_REMOTE" 198.51.100.7 8443
	tcp_echo_server "$NS_HOST" $H4 2222
	wait_listen "$NS_REMOTE" 8443
	wait_listen "$NS_HOST" 2222
	amlg_gw attach -i "$IF_GW_IN" -p "$WORK/gw.policy" --role gateway --xdp
	ATTACHED+=("$NS_GW:$IF_GW_IN")
	in_ns "$NS_GW" ip link show "$IF_GW_IN" | grep -q "xdp" || die "no XDP program on the veth"
	amlg_gw -j status -i "$IF_GW_IN" >"$WORK/st.json"
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
s = s[0] if isinstance(s, list) else s
assert s["attached"], s
assert s["ingress_hook"] in ("xdp-native", "xdp-generic"), s["ingress_hook"]
print("ingress hook:", s["ingress_hook"])' "$WORK/st.json"
	gateway_judges "XDP" "tc"
	amlg_gw detach -i "$IF_GW_IN"
	if in_ns "$NS_GW" ip link show "$IF_GW_IN" | grep -q "xdp"; then
		die "detach left the XDP program"
	fi
}

run_tests "$@"
