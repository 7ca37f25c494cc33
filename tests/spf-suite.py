#!/usr/bin/python3
"""The openspf.org RFC 7208 test suite (tests/data/spf/rfc7208-tests.yml, from pyspf) as JSON for
test-spf.c: each scenario's zone data as [type, name, value] records for the tests' resolver (type
SPF is dropped, as RFC 7208 dropped it, but copied to TXT where a name has no TXT of its own, as the
suite asks of its drivers; TIMEOUT becomes FAIL; MX is "PREFERENCE HOST"; a TXT given
as pieces is joined, as section 3.3 says; CNAME is followed here, since the resolver has none), and
each test's address, HELO, MAIL FROM and the results it accepts."""
import ipaddress
import json
import sys

import yaml


def reverse_name(name):
    """4.3.2.1.in-addr.arpa and ip6.arpa nibbles as the address they name, else None."""
    labels = name.lower().rstrip('.').split('.')
    if labels[-2:] == ['in-addr', 'arpa'] and len(labels) == 6:
        return '.'.join(reversed(labels[:4]))
    if labels[-2:] == ['ip6', 'arpa'] and len(labels) == 34:
        nibbles = ''.join(reversed(labels[:32]))
        return str(ipaddress.IPv6Address(int(nibbles, 16)))
    return None


def text(value):
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    if isinstance(value, list):
        return ''.join(text(piece) for piece in value)
    return str(value)


scenarios = []
with open(sys.argv[1], 'rb') as f:
    for document in yaml.safe_load_all(f):
        zone = document.get('zonedata') or {}
        cnames = {}
        for name, records in zone.items():
            for record in records:
                if isinstance(record, dict) and 'CNAME' in record:
                    cnames[name.lower()] = text(record['CNAME']).lower()
        out = []
        for name, records in zone.items():
            kinds = [kind for record in records if isinstance(record, dict) for kind in record]
            if 'SPF' in kinds and 'TXT' not in kinds:
                records = records + [{'TXT': record['SPF']} for record in records
                                     if isinstance(record, dict) and 'SPF' in record]
            target = name
            seen = 0
            while target.lower() in cnames and seen < 10:
                target = cnames[target.lower()]
                seen += 1
            has_txt = any(isinstance(record, dict) and 'TXT' in record and record['TXT'] != 'NONE'
                          for record in zone[name])
            for record in records:
                if record == 'TIMEOUT':
                    # Beside a TXT record, the timeout is the old SPF type's: TXT answers.
                    if not has_txt:
                        out.append(['FAIL', name, ''])
                    continue
                if not isinstance(record, dict):
                    continue
                for kind, value in record.items():
                    if kind in ('SPF', 'CNAME') or value == 'NONE':
                        continue
                    if kind == 'MX':
                        out.append(['MX', name, '%s %s' % (value[0], text(value[1]))])
                    elif kind == 'PTR':
                        address = reverse_name(name)
                        if address is not None:
                            out.append(['PTR', address, text(value)])
                    else:
                        out.append([kind, name, text(value)])
            # What a CNAME leads to answers for its name too.
            if target != name:
                for record in zone.get(target, []):
                    if isinstance(record, dict):
                        for kind, value in record.items():
                            if kind in ('TXT', 'A', 'AAAA'):
                                out.append([kind, name, text(value)])
        tests = []
        for name, test in document['tests'].items():
            result = test['result']
            tests.append({
                'name': name,
                'host': text(test['host']),
                'helo': text(test.get('helo', '')),
                'mailfrom': text(test.get('mailfrom', '')),
                'results': result if isinstance(result, list) else [result],
            })
        scenarios.append({'description': document.get('description', ''), 'zone': out, 'tests': tests})
json.dump(scenarios, sys.stdout, ensure_ascii=False)
