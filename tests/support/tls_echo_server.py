#!/usr/bin/python3
# wspulse_client tests — a wss:// echo peer on 127.0.0.1 (Debian's python3-websockets).
# Usage: tls_echo_server.py CERT KEY. Prints "READY <port>"; on connect sends the SNI name it
# saw as {"event":"tls.sni","payload":"<name>"} ("" for none); echoes every message; exits on
# SIGTERM or after 60 s.
import asyncio, json, signal, ssl, sys

import websockets

seen_sni = {}


def sni_callback(sslobj, name, ctx):
    seen_sni[id(sslobj)] = name or ""


async def handler(ws, path=None):
    obj = ws.transport.get_extra_info("ssl_object")
    name = seen_sni.pop(id(obj), "") if obj is not None else ""
    await ws.send(json.dumps({"event": "tls.sni", "payload": name}))
    async for message in ws:
        await ws.send(message)


async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    ctx.sni_callback = sni_callback
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(handler, "127.0.0.1", 0, ssl=ctx) as server:
        print("READY", server.sockets[0].getsockname()[1], flush=True)
        await asyncio.wait_for(stop, 60)


try:
    asyncio.run(main())
except asyncio.TimeoutError:
    pass
