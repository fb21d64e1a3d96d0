"""A WebSocket client not written in JavaScript, for the reply-mode tests (Debian's python3-websockets).

Usage: pyclient-modes.py URL [--protocol P]... [--send TEXT]... [--receive N] [--wait-close]
Connects (offering the subprotocols), sends each TEXT, reads N messages, then closes with 1000,
or with --wait-close waits for the server to close. Prints one JSON object per line:
{"protocol": ...} once open, {"message": ...} per message, {"close": code, "reason": ...} at the end.
"""
import asyncio
import json
import sys

import websockets


def parse(argv):
    options = {"url": argv[0], "protocols": [], "send": [], "receive": 0, "wait_close": False}
    i = 1
    while i < len(argv):
        flag = argv[i]
        if flag == "--protocol":
            options["protocols"].append(argv[i + 1])
            i += 2
        elif flag == "--send":
            options["send"].append(argv[i + 1])
            i += 2
        elif flag == "--receive":
            options["receive"] = int(argv[i + 1])
            i += 2
        elif flag == "--wait-close":
            options["wait_close"] = True
            i += 1
        else:
            raise SystemExit("unknown argument " + flag)
    return options


def emit(obj):
    print(json.dumps(obj), flush=True)


async def main(options):
    async with websockets.connect(options["url"], subprotocols=options["protocols"] or None, max_size=None) as ws:
        emit({"protocol": ws.subprotocol})
        for text in options["send"]:
            await ws.send(text)
        try:
            for _ in range(options["receive"]):
                message = await ws.recv()
                emit({"message": message if isinstance(message, str) else message.hex()})
            if options["wait_close"]:
                await ws.wait_closed()
            else:
                await ws.close(1000)
        except websockets.ConnectionClosed:
            pass
        emit({"close": ws.close_code, "reason": ws.close_reason})


asyncio.run(main(parse(sys.argv[1:])))
