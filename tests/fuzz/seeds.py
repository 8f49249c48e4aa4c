#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/fuzz/corpus/<target>/seed-*: real
examples from docs/API.md, docs/RULES.md and the unit tests, in the input
format each fuzz_<target>.c describes (most take a selector byte first).
Inputs libFuzzer found and scripts/fuzz.sh --merge kept are named by their
hash and are not touched. Run it again after changing a target's input
format: python3 tests/fuzz/seeds.py"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- protobuf, by hand (no dependency) ----


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def tag(field, wire):
    return varint(field << 3 | wire)


def f_varint(field, v):
    return tag(field, 0) + varint(v)


def f_bytes(field, b):
    if isinstance(b, str):
        b = b.encode()
    return tag(field, 2) + varint(len(b)) + b


def f_double(field, v):
    return tag(field, 1) + struct.pack("<d", v)


def f_fixed64(field, v):
    return tag(field, 1) + struct.pack("<Q", v)


def msg(*fields):
    return b"".join(fields)


# ---- messages (proto/goldenbell/v1) ----


def call_record(call_id="c-1", caller="+8617000000000", callee="13900139000",
                start_ms=1795435140000, duration_s=312, carrier="CMCC", status=None,
                international=None, version=1):
    f = [f_varint(1, version), f_bytes(2, call_id), f_bytes(3, caller), f_bytes(4, callee),
         f_varint(5, start_ms), f_varint(6, duration_s), f_bytes(7, carrier)]
    if status is not None:
        f.append(f_varint(8, status))
    if international is not None:
        f.append(f_varint(9, international))
    return msg(*f)


def visit_record(event_id="v-77", phone="13900139000", kind=1,
                 target="https://pay.Example-Fraud.com:8443/x?y", ts_ms=1795435140000,
                 partner="browser-co", version=1):
    return msg(f_varint(1, version), f_bytes(2, event_id), f_bytes(3, phone), f_varint(4, kind),
               f_bytes(5, target), f_varint(6, ts_ms), f_bytes(7, partner))


def batch(records):
    return b"".join(f_bytes(1, r) for r in records)


def origin():
    return msg(f_bytes(1, "gb.calls"), f_varint(2, 3), f_varint(3, 4711), f_bytes(4, "CMCC"))


def call_event(subject="+8613900139000", counterpart="+8617000000000", outgoing=0):
    call = msg(f_bytes(1, "c-1"), f_bytes(2, counterpart), f_varint(3, 1), f_varint(4, outgoing),
               f_varint(5, 1795434828000), f_varint(6, 312), f_varint(7, 2), f_varint(8, 0),
               f_bytes(9, "CMCC"))
    return msg(f_varint(1, 1), f_bytes(2, "call:CMCC:c-1:%s:312" % subject), f_bytes(3, subject),
               f_varint(4, 1795435140000), f_bytes(5, origin()), f_bytes(10, call))


def visit_event(kind=1, target="pay.example-fraud.com", domain="example-fraud.com"):
    visit = msg(f_bytes(1, "v-77"), f_varint(2, kind), f_bytes(3, target), f_bytes(4, domain))
    return msg(f_varint(1, 1), f_bytes(2, "site:browser-co:v-77:+8613900139000"),
               f_bytes(3, "+8613900139000"), f_varint(4, 1795435140000), f_bytes(11, visit))


def event_batch(events):
    return b"".join(f_bytes(1, e) for e in events)


def registry_change(op_field, op_msg, request_id="req-1", registrant="13900139000"):
    return msg(f_varint(1, 1), f_bytes(2, request_id), f_bytes(3, registrant),
               f_varint(4, 1795435140000), f_bytes(op_field, op_msg))


def fraud_indicator(kind, value, action=1, source="national-12381", confidence=90,
                    first_seen=1793491200000, expires=1798675200000, exact=None):
    f = [f_varint(1, 1), f_varint(2, kind), f_bytes(3, value), f_varint(4, action),
         f_bytes(5, source), f_varint(6, confidence), f_varint(7, first_seen),
         f_varint(8, expires)]
    if exact is not None:
        f.append(f_varint(9, exact))
    return msg(*f)


def alert():
    prot = msg(f_bytes(1, "+8613900139000"), f_bytes(2, "st-yongfu"), f_bytes(3, "self"),
               f_varint(4, 1))
    return msg(f_varint(1, 1), f_bytes(13, "9f2c0000000000000000000000000000"),
               f_bytes(2, "st-yongfu"), f_bytes(3, "+8613900139000"), f_varint(4, 3),
               f_varint(5, 1), f_bytes(6, "on a call with fraud number +8617000000000 for 5 min 12 s"),
               f_bytes(7, call_event()), f_bytes(8, prot), f_varint(9, 1795435140000),
               f_varint(10, 1795435452000), f_varint(11, 1), f_varint(12, 1),
               f_bytes(14, "与诈骗号码 +8617000000000 通话 5分12秒，已结束"))


def workflow_event():
    return msg(f_varint(1, 1), f_bytes(2, "9f2c"), f_bytes(3, "st-yongfu"), f_varint(4, 2),
               f_varint(5, 3), f_bytes(6, "o-li"), f_varint(7, 1795435200000),
               f_bytes(8, "dissuaded"), f_bytes(9, "resolve"),
               f_bytes(10, '{"method":"call","outcome":"dissuaded"}'), f_bytes(11, "e-1"))


def index_change(which):
    if which == 10:
        entry = msg(f_bytes(1, "ab" * 32), f_bytes(2, "cd" * 32), f_bytes(3, "st-1"),
                    f_varint(4, 1), f_varint(5, 0), f_fixed64(6, 0x0123456789ABCDEF))
    else:
        entry = msg(f_varint(1, 2), f_bytes(2, "example-fraud.com"), f_varint(3, 0), f_varint(4, 0))
    return msg(f_varint(1, 1), f_varint(2, 1795435140000), f_bytes(which, entry))


# ---- JSON examples ----

CALL = ('{"call_id": "c-20261123-0001", "caller": "+8613800138000", "callee": "13900139000",\n'
        ' "start": "2026-11-23T10:00:00Z", "duration_s": 312, "carrier": "CMCC",\n'
        ' "status": "final", "international": false}')
CALL2 = ('{"call_id":"c-1","caller":"+8617000000000","callee":"13900139000",'
         '"start":"2026-11-23T10:00:00Z","duration_s":312,"carrier":"CMCC"}')
CALL_ONGOING = ('{"call_id":"c-2","caller":"0086 170-0000-0001","callee":"(0755) 8888 8888",'
                '"start":1795435140000,"duration_s":75,"status":"ongoing","international":true}')
CALL_ODD = ('{"call_id":"c-3","caller":"＋８６ １３８ ００１３ ８０００","callee":"95588",'
            '"start":"1795435140","duration_s":0,"carrier":"CUCC","extra":{"a":[1,2,{"b":null}]}}')
VISIT = ('{"event_id": "v-77", "phone": "13900139000", "kind": "site",\n'
         ' "target": "https://pay.Example-Fraud.com:8443/x?y", "ts": 1795435140000, "partner": "browser-co"}')
VISIT_APP = '{"event_id":"v-78","phone":"+86 139 0013 9000","kind":"app","target":" com.example.loan ","ts":"2026-11-23T18:00:00.250+08:00"}'
VISIT_IDN = '{"event_id":"v-79","phone":"13900139000","kind":"site","target":"https://网上银行.中国银行.中国/","ts":1795435140.5}'
VISIT_IP = '{"event_id":"v-80","phone":"13900139000","kind":"site","target":"http://[2001:db8::1]:443/","ts":1795435140000}'
VISIT_PCT = '{"event_id":"v-81","phone":"13900139000","kind":"site","target":"https://evil.com@good.com%2eevil.com/","ts":1795435140000}'

REG = [
    '{"request_id":"req-1","op":"register","registrant":"13900139000","station_id":"st-yongfu","following":true,"name":"张三","age":70,"occupation":"退休教师","lat":24.45,"lon":118.08}',
    '{"request_id":"req-2","op":"add_family","registrant":"13900139000","family":"138 0013 8009","relation":"母亲"}',
    '{"request_id":"req-3","op":"remove_family","registrant":"13900139000","family":"13800138009"}',
    '{"request_id":"req-4","op":"change_station","registrant":"13900139000","station_id":"st-binhai","ts":"2026-11-23T10:00:00Z"}',
    '{"request_id":"req-5","op":"follow","registrant":"+86 139 0013 9000"}',
    '{"request_id":"req-6","op":"unfollow","registrant":"13900139000","ts":1795435140000}',
    '{"request_id":"req-7","op":"unregister","registrant":"13900139000"}',
    '{"request_id":"req-8","op":"update_profile","registrant":"13900139000","name":"李四","age":81}',
    '{"request_id":"req-9","op":"register","registrant":"110","station_id":"st-yongfu"}',
    '{"request_id":"req-10","op":"add_family","registrant":"13900139000","family":"13900139000"}',
]

INTEL = [
    '{"kind": "domain", "value": "https://pay.example-fraud.com/x", "action": "add",\n "source": "national-12381", "confidence": 90,\n "first_seen": "2026-11-01T00:00:00Z", "expires": "2026-12-31T00:00:00Z"}',
    '{"kind":"domain","value":"https://pay.example-fraud.com/x","source":"bureau-3","confidence":80,"exact":true}',
    '{"kind":"phone","value":"0086 170-0000-0001","source":"bureau-3","confidence":95,"first_seen":1793491200000,"expires":"4084646400"}',
    '{"kind":"app","value":"com.example.loan","action":"confirm"}',
    '{"kind":"phone","value":"+8617000000001","action":"withdraw"}',
    '{"kind":"domain","value":"evil.github.io","action":"add","source":"feed"}',
    '{"kind":"domain","value":"http://0xC0.0250.1.10/","source":"x"}',
    '{"kind":"phone","value":"110"}',
]

RULES = [
    '{\n  "version": 1,\n  "long_call":     {"min_duration_s": 60},\n  "fraud_contact": {"enabled": true},\n'
    '  "international": {"min_calls": 5, "window_s": 3600},\n  "combination":   {"window_s": 3600},\n'
    '  "alerts":        {"suppression_window_s": 1800},\n  "retro_hunt":    {"lookback_s": 259200}\n}\n',
    '{"long_call": {"min_duration_s": 30}}',
    '{}',
    '{"fraud_contact": {"enabled": false}, "alerts": {"suppression_window_s": 0}}',
    '{"international": {"min_calls": 10001}}',
    '{"version": 2}',
    '{"long_call": {"min_duration_s": 60}, "long_call": {"min_duration_s": 61}}',
    '{"unknown": {}}',
    '[1, 2]',
]

HTTP = [
    b"GET /v1/alerts?limit=20&since=1795435140000 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAuthorization: Bearer gbt_o-li~q3VxN0000000000000000000000000000000000000\r\n\r\n",
    b"POST /v1/alerts/9f2c/claim HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer gbt_o-li~abc\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    b"POST /v1/alerts/9f2c/resolve HTTP/1.1\r\nHost: x\r\nContent-Length: 79\r\n\r\n{\"method\":\"call\",\"outcome\":\"dissuaded\",\"notes\":\"\xe6\x9c\xac\xe4\xba\xba\xe6\x8e\xa5\xe5\x90\xac\"}   ",
    b"GET /v1/stream?access_token=gbt_o-li~abc HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nLast-Event-ID: 1795435140123-0\r\n\r\n",
    b"POST /v1/devices/bind HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\n{\"code\":\"M21J76N960\",\"de\r\n10\r\nvice\":\"phone 1\"}\r\n0\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"POST /v1/stations HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nnull",
    b"GET http://127.0.0.1:8080/v1/stats/stations/st-1?days=7 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/stations/nearest?lat=24.45&lon=118.08&q=%E6%80%9D%E6%98%8E+x HTTP/1.0\r\n\r\n",
    b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    b"HEAD /v1/me HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 300 + b"\r\n\r\n",
]

ROUTES_SEL = [0, 1, 2, 3, 4, 5, 6, 7]


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def main():
    # ingest_json: flags byte (bit 0 visits; bits 1-3 content-type), then the value
    J = {"none": 0x00, "json": 0x02, "ndjson": 0x04, "custom": 0x0C}
    write("ingest_json", "call-api", bytes([J["none"]]) + CALL.encode())
    write("ingest_json", "call-kcat", bytes([J["json"]]) + CALL2.encode())
    write("ingest_json", "calls-array", bytes([J["json"]]) + ("[" + CALL2 + ",\n " + CALL_ONGOING + "]").encode())
    write("ingest_json", "calls-ndjson", bytes([J["ndjson"]]) + (CALL2 + "\n" + CALL_ODD + "\n{\"call_id\": 1}\nnot json\n" + CALL_ONGOING).encode())
    write("ingest_json", "calls-max-records-2", bytes([J["json"] | 0x20]) + ("[" + CALL2 + "," + CALL2 + "," + CALL2 + "]").encode())
    write("ingest_json", "call-custom-header", bytes([J["custom"]]) + b"Application/JSON; charset=utf-8\n" + CALL2.encode())
    write("ingest_json", "call-too-large", bytes([0x40]) + CALL.encode())
    write("ingest_json", "visit-api", bytes([1 | J["none"]]) + VISIT.encode())
    write("ingest_json", "visits-array", bytes([1 | J["json"]]) + ("[" + ",".join([VISIT_APP, VISIT_IDN, VISIT_IP, VISIT_PCT]) + "]").encode())
    write("ingest_json", "visit-dup-key", bytes([1]) + b'{"event_id":"a","event_id":"b"}')
    write("ingest_json", "empty-array", bytes([0]) + b" [ ] ")
    write("ingest_json", "bad-utf8", bytes([0]) + b'{"call_id":"\xff\xfe","caller":"1"}')
    write("ingest_json", "bad-content-type", bytes([J["custom"]]) + b"text/plain\n" + CALL2.encode())

    # ingest_proto
    calls = [call_record(), call_record(call_id="c-2", caller="0086 170-0000-0001", status=2, international=1),
             call_record(call_id="c-3", version=2), call_record(call_id="", callee="95588")]
    visits = [visit_record(), visit_record(event_id="v-78", kind=2, target="com.example.loan"),
              visit_record(event_id="v-79", target="https://例子.测试/"), visit_record(kind=0)]
    write("ingest_proto", "calls-batch", bytes([0x00]) + batch(calls))
    write("ingest_proto", "calls-batch-ct", bytes([0x0A]) + batch(calls[:2]))
    write("ingest_proto", "call-single", bytes([0x08]) + call_record())
    write("ingest_proto", "visits-batch", bytes([0x01]) + batch(visits))
    write("ingest_proto", "visit-single", bytes([0x09]) + visit_record())
    write("ingest_proto", "visits-wrong-single", bytes([0x0F]) + visit_record())
    write("ingest_proto", "calls-truncated", bytes([0x00]) + batch(calls)[:-7])
    write("ingest_proto", "calls-unknown-fields", bytes([0x00]) + f_varint(2, 5) + batch(calls[:1]) + f_bytes(15, b"x"))
    write("ingest_proto", "calls-custom-header", bytes([0x0C]) + b"application/x-protobuf; proto=goldenbell.v1.CallRecordBatch\n" + batch(calls[:1]))

    # registry
    for i, r in enumerate(REG):
        write("registry_json", "api-%d" % i, r)
    prof = msg(f_bytes(1, "张三"), f_varint(2, 70), f_bytes(3, "退休教师"))
    reg = msg(f_bytes(1, "st-yongfu"), f_bytes(2, prof), f_double(3, 24.45), f_double(4, 118.08), f_varint(5, 1))
    fam = msg(f_bytes(1, "138 0013 8009"), f_bytes(2, "母亲"))
    write("registry_proto", "register", registry_change(10, reg))
    write("registry_proto", "update-profile", registry_change(11, prof))
    write("registry_proto", "add-family", registry_change(12, fam))
    write("registry_proto", "remove-family", registry_change(13, fam))
    write("registry_proto", "change-station", registry_change(14, b"st-binhai"))
    write("registry_proto", "follow", registry_change(15, b""))
    write("registry_proto", "unfollow", registry_change(16, b""))
    write("registry_proto", "unregister", registry_change(17, b""))

    # intel
    for i, r in enumerate(INTEL):
        write("intel_json", "api-%d" % i, r)
    write("intel_proto", "phone", fraud_indicator(1, "+86 170 0000 0001"))
    write("intel_proto", "domain", fraud_indicator(2, "https://pay.example-fraud.com/x"))
    write("intel_proto", "domain-exact", fraud_indicator(2, "pay.example-fraud.com", exact=1))
    write("intel_proto", "app-confirm", fraud_indicator(3, "com.example.loan", action=2, confidence=0))
    write("intel_proto", "withdraw", fraud_indicator(1, "+8617000000001", action=3, first_seen=0, expires=0))

    # wire formats
    eb = event_batch([call_event(), call_event("+8617000000000", "+8613900139000", 1), visit_event(),
                      visit_event(2, "com.example.loan", "")])
    write("event_batch", "four-events", eb)
    write("event_batch", "one-call", event_batch([call_event()]))
    write("event_batch", "unknown-fields", f_varint(7, 1) + event_batch([visit_event()]) + f_bytes(9, b"zz"))
    write("pbwire", "event-batch", eb)
    write("pbwire", "call-record", call_record())
    write("pbwire", "origin", origin())
    write("pbwire", "fixed", f_fixed64(6, 1) + tag(5, 5) + b"\x01\x02\x03\x04" + f_double(3, 1.5))
    write("pbwire", "padded-tag", b"\x82\x00\x00" + f_varint(2, 1))
    protos = [alert(), eb, call_event(), workflow_event(), index_change(10), batch(calls),
              batch(visits), call_record(), visit_record(), registry_change(10, reg),
              fraud_indicator(2, "example-fraud.com")]
    names = ["alert", "event-batch", "event", "workflow", "index-change", "calls-batch",
             "visits-batch", "call-record", "visit-record", "registry-change", "fraud-indicator"]
    for i, (n, p) in enumerate(zip(names, protos)):
        write("proto", n, bytes([i]) + p)
    write("proto", "index-change-indicator", bytes([4]) + index_change(11))

    # phone: selector 'A' = the documented buffer sizes
    phones = ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "8613800138000",
              "(+86)13800138000", "+86 (0) 138 0013 8000", "013800138000", "１３８－００１３－８０００",
              "＋８６ １３８ ００１３ ８０００", "138\u00a00013\u00a08000", "138\u20130013\u20138000",
              "\ufeff13800138000", "(010) 6552 9988", "(0755) 8888 8888", "+86 (0)21 5555 6666",
              "0311-8765 4321", "86 0571 8765432", "110", "１１０", "12381", "96110", "10086", "95588",
              "400-810-8888", "800-820-8820", "0086 400 810 8888", "+1 (415) 555-2671",
              "+44 20 7946 0958", "00852 91234567", "+886 912 345 678", "+683 4002",
              "+800 1234 5678", "13800138000 ext 12", "tel:+8613800138000", "138\xff",
              "1234567890123456789012345678901234567890"]
    for i, p in enumerate(phones):
        data = p.encode("utf-8", "surrogateescape") if "\xff" not in p else p.encode("latin-1")
        write("phone", "%02d" % i, b"A" + data)
    write("phone", "small-buffer", b"\x80" + b"+8613800138000")

    # site: '@' site, 'A' app
    sites = ["https://pay.Example-Fraud.com:8443/x?y", "PAY.EXAMPLE-FRAUD.COM.", "http://user:pw@www.example-fraud.com/login",
             "//cdn.example-fraud.com", "https://a.b.example.com.cn", "https://x.github.io",
             "\u3000https://example.com\u3000", "https:\\\\example.com\\x", "svn+ssh://repo.example.org/trunk",
             "example.com:8080/x", "http:example.com/x", "https://a@b@good.com/", "https://good.com%2eevil.com",
             "https://-bad-.example.com", "https://www.www.example.com", "weixin://pay.example.com/x",
             "https://网上银行.中国银行.中国/", "http://XN--FIQS8S856BRUK.XN--FIQS8S/", "https://faß.de",
             "https://i❤.ws", "ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ", "https://例子。测试", "https://%E4%BE%8B%E5%AD%90.com",
             "http://0xC0.0250.1.10/", "http://3232235786/", "http://127.1/", "https://１９２．１６８．１．１/",
             "http://[2001:db8::1]:443/", "2001:db8::1", "mailto:a@b.com", "localhost", "com.cn"]
    for i, s in enumerate(sites):
        write("site", "%02d" % i, b"@" + s.encode())
    for i, s in enumerate(["com.example.loan", " com.example.loan\u200b", "\ufeffcom.例子.app", "a\x01b"]):
        write("site", "app-%d" % i, b"A" + s.encode())

    # time: 'p' RFC 3339, 'q' epoch (a double), 'r' skew (3 x int64), 's' format
    times = ["2026-11-23T10:00:00Z", "2026-11-23T18:00:00.250+08:00", "2026-11-23 10:00:00z",
             "2016-12-31T23:59:60Z", "2017-01-01T07:59:60.5+08:00", "0000-01-01T00:00:00Z",
             "9999-12-31T23:59:59.999-23:59", "2024-02-29T12:00:00.007Z", "2023-02-29T12:00:00Z",
             "2026-11-23T10:00:00.123456789Z", "2026-11-23T10:00:00", "2026-11-23T10:00:00+0800",
             "1969-12-31T23:59:59.999Z"]
    for i, t in enumerate(times):
        write("time", "rfc3339-%02d" % i, b"p" + t.encode())
    for i, v in enumerate([1795435140.0, 1795435140000.0, 1732356000.123, 0.0, 1e11, 99999999999.999,
                           253402300799999.0, float("nan"), -1.0, 1e300]):
        write("time", "epoch-%02d" % i, b"q" + struct.pack("<d", v))
    write("time", "skew-future", b"r" + struct.pack("<qqq", 1795435440001, 1795435140000, 300000))
    write("time", "skew-extremes", b"r" + struct.pack("<qqq", 2**63 - 1, -2**63, -1))
    write("time", "format-min", b"s" + struct.pack("<q", -2**63) + b"\x19")
    write("time", "format-now", b"s" + struct.pack("<q", 1795435140123) + b"\x20")

    for i, r in enumerate(RULES):
        write("rules", "%02d" % i, r)

    # http: header limit byte (0 = 16 KiB), body limit byte (0 = 1 MiB), route byte
    for i, h in enumerate(HTTP):
        write("http", "%02d" % i, bytes([0, 0, ROUTES_SEL[i % 8]]) + h)
    write("http", "small-limits", bytes([3, 1, 0]) + HTTP[1])

    # accounts: 0 code, 1 token, 2 account id, 3 role
    for i, c in enumerate(["M21J76N960", "97kj-dvz7-y3", "r4tz 8n0q hm", "OIL0000000", "M21J76N96U"]):
        write("accounts", "code-%d" % i, b"\x00" + c.encode())
    for i, t in enumerate(["gbt_admin~q3VxN0000000000000000000000000000000000000", "gbt_o-li~abc~def",
                           "gbt_~abc", "gbt_QQQ", "gbt_" + "a" * 64 + "~x"]):
        write("accounts", "token-%d" % i, b"\x01" + t.encode())
    for i, a in enumerate(["o-li", "admin", "a" * 64, "A1", "1.x_y-z"]):
        write("accounts", "id-%d" % i, b"\x02" + a.encode())
    for i, r in enumerate(["officer", "station_admin", "bureau_admin", "root"]):
        write("accounts", "role-%d" % i, b"\x03" + r.encode())

    # config: arguments separated by NUL
    for i, a in enumerate([["--redis.url=redis://127.0.0.1:6380/2", "--svc.count", "7", "--svc.flag"],
                           ["--kafka.bootstrap.servers=127.0.0.1:9092", "--kafka.acks", "all"],
                           ["--svc.flag=off", "--redis.timeout-ms=9"], ["--svc.big=-9223372036854775808"],
                           ["--unknown=1"], ["--svc.count"], ["stray"]]):
        write("config", "%02d" % i, "\0".join(a))

    for i, t in enumerate(["plain", "has space", 'quote " and \\ back', "ctl\x01\x1f", "例子 中国", "a=b",
                           "\xed\xa0\x80"]):
        write("text", "%02d" % i, b"\x40" + t.encode("utf-8", "surrogatepass"))
    write("text", "overlong", b"\x05" + b"\xc0\xaf\xe0\x80\xaf\xf4\x90\x80\x80")
    return 0


if __name__ == "__main__":
    sys.exit(main())
