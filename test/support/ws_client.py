"""A WebSocket client not written in JavaScript, for the tests: Debian's python3-websockets.

Usage: /usr/bin/python3 ws_client.py URL
Prints "open" once connected, then follows one command per line on stdin:
  send TEXT   sends TEXT as a text message
  recv        prints the next message as one JSON line: {"text": ...} or {"binary": "<hex>"}
  close       closes normally (1000) and exits 0
Anything that goes wrong is printed as "error ..." and exits 1.
"""
import asyncio
import json
import sys

import websockets


async def main(url):
    loop = asyncio.get_running_loop()
    async with websockets.connect(url) as ws:
        print("open", flush=True)
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if line == "":
                return
            command, _, argument = line.rstrip("\n").partition(" ")
            if command == "send":
                await ws.send(argument)
            elif command == "recv":
                message = await ws.recv()
                if isinstance(message, bytes):
                    print(json.dumps({"binary": message.hex()}), flush=True)
                else:
                    print(json.dumps({"text": message}), flush=True)
            elif command == "close":
                await ws.close()
                return
            else:
                print("error unknown command " + command, flush=True)
                sys.exit(1)


try:
    asyncio.run(main(sys.argv[1]))
except Exception as error:  # reported to the test, which shows it
    print("error " + repr(error), flush=True)
    sys.exit(1)
