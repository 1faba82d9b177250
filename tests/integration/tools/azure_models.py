#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Check exported Azure documents against Microsoft's own models (Debian's python3-azure).

  azure_models.py nsg|nsg-arm|azfw FILE...

Each document is deserialized into azure-mgmt-network's model (NetworkSecurityGroup, or
FirewallPolicyRuleCollectionGroup), validated (the models' own constraints: required fields,
ranges), and serialized back: the result must equal the document, so no field was unknown to
the model, misspelled or of the wrong type.  Runs offline.  Exit status 0, or 1 with the
differences.
"""
import copy
import json
import sys

from azure.mgmt.network import models
from azure.mgmt.network._serialization import Model, Serializer

# Fields whose model type is "str" but whose values are an enumeration of the API.
ENUMS = {
    (models.SecurityRule, "protocol"): models.SecurityRuleProtocol,
    (models.SecurityRule, "access"): models.SecurityRuleAccess,
    (models.SecurityRule, "direction"): models.SecurityRuleDirection,
    (models.NetworkRule, "ip_protocols"): models.FirewallPolicyRuleNetworkProtocol,
    (models.FirewallPolicyRuleApplicationProtocol, "protocol_type"):
        models.FirewallPolicyRuleApplicationProtocolType,
    (models.FirewallPolicyFilterRuleCollectionAction, "type"):
        models.FirewallPolicyFilterRuleCollectionActionType,
}


def validate(obj, path):
    """The constraints of every model in the tree (required, ranges, enumerations)."""
    errors = []
    for attr, rules in obj._validation.items():
        value = getattr(obj, attr, None)
        if rules.get("required") and value is None:
            errors.append("%s.%s: required" % (path, attr))
        for key, bad in Serializer.validation.items():
            if value is not None and key in rules and bad(value, rules[key]):
                errors.append("%s.%s: %r violates %s %r" % (path, attr, value, key, rules[key]))
    for attr in obj._attribute_map:
        value = getattr(obj, attr, None)
        enum = ENUMS.get((type(obj), attr))
        for i, v in enumerate(value if isinstance(value, list) else [value]):
            if enum and v is not None and v not in [e.value for e in enum]:
                errors.append("%s.%s: %r is none of %s" % (path, attr, v,
                                                            [e.value for e in enum]))
            if isinstance(v, Model):
                errors += validate(v, "%s.%s[%d]" % (path, attr, i))
    return errors


def diff(a, b, path=""):
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append("%s/%s: only after the round trip" % (path, k))
            elif k not in b:
                out.append("%s/%s: lost by the model" % (path, k))
            else:
                out += diff(a[k], b[k], "%s/%s" % (path, k))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, "%s[%d]" % (path, i))
    elif a != b or type(a) is not type(b):
        out.append("%s: %r became %r" % (path, a, b))
    return out


def check(doc, cls, what):
    obj = cls.deserialize(copy.deepcopy(doc))  # the deserializer consumes discriminators
    errors = validate(obj, type(obj).__name__)
    back = obj.serialize(keep_readonly=True)
    return ["%s: %s" % (what, e) for e in errors + diff(doc, back)]


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("nsg", "nsg-arm", "azfw"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, problems, checked = sys.argv[1], [], 0
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if kind == "nsg":
            problems += check(doc, models.NetworkSecurityGroup, path)
            rules = doc["properties"]["securityRules"]
        elif kind == "nsg-arm":
            (res,) = doc["resources"]
            assert res["type"] == "Microsoft.Network/networkSecurityGroups", res["type"]
            body = {k: v for k, v in res.items() if k not in ("apiVersion",)}
            problems += check(body, models.NetworkSecurityGroup, path)
            rules = res["properties"]["securityRules"]
        else:
            problems += check(doc, models.FirewallPolicyRuleCollectionGroup, path)
            rules = [r for c in doc["properties"]["ruleCollections"] for r in c["rules"]]
        # The model does not know NSG priorities must be unique per direction: check it here.
        if kind.startswith("nsg"):
            seen = set()
            for r in rules:
                key = (r["properties"]["direction"], r["properties"]["priority"])
                if key in seen:
                    problems.append("%s: priority %s used twice" % (path, key))
                seen.add(key)
        checked += len(rules)
    for p in problems:
        print(p)
    print("%d documents, %d rules: %s" % (len(sys.argv) - 2, checked,
                                           "FAIL" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
