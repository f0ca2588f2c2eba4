#!/usr/bin/env python3
"""wspulse_client — write the seed corpora of the fuzz targets (fuzz/corpus/<target>/).

Usage: tools/fuzz_corpus.py [OUT_DIR]   (default: fuzz/corpus next to this script's parent)

Deterministic: the same files every run (named after their content's purpose), so the committed
corpus can be regenerated and diffed. Seeds are small; libFuzzer grows its own working corpus
from them (make fuzz keeps that under build/, never here).
SPDX-License-Identifier: MIT
"""
import os
import struct
import sys

# ---- codec: first byte = mode (0 decode, 1 raw frame, 2 built payload) ------------------------
CODEC_DECODE = [
    b'{}',
    b'{"id":"1","event":"chat.message","payload":{"text":"hi"}}',
    b' {"event":"e","payload":[1,2.5,-3e2,true,false,null]} ',
    b'{"id":"\\u00e9\\ud83d\\ude00","event":"\\n\\t\\"\\\\","payload":"x"}',
    b'{"payload": {"a" : 1 } , "unknown":{"deep":[[[{}]]]}}',
    b'{"id":"a","id":"b"}',
    b'{"id":null}',
    b'{"id":1}',
    b'{"event":"\\ud800"}',
    b'[1,2]',
    b'{"id":"x"} trailing',
    b'{"payload":1e400}',
    b'{"id":"\xc3\xa9","event":"\xff"}',
    b'{"payload":' + b'[' * 40 + b']' * 40 + b'}',
    b'{"id":"',
]


def codec_raw(id_, event, payload):
    return bytes([1, len(id_)]) + id_ + bytes([len(event)]) + event + payload


CODEC_RAW = [
    codec_raw(b'1', b'chat', b'{"a":1}'),
    codec_raw(b'', b'', b''),
    codec_raw(b'q"\\\x01', b'\xe2\x82\xac', b'  [1, "two", null]  '),
    codec_raw(b'\xc0\xaf', b'e', b'null'),
    codec_raw(b'i', b'e', b'{"a":1} {"b":2}'),
    codec_raw(b'i', b'e', b'"\xed\xa0\x80"'),
]
CODEC_BUILT = [bytes([2, 1, 0x41, 1, 0x42]) + bytes(range(0, 64)),
               bytes([0xC2, 0, 0]) + bytes([6, 3, 0, 5, 1, 4, 12, 0x22, 0x5c, 0x01, 0xe5, 0xf3])]

# ---- url: first byte even = URL, odd = header (name length byte, name, value) -----------------
URLS = [
    b'ws://127.0.0.1:8080/ws',
    b'wss://example.com/ws?room=r1&token=xyz#frag',
    b'HTTP://Example.COM:80',
    b'https://u:p@h:443/p?a=1&&b',
    b'ws://[::1]:9000/x',
    b'ws://:80/',
    b'ws:///path',
    b'ftp://h/',
    b'ws://h/a b',
    b'ws://h/\x7f',
    b'ws://a@b@c/p?x=@#y',
    b'no-scheme?token=s3cret',
    b'ws://h:99999999999999999999/',
    b'ws://h:-1/',
    b'ws://[::1/',
]


def header(name, value):
    return bytes([1, len(name)]) + name + value


HEADERS = [
    header(b'Authorization', b'Bearer abc'),
    header(b'X-Token', b''),
    header(b'', b'v'),
    header(b'Bad Name', b'v'),
    header(b'X', b'a\r\nInjected: 1'),
    header(b'X', b'nul\x00'),
    header(b'X:Y', b'v'),
    header(b'\xc3\xa9', b'v'),
]


# ---- stream: first byte = flags (1 echo, 2 handler throws, 4 close early, 8 with the 101) -------
def ws_frame(opcode, payload=b'', fin=True, rsv=0, mask=None, length=None):
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length is None else length
    mask_bit = 0x80 if mask is not None else 0
    if n < 126:
        head = bytes([first, mask_bit | n])
    elif n < 65536:
        head = bytes([first, mask_bit | 126]) + struct.pack('>H', n)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack('>Q', n)
    if mask is not None:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def close(code=None, text=b''):
    return ws_frame(8, b'' if code is None else struct.pack('>H', code) + text)


MSG = b'{"id":"1","event":"e","payload":{"n":1}}'
STREAMS = {
    'text': [0, ws_frame(1, MSG)],
    'text_close': [0, ws_frame(1, MSG), close(1000, b'bye')],
    'echo_with_101': [1 | 8, ws_frame(1, MSG), ws_frame(1, MSG)],
    'handler_throws': [2, ws_frame(1, MSG), ws_frame(1, MSG)],
    'close_early': [4, ws_frame(1, MSG)],
    'binary': [0, ws_frame(2, MSG)],
    'fragments': [0, ws_frame(1, MSG[:10], fin=False), ws_frame(9, b'p'),
                  ws_frame(0, MSG[10:20], fin=False), ws_frame(0, MSG[20:])],
    'continuation_first': [0, ws_frame(0, MSG)],
    'fragment_interleaved': [0, ws_frame(1, b'{', fin=False), ws_frame(1, b'}')],
    'ping_pong': [0, ws_frame(9, b'hello'), ws_frame(10, b'unsolicited')],
    'ping_many': [8] + [ws_frame(9, b'x' * 8)] * 40,
    'control_fragmented': [0, ws_frame(9, b'p', fin=False)],
    'control_too_long': [0, ws_frame(9, b'x' * 126)],
    'close_no_code': [0, close()],
    'close_one_byte': [0, ws_frame(8, b'\x03')],
    'close_bad_code': [0, close(1005)],
    'close_private_code': [0, close(4001, b'kicked')],
    'close_bad_utf8': [0, close(1000, b'\xff\xfe')],
    'bad_utf8_text': [0, ws_frame(1, b'{"id":"\xc3\x28"}')],
    'utf8_split_fragments': [0, ws_frame(1, b'{"id":"\xe2\x82', fin=False),
                             ws_frame(0, b'\xac"}')],
    'rsv_bits': [0, ws_frame(1, MSG, rsv=4)],
    'reserved_opcode': [0, ws_frame(3, b'x'), ws_frame(11, b'')],
    'masked': [0, ws_frame(1, MSG, mask=b'\x01\x02\x03\x04')],
    'len16': [0, ws_frame(1, b'{"payload":"' + b'a' * 300 + b'"}')],
    'len64_small': [0, bytes([0x81, 127]) + struct.pack('>Q', 5) + b'hello'],
    'len64_over_limit': [0, ws_frame(1, b'', length=70000)],
    'len64_huge_truncated': [0, bytes([0x81, 127]) + b'\x7f\xff\xff\xff\xff\xff\xff\xff' + b'ab'],
    'len64_top_bit': [0, bytes([0x81, 127]) + b'\x80' + b'\x00' * 7],
    'truncated_header': [0, b'\x81'],
    'truncated_payload': [0, bytes([0x81, 50]) + b'short'],
    'garbage': [0, b'HTTP/1.1 200 OK\r\n\r\n'],
    'undecodable': [0, ws_frame(1, b'not json'), ws_frame(1, MSG)],
    'after_close': [0, close(1000), ws_frame(1, MSG)],
}


def write(dir_, name, data):
    os.makedirs(dir_, exist_ok=True)
    with open(os.path.join(dir_, name), 'wb') as f:
        f.write(data)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', 'fuzz', 'corpus')
    for i, m in enumerate(CODEC_DECODE):
        write(os.path.join(root, 'codec'), 'decode_%02d' % i, b'\x00' + m)
    for i, m in enumerate(CODEC_RAW):
        write(os.path.join(root, 'codec'), 'raw_%02d' % i, m)
    for i, m in enumerate(CODEC_BUILT):
        write(os.path.join(root, 'codec'), 'built_%02d' % i, m)
    for i, u in enumerate(URLS):
        write(os.path.join(root, 'url'), 'url_%02d' % i, b'\x00' + u)
    for i, h in enumerate(HEADERS):
        write(os.path.join(root, 'url'), 'header_%02d' % i, h)
    for name, parts in STREAMS.items():
        write(os.path.join(root, 'stream'), name, bytes([parts[0]]) + b''.join(parts[1:]))


if __name__ == '__main__':
    main()
