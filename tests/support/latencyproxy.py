#!/usr/bin/env python3
"""A TCP proxy that adds round-trip time (and optionally a bandwidth cap) per connection, as a
real link between a client and a server would. Used by the integration tests and by
tests/bench/run.sh to count round trips.

    latencyproxy.py --target HOST:PORT [--listen PORT] [--rtt-ms 100] [--rate BYTES_PER_S]

Each direction delays every piece of data by half the RTT (so a request and its answer cost one
RTT), and a new connection can carry data only one RTT after it was accepted (the TCP handshake
of a real link). With --listen 0 (the default) a free port is chosen. The first line printed on
stdout is "listening PORT", once the port accepts connections; after that the proxy runs until
killed. Each accepted connection is counted on stderr ("connection N") for the tests.
"""
import argparse
import asyncio
import sys
import time


async def pump(reader, writer, delay_s, rate):
    """Copies reader to writer, each piece leaving delay_s after it arrived (order kept)."""
    queue = asyncio.Queue()

    async def receive():
        while True:
            data = await reader.read(65536)
            await queue.put((time.monotonic() + delay_s, data))
            if not data:
                return

    async def send():
        try:
            while True:
                due, data = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
                if rate:
                    await asyncio.sleep(len(data) / rate)
        except (ConnectionError, OSError):
            return

    receiver = asyncio.ensure_future(receive())
    try:
        await send()
    finally:
        receiver.cancel()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="HOST:PORT of the server")
    parser.add_argument("--listen", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--rtt-ms", type=float, default=100.0, help="round-trip time added, in ms")
    parser.add_argument("--rate", type=float, default=0, help="bytes per second per direction (0: no cap)")
    args = parser.parse_args()
    host, port = args.target.rsplit(":", 1)
    rtt = args.rtt_ms / 1000.0
    connections = 0

    async def handle(client_reader, client_writer):
        nonlocal connections
        connections += 1
        print(f"connection {connections}", file=sys.stderr, flush=True)
        try:
            server_reader, server_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            client_writer.close()
            return
        await asyncio.sleep(rtt)  # the handshake a real link would cost
        try:
            await asyncio.gather(pump(client_reader, server_writer, rtt / 2, args.rate),
                                 pump(server_reader, client_writer, rtt / 2, args.rate))
        finally:
            for w in (client_writer, server_writer):
                try:
                    w.close()
                except OSError:
                    pass

    server = await asyncio.start_server(handle, "127.0.0.1", args.listen)
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
