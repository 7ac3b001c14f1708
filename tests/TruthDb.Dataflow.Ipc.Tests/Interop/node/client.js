// A client of the truthdb IPC protocol (docs/ipc-protocol.md) written with the nerdbank-streams npm
// package, to check the protocol is usable from it. Usage: node client.js SOCKET COUNT [TOKEN]
// Appends COUNT records (one Append message), then tails them back with a credit of 2 messages,
// granting credit as it consumes; prints one JSON line with what it saw.
'use strict';
const net = require('net');
const msgpack = require('msgpack-lite');
const { MultiplexingStream } = require('nerdbank-streams');

const [socketPath, countText, token] = process.argv.slice(2);
const count = Number(countText);

function frame(type, id, body) {
  const bytes = msgpack.encode([type, id, body]);
  const out = Buffer.alloc(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}

// Reassembles length-prefixed messages from a stream (the multiplexer delivers pieces of at most 20 KiB).
function messages(stream) {
  let pending = Buffer.alloc(0);
  const queue = [];
  const waiters = [];
  let ended = false;
  stream.on('data', chunk => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const length = pending.readUInt32BE(0);
      const message = msgpack.decode(pending.subarray(4, 4 + length));
      pending = pending.subarray(4 + length);
      if (waiters.length > 0) waiters.shift()(message); else queue.push(message);
    }
  });
  stream.on('end', () => { ended = true; while (waiters.length > 0) waiters.shift()(null); });
  return () => new Promise(resolve => {
    if (queue.length > 0) resolve(queue.shift());
    else if (ended) resolve(null);
    else waiters.push(resolve);
  });
}

async function main() {
  const socket = net.connect(socketPath);
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  const mx = await MultiplexingStream.CreateAsync(socket, { protocolMajorVersion: 3 });
  const control = await mx.offerChannelAsync('truthdb.control');
  const next = messages(control.stream);

  control.stream.write(frame(1, 1, [1, token || null, 'node']));
  const hello = await next();
  if (hello[0] !== 64) throw new Error('Hello refused: ' + JSON.stringify(hello));

  // An unknown request type gets a typed error and the connection goes on.
  control.stream.write(frame(99, 2, []));
  const unknown = await next();

  const payloads = [];
  for (let i = 0; i < count; i++) payloads.push(Buffer.from('node-' + i));
  control.stream.write(frame(2, 3, [payloads, true]));
  const appended = await next();
  if (appended[0] !== 65) throw new Error('Append failed: ' + JSON.stringify(appended));

  // Tail from the first record with a credit of 2 Records messages.
  const accepting = mx.acceptChannelAsync('truthdb.sub.4');
  control.stream.write(frame(4, 4, [appended[2][0], null, 0, 1, false, 2]));
  const subscribed = await next();
  if (subscribed[0] !== 66) throw new Error('Tail refused: ' + JSON.stringify(subscribed));
  const channel = await accepting;
  const records = messages(channel.stream);
  const seen = [];
  let messagesSeen = 0;
  while (seen.length < count) {
    const message = await records();
    if (message === null || message[0] !== 32) throw new Error('unexpected on the tail: ' + JSON.stringify(message));
    const [firstLsn, batch] = message[2];
    batch.forEach((payload, i) => seen.push([firstLsn + i, payload.toString()]));
    messagesSeen++;
    channel.stream.write(frame(34, 0, [1]));
  }

  channel.dispose();
  control.stream.write(frame(8, 5, []));
  const pong = await next();
  console.log(JSON.stringify({ unknownCode: unknown[2][0], firstLsn: appended[2][0], count: appended[2][1], durable: appended[2][2], seen, messagesSeen, pong: pong[0] }));
  mx.dispose();
  socket.destroy();
}

main().catch(error => { console.error(error && error.stack || String(error)); process.exit(1); });
