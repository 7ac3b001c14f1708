#!/usr/bin/python3
"""A client of the truthdb IPC protocol written from docs/ipc-protocol.md alone: the Python standard
library and msgpack (Debian: python3-msgpack), with the multiplexer (Nerdbank.Streams protocol
version 3) implemented here, over a Unix domain socket.

Usage: client.py SOCKET [COUNT]       (the token, if the server needs one, comes from TRUTHDB_TOKEN)
       client.py SOCKET --read-only   (a server started with 'truthdb serve --read-only')

Appends one record, then COUNT records in several Append messages sent before any reply is read,
reads everything back with a Read, follows the log with a Tail granting credit as it consumes (and
sees a record appended while it follows), asks for Stats and closes cleanly. Prints one JSON line:
what it appended (LSNs and payloads in hex) and what the Read and the Tail returned.

With --read-only: checks HelloReply's readOnly, sends an Append (which such a server refuses), reads
everything, and prints one JSON line: readOnly, the Append's error [code, message], and the Read.
"""

import json
import os
import random
import socket
import struct
import sys

import msgpack

# The multiplexer's control codes (docs/ipc-protocol.md, section 2).
OFFER, OFFER_ACCEPTED, CONTENT, WRITING_COMPLETED, TERMINATED, CONTENT_PROCESSED = 0, 1, 2, 3, 4, 5
READING_COMPLETED, WINDOW_ADJUST, WINDOW_GROWTH_REQUEST = 6, 7, 8
LOCAL, REMOTE = 1, -1               # who offered a channel, seen from the side that writes the frame
MAX_CONTENT = 20 * 1024             # most content bytes in one Content frame
DEFAULT_WINDOW = 1024 * 1024        # what we let the server send on a channel before we acknowledge

# The truthdb protocol's message types (section 3).
HELLO, APPEND, READ, TAIL, STATS = 1, 2, 3, 4, 6
RECORDS, END, CREDIT = 32, 33, 34
HELLO_REPLY, APPEND_REPLY, SUBSCRIBED, STATS_REPLY, ERROR = 64, 65, 66, 68, 127


class ProtocolError(Exception):
    pass


class Channel:
    def __init__(self, mux, channel_id, source, name, local_window):
        self.mux = mux
        self.id = channel_id
        self.source = source            # LOCAL: we offered it; REMOTE: the server did
        self.name = name
        self.local_window = local_window
        self.remote_window = None       # set by the Offer (theirs) or OfferAccepted (ours)
        self.unacknowledged = 0         # bytes we sent that the server has not processed yet
        self.accepted = source == REMOTE
        self.inbound = bytearray()
        self.remote_writing_done = False
        self.remote_reading_done = False
        self.terminated_by_remote = False
        self.terminated_by_us = False

    def write(self, data):
        """Sends bytes as Content frames of at most 20 KiB, never beyond the server's window."""
        view = memoryview(data)
        while view:
            while self.remote_window - self.unacknowledged <= 0:
                if self.terminated_by_remote or self.remote_reading_done:
                    raise ProtocolError(f"channel {self.name} is closed")
                self.mux.pump()
            size = min(len(view), MAX_CONTENT, self.remote_window - self.unacknowledged)
            self.mux.send(CONTENT, self, bytes(view[:size]))
            self.unacknowledged += size
            view = view[size:]

    def send_message(self, message_type, request_id, body):
        envelope = msgpack.packb([message_type, request_id, body], use_bin_type=True)
        self.write(struct.pack(">I", len(envelope)) + envelope)

    def read_message(self):
        """The next whole message [type, id, body], or None once the server completed its side."""
        while True:
            if len(self.inbound) >= 4:
                length = struct.unpack_from(">I", self.inbound)[0]
                if len(self.inbound) >= 4 + length:
                    message = msgpack.unpackb(bytes(self.inbound[4:4 + length]), raw=False)
                    del self.inbound[:4 + length]
                    # Processed: the server may send that many more bytes.
                    self.mux.send(CONTENT_PROCESSED, self, msgpack.packb([4 + length]))
                    return message
            if self.remote_writing_done or self.terminated_by_remote:
                if self.inbound:
                    raise ProtocolError(f"channel {self.name} ended inside a message")
                return None
            self.mux.pump()

    def complete(self):
        """We write nothing more on this channel (ContentWritingCompleted)."""
        if not self.terminated_by_us and not self.terminated_by_remote:
            self.mux.send(WRITING_COMPLETED, self)

    def close(self):
        """Waits for the server to complete its side, then terminates the channel."""
        self.complete()
        while not (self.remote_writing_done or self.terminated_by_remote):
            self.mux.pump()
        self.inbound.clear()
        self.mux.terminate(self)


class Multiplexer:
    """Nerdbank.Streams MultiplexingStream, protocol major version 3: no handshake, frames are
    MessagePack arrays [code, channelId, source, payload?] one after another on the stream."""

    def __init__(self, sock):
        self.sock = sock
        self.unpacker = msgpack.Unpacker(raw=False, max_buffer_size=64 * 1024 * 1024)
        self.channels = {}              # (id, source seen from us) -> Channel
        self.offers = {}                # name -> [Channel] offered by the server, not accepted yet
        self.last_id = 0                # our channel ids: 1, 2, 3, ...
        self.closed = False

    def send(self, code, channel, payload=b""):
        if channel.terminated_by_us and code != TERMINATED:
            return                      # nothing about a channel after our ChannelTerminated
        frame = [code, channel.id, channel.source]
        if payload:
            frame.append(payload)
        self.sock.sendall(msgpack.packb(frame, use_bin_type=True))

    def pump(self):
        """Reads and handles the frames that have arrived (blocks until at least some bytes do)."""
        data = self.sock.recv(256 * 1024)
        if not data:
            self.closed = True
            raise ProtocolError("the server closed the connection")
        self.unpacker.feed(data)
        for frame in self.unpacker:
            self.handle(frame)

    def handle(self, frame):
        code = frame[0]
        if len(frame) < 3 or frame[1] is None:
            return
        # The frame's source is the sender's view: flip it to ours.
        key = (frame[1], -frame[2])
        payload = frame[3] if len(frame) > 3 else b""
        if code == OFFER:
            name, window = msgpack.unpackb(payload, raw=False)[:2]
            channel = Channel(self, frame[1], REMOTE, name, DEFAULT_WINDOW)
            channel.remote_window = window
            self.channels[key] = channel
            self.offers.setdefault(name, []).append(channel)
            return
        channel = self.channels.get(key)
        if channel is None:
            return
        if code == OFFER_ACCEPTED:
            fields = msgpack.unpackb(payload) if payload else []
            channel.remote_window = fields[0] if fields else DEFAULT_WINDOW
            channel.accepted = True
        elif code == CONTENT:
            channel.inbound += payload
        elif code == CONTENT_PROCESSED:
            channel.unacknowledged -= msgpack.unpackb(payload)[0]
        elif code == WINDOW_ADJUST:
            channel.remote_window = max(channel.remote_window, msgpack.unpackb(payload)[0])
        elif code == WINDOW_GROWTH_REQUEST:
            # We keep our window: answering with its current size declines.
            self.send(WINDOW_ADJUST, channel, msgpack.packb([channel.local_window]))
        elif code == WRITING_COMPLETED:
            channel.remote_writing_done = True
        elif code == READING_COMPLETED:
            channel.remote_reading_done = True
        elif code == TERMINATED:
            channel.terminated_by_remote = True
            self.terminate(channel)

    def terminate(self, channel):
        """ChannelTerminated, once per channel; forgotten once both sides sent it."""
        if not channel.terminated_by_us:
            channel.terminated_by_us = True
            self.send(TERMINATED, channel)
        if channel.terminated_by_remote:
            self.channels.pop((channel.id, channel.source), None)

    def offer(self, name, window=DEFAULT_WINDOW):
        self.last_id += 1
        channel = Channel(self, self.last_id, LOCAL, name, window)
        self.channels[(channel.id, LOCAL)] = channel
        self.send(OFFER, channel, msgpack.packb([name, window], use_bin_type=True))
        while not channel.accepted:
            if channel.terminated_by_remote:
                raise ProtocolError(f"the server rejected channel {name}")
            self.pump()
        return channel

    def accept(self, name, window=DEFAULT_WINDOW):
        while not self.offers.get(name):
            self.pump()
        channel = self.offers[name].pop(0)
        channel.local_window = window
        self.send(OFFER_ACCEPTED, channel, msgpack.packb([window]))
        return channel


class Client:
    def __init__(self, path, token):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.mux = Multiplexer(self.sock)
        self.control = self.mux.offer("truthdb.control")
        self.last_id = 0
        self.replies = {}
        self.end = None                 # the body of the last End a subscription received
        self.control.send_message(HELLO, self.next_id(), [1, token, "python"])
        hello = self.reply(self.last_id)
        if hello[0] != HELLO_REPLY:
            raise ProtocolError(f"Hello refused: {hello}")
        self.max_message_size = hello[2][3]
        self.log_id = hello[2][2]
        self.read_only = len(hello[2]) > 7 and hello[2][7]     # absent: an older server, a writer's

    def next_id(self):
        self.last_id = self.last_id % 0xFFFFFFFF + 1       # 1 to 2^32-1; 0 is reserved
        return self.last_id

    def reply(self, request_id):
        """The reply to request_id; replies to other requests are kept (they come in any order)."""
        while request_id not in self.replies:
            message = self.control.read_message()
            if message is None:
                raise ProtocolError("the server closed the control channel")
            self.replies[message[1]] = message
        return self.replies.pop(request_id)

    def append_many(self, batches, durable=True):
        """Sends every batch as its own Append before reading any reply: [(firstLsn, count)] in order."""
        ids = []
        for payloads in batches:
            ids.append(self.next_id())
            self.control.send_message(APPEND, ids[-1], [payloads, durable])
        result = []
        for request_id in ids:
            message = self.reply(request_id)
            if message[0] != APPEND_REPLY:
                raise ProtocolError(f"Append {request_id} failed: {message}")
            result.append((message[2][0], message[2][1]))
        return result

    def subscribe(self, message_type, from_lsn, credit):
        request_id = self.next_id()
        self.control.send_message(message_type, request_id, [from_lsn, None, 0, 0, False, credit])
        message = self.reply(request_id)
        if message[0] != SUBSCRIBED:
            raise ProtocolError(f"subscription {request_id} refused: {message}")
        window = max(DEFAULT_WINDOW, self.max_message_size + 4)
        return request_id, message[2][1], self.mux.accept(message[2][0], window)

    def records(self, channel, request_id, limit=None):
        """Yields (lsn, payload) from a subscription channel, granting one credit per message taken."""
        seen = 0
        while limit is None or seen < limit:
            message = channel.read_message()
            if message is None:
                raise ProtocolError("the subscription channel ended without End or Error")
            if message[0] == END:
                self.end = message[2]
                return
            if message[0] != RECORDS:
                raise ProtocolError(f"on the subscription: {message}")
            first, payloads = message[2][0], message[2][1]
            for i, payload in enumerate(payloads):
                yield first + i, payload
            seen += len(payloads)
            channel.send_message(CREDIT, request_id, [1])

    def stats(self):
        request_id = self.next_id()
        self.control.send_message(STATS, request_id, [])
        return self.reply(request_id)[2]

    def close(self):
        """Clean close: complete the control channel, take the replies still coming, then hang up."""
        self.control.complete()
        while self.control.read_message() is not None:
            pass
        self.mux.terminate(self.control)
        self.sock.close()


def payloads_for(rng, count):
    sizes = [rng.choice([0, 1, 7, 100, 1000]) for _ in range(count)]
    sizes[count // 3] = 100_000      # spans several multiplexer frames and a Records message alone
    sizes[count // 2] = 70_000
    return [rng.randbytes(size) for size in sizes]


def read_only(path):
    """Against a read-only server: Append is refused with an Error, and the connection goes on."""
    client = Client(path, os.environ.get("TRUTHDB_TOKEN"))
    request_id = client.next_id()
    client.control.send_message(APPEND, request_id, [[b"refused"], True])
    refused = client.reply(request_id)
    read_id, _, channel = client.subscribe(READ, 0, 4)
    read = [[lsn, payload.hex()] for lsn, payload in client.records(channel, read_id)]
    channel.close()
    client.close()
    print(json.dumps({
        "readOnly": client.read_only,
        "appendReply": [refused[0]] + list(refused[2]),
        "read": read,
    }))


def main():
    path = sys.argv[1]
    if sys.argv[2:] == ["--read-only"]:
        read_only(path)
        return
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    client = Client(path, os.environ.get("TRUTHDB_TOKEN"))
    rng = random.Random(15)

    appended = []
    single = [b"python: one record"]
    (first, n), = client.append_many([single])
    appended.append([first, n, [p.hex() for p in single]])

    batch = payloads_for(rng, count)
    batches = [batch[i:i + 500] for i in range(0, count, 500)]
    for (first, n), payloads in zip(client.append_many(batches), batches):
        appended.append([first, n, [p.hex() for p in payloads]])
    last = appended[-1][0] + appended[-1][1] - 1

    read_id, read_start, channel = client.subscribe(READ, 0, 4)
    read = [[lsn, payload.hex()] for lsn, payload in client.records(channel, read_id)]
    read_end = client.end
    channel.close()

    tail_id, tail_start, channel = client.subscribe(TAIL, 1, 1)
    tail = [[lsn, payload.hex()] for lsn, payload in client.records(channel, tail_id, last)]
    later = [b"python: appended while the tail follows"]
    (first, n), = client.append_many([later])
    appended.append([first, n, [p.hex() for p in later]])
    tail += [[lsn, payload.hex()] for lsn, payload in client.records(channel, tail_id, 1)]
    channel.close()

    stats = client.stats()
    client.close()
    print(json.dumps({
        "logId": client.log_id,
        "appended": appended,
        "readStart": read_start,
        "read": read,
        "readEnd": read_end,
        "tailStart": tail_start,
        "tail": tail,
        "statsWrittenLsn": stats[0],
        # Fields 13 and 14 (segments, cursors) came later: a server before them sends 13 fields.
        "statsSegments": stats[13] if len(stats) > 13 else None,
        "statsCursors": stats[14] if len(stats) > 14 else None,
    }))


if __name__ == "__main__":
    main()
