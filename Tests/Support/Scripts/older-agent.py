#!/usr/bin/env python3
"""A stand-in for a Coffer agent of protocol version 6, as an upgrade leaves one running: it listens
on the agent socket given as the only argument and answers every request with a version-6 frame.
Prints "ready" once it listens."""
import os
import signal
import socket
import struct
import sys

# The test runner may pass SIGTERM on ignored; a real agent ends on it.
signal.signal(signal.SIGTERM, signal.SIG_DFL)
path = sys.argv[1]
os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
os.chmod(path, 0o600)
server.listen(8)
print("ready", flush=True)

body = b'{"version":6,"body":{"failure":{"kind":"agentUnavailable","message":"old agent","candidates":[]}}}'
inner = struct.pack(">I", len(body)) + body
frame = struct.pack(">I", len(inner)) + inner


def read_exactly(connection, count):
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


while True:
    connection, _ = server.accept()
    try:
        header = read_exactly(connection, 4)
        if header is not None and read_exactly(connection, struct.unpack(">I", header)[0]) is not None:
            connection.sendall(frame)
    except OSError:
        pass
    connection.close()
