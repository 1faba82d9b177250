#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Service-tag files in the format of Microsoft's "Azure IP Ranges and Service Tags" downloads.

    gentags.py OUTDIR

writes, for the tests, one file per cloud with the tags and regions the shipped policies use
(and those the tag tests look up), plus an older Public file to compare with:

    ServiceTags_Public_20261130.json           cloud Public, changeNumber 402
    ServiceTags_Public_20260601.json           cloud Public, changeNumber 388 (the "old" file)
    ServiceTags_AzureGovernment_20261130.json  cloud AzureGovernment, changeNumber 371
    ServiceTags_China_20261130.json            cloud China, changeNumber 380

The layout is Microsoft's: {"changeNumber", "cloud", "values": [{"name", "id", "properties":
{"changeNumber", "region", "regionId", "platform", "systemService", "addressPrefixes",
"networkFeatures"}}]}, names sorted, two-space indentation, IPv4 prefixes before IPv6.  The
awkward cases of the real files are there on purpose: a regional tag is a subset of its global
tag; prefixes overlap inside a tag (a /24 inside a /20 of the same region); a regional tag can
have no prefixes at all (AzureMonitor in the second region of each cloud); the names differ from
the documents' spellings (AzureKeyVault for Keyvault, AzureContainerRegistry for
ContainerRegistry, AzureFrontDoor.Frontend for FrontEnd); AzureMachineLearningInference sits
beside AzureMachineLearning; AzureCloud's regional names are lower case (AzureCloud.eastus2);
Gov and China have no AzureFrontDoor.FirstParty; China writes "networkFeatures": null.

Addresses: cloud Public 20.0.0.0/8 and 2603:1000::/24, AzureGovernment 52.0.0.0/8 and
2603:2000::/24, China 40.0.0.0/8 and 2603:3000::/24.  Tag number t, region number r: IPv4
A.t.(32r).0/20 (and A.t.(32r+1).0/24 inside it) and 2603:C0tt:(2r)00::/40; the global tag adds
A.t.200.0/22 and 2603:C0tt:f000::/40.  Between the blocks are gaps that no tag covers.
"""
import ipaddress
import json
import os
import sys

# name, systemService, regional (has Name.Region entries)
TAGS = [
    ("AzureActiveDirectory", "AzureAD", False),
    ("AzureResourceManager", "AzureResourceManager", True),
    ("AzureMachineLearning", "AzureMachineLearning", True),
    ("AzureMachineLearningInference", "AzureMachineLearningInference", True),
    ("BatchNodeManagement", "BatchNodeManagement", True),
    ("Storage", "AzureStorage", True),
    ("AzureKeyVault", "AzureKeyVault", True),
    ("AzureContainerRegistry", "AzureContainerRegistry", True),
    ("MicrosoftContainerRegistry", "MicrosoftContainerRegistry", True),
    ("AzureFrontDoor.Frontend", "AzureFrontDoor", False),
    ("AzureFrontDoor.Backend", "AzureFrontDoor", False),
    ("AzureFrontDoor.FirstParty", "AzureFrontDoor", False),
    ("AzureFrontDoor.MicrosoftSecurity", "AzureFrontDoor", False),
    ("AzureMonitor", "AzureMonitor", True),
    ("AzureCloud", "", True),
]

# cloud, file date, changeNumber, first IPv4 octet, IPv6 cloud digit, regions (name, id)
CLOUDS = [
    ("Public", "20261130", 402, 20, 1,
     [("EastUS2", 2), ("WestEurope", 18), ("EastUS", 1)]),
    ("AzureGovernment", "20261130", 371, 52, 2,
     [("USGovVirginia", 33), ("USGovArizona", 32), ("USGovTexas", 34)]),
    ("China", "20261130", 380, 40, 3,
     [("ChinaEast2", 39), ("ChinaNorth3", 41), ("ChinaEast", 37)]),
]


def canonical(p):
    return ipaddress.ip_network(p).compressed  # as Microsoft writes them (RFC 5952)


def regional_prefixes(a, c, t, r):
    return [canonical(p) for p in ("%d.%d.%d.0/20" % (a, t, 32 * r),
                                   "%d.%d.%d.0/24" % (a, t, 32 * r + 1),
                                   "2603:%d0%02x:%x00::/40" % (c, t, 2 * r))]


def global_only(a, c, t):
    return [canonical(p) for p in ("%d.%d.200.0/22" % (a, t), "2603:%d0%02x:f000::/40" % (c, t))]


def v4_first(prefixes):
    return sorted(prefixes, key=lambda p: (":" in p, prefixes.index(p)))


def entry(name, service, region, region_id, change, prefixes, features):
    return {
        "name": name,
        "id": name,
        "properties": {
            "changeNumber": change,
            "region": region,
            "regionId": region_id,
            "platform": "Azure",
            "systemService": service,
            "addressPrefixes": v4_first(prefixes),
            "networkFeatures": features,
        },
    }


def cloud_file(cloud, change, a, c, regions, old=False):
    features = None if cloud == "China" else ["API", "NSG", "UDR", "FW"]
    values = []
    for t, (name, service, regional) in enumerate(TAGS):
        if name == "AzureFrontDoor.FirstParty" and cloud != "Public":
            continue
        if old and name == "AzureMonitor":
            continue  # a tag the old file does not have yet
        every = []
        for r, (region, rid) in enumerate(regions):
            pfx = regional_prefixes(a, c, t, r)
            if name == "AzureMonitor" and r == 1:
                pfx = []  # a region that has the tag but no prefixes
            if old and name == "AzureMachineLearning" and r == 0:
                pfx = pfx[:1]  # the old file lacks a /24 and the IPv6 block of one region
            every += pfx
            if regional:
                rname = region.lower() if name == "AzureCloud" else region
                values.append(entry("%s.%s" % (name, rname), service, region.lower(), rid,
                                    3 if old else 5, pfx, features))
        every += global_only(a, c, t)
        values.append(entry(name, service, "", 0, 7 if old else 9, every, features))
    values.sort(key=lambda v: v["name"].lower())
    return {"changeNumber": change, "cloud": cloud, "values": values}


def write(path, doc):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)


def main():
    if len(sys.argv) != 2:
        print("usage: gentags.py OUTDIR", file=sys.stderr)
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for cloud, date, change, a, c, regions in CLOUDS:
        write(os.path.join(out, "ServiceTags_%s_%s.json" % (cloud, date)),
              cloud_file(cloud, change, a, c, regions))
    cloud, _, _, a, c, regions = CLOUDS[0]
    write(os.path.join(out, "ServiceTags_Public_20260601.json"),
          cloud_file(cloud, 388, a, c, regions, old=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
