#!/usr/bin/python3
# wspulse_client tests — a wss:// echo peer on 127.0.0.1 (Debian's python3-websockets).
# Usage: tls_echo_server.py CERT KEY [--max-tls 1.0|1.1] [--client-ca FILE]. Prints
# "READY <port>"; on connect sends the SNI name it saw as {"event":"tls.sni","payload":"<name>"}
# ("" for none); echoes every message but {"event":"tls.close"}, which it answers by closing the
# connection (1001); exits on SIGTERM or after 60 s.
#   --max-tls V     an outdated server: TLS up to version V only, and a handshake only (no
#                   WebSocket; a blocking socket, so OpenSSL's alert reaches the client, which
#                   asyncio's TLS layer drops when a handshake fails)
#   --client-ca F   require a client certificate issued by the CA in F (mutual TLS)
import argparse, asyncio, json, signal, socket, ssl, warnings

import websockets

seen_sni = {}


def sni_callback(sslobj, name, ctx):
    seen_sni[id(sslobj)] = name or ""


async def handler(ws, path=None):
    obj = ws.transport.get_extra_info("ssl_object")
    name = seen_sni.pop(id(obj), "") if obj is not None else ""
    await ws.send(json.dumps({"event": "tls.sni", "payload": name}))
    async for message in ws:
        if '"tls.close"' in message:
            await ws.close(1001)
            return
        await ws.send(message)


def make_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.sni_callback = sni_callback
    if args.max_tls:
        warnings.simplefilter("ignore", DeprecationWarning)  # that is the point
        old = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1}[args.max_tls]
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = old
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 disables TLS < 1.2 at level 1+
    if args.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(args.client_ca)
    return ctx


async def main(args):
    ctx = make_context(args)
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(handler, "127.0.0.1", 0, ssl=ctx) as server:
        print("READY", server.sockets[0].getsockname()[1], flush=True)
        await asyncio.wait_for(stop, 60)


def serve_handshakes_only(args):
    ctx = make_context(args)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(60)
        print("READY", listener.getsockname()[1], flush=True)
        while True:
            conn, _ = listener.accept()
            conn.settimeout(10)
            try:
                ctx.wrap_socket(conn, server_side=True).close()
            except (ssl.SSLError, OSError):
                conn.close()


parser = argparse.ArgumentParser()
parser.add_argument("cert")
parser.add_argument("key")
parser.add_argument("--max-tls", choices=["1.0", "1.1"])
parser.add_argument("--client-ca")
args = parser.parse_args()
try:
    if args.max_tls:
        serve_handshakes_only(args)
    else:
        asyncio.run(main(args))
except (asyncio.TimeoutError, socket.timeout):
    pass
