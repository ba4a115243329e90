#!/usr/bin/python3
# The demo's stand-in for systemd: binds an AF_UNIX datagram socket (the
# daemon's $NOTIFY_SOCKET) and appends every notification line it receives
# (READY=1, STATUS=..., WATCHDOG=1, STOPPING=1) to a file, one per line.
#
#   notify_listener.py SOCKET_PATH OUTPUT_FILE
#
# Runs until SIGTERM; removes the socket on the way out.
import os
import signal
import socket
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: notify_listener.py SOCKET_PATH OUTPUT_FILE", file=sys.stderr)
        return 2
    path, output = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    try:
        with open(output, "a", encoding="utf-8", buffering=1) as out:
            while True:
                # Ancillary data (a BARRIER=1 file descriptor) is received and
                # closed, as systemd does, so a sender waiting on it goes on.
                data, ancdata, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(16 * 4))
                for level, kind, payload in ancdata:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        for i in range(0, len(payload) - len(payload) % 4, 4):
                            os.close(int.from_bytes(payload[i:i + 4], sys.byteorder))
                for line in data.decode("utf-8", "replace").split("\n"):
                    if line:
                        out.write(line + "\n")
    finally:
        sock.close()
        os.unlink(path)


if __name__ == "__main__":
    sys.exit(main())
