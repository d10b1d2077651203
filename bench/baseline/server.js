#!/usr/bin/env node
// A plain broadcast server with the npm package `ws`: the yardstick for skirmishd's cost per
// tick frame (see docs/benchmarks.md, "Beside a plain Node ws broadcast").
//
// It speaks just enough of the Skirmish protocol (docs/protocol.md) for skirmish-load:
//   - on connect: the `hello` captured from a real skirmishd (hello.json beside this file);
//   - `join` -> a `welcome` with the same fields as skirmishd's; `ping` -> `pong`;
//     everything else (inputs, watch, leave) is ignored;
//   - every 1000/TICK_RATE ms (drift-free: tick k is due at start + k * period), ONE tick frame
//     {"type":"tick","tick":N,"ts":<Date.now()>,"players":P,"entities":[...],"removed":[],"events":[]}
//     built once per tick and sent, the same bytes, to every open connection (spectators too,
//     as skirmishd does). Entities are full monster records padded to --frame-bytes.
// There is no game: no world, no per-client view. What is left is the broadcast itself.
//
//   node server.js [--host 127.0.0.1] [--port 0] [--frame-bytes 2048] [--tick-rate 20]
//                  [--mode ws|raw] [--soft-limit-bytes 262144]
// Each option also reads an environment variable: BASELINE_HOST, BASELINE_PORT,
// BASELINE_FRAME_BYTES, BASELINE_TICK_RATE, BASELINE_MODE, BASELINE_SOFT_LIMIT_BYTES.
//
// --mode ws  (default): ws.send(frameBuffer) per client; ws frames it (a 4-byte header in its
//            own Buffer) and writes header + payload with cork/uncork: one writev() per client.
// --mode raw: the whole WebSocket frame (header + payload) is built once per tick and written
//            straight to each client's net.Socket: one write() per client, no per-client framing.
//            The least a Node server can do per client.
//
// A client whose unsent bytes exceed --soft-limit-bytes (skirmishd's websocket.soft_limit_bytes)
// skips the frame (skirmish-load then counts missing ticks), as skirmishd does.
// It prints "listening on HOST:PORT" when ready (the line bench/run.sh waits for), serves
// GET /metrics with skirmish_tick_frames_sent_total and a few more counters, and stops on
// SIGTERM/SIGINT.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const crypto = require('crypto');
const { WebSocketServer } = require('ws');

function option(name, env, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (process.env[env] !== undefined && process.env[env] !== '') return process.env[env];
  return fallback;
}

const HOST = option('host', 'BASELINE_HOST', '127.0.0.1');
const PORT = Number(option('port', 'BASELINE_PORT', '0'));
const FRAME_BYTES = Number(option('frame-bytes', 'BASELINE_FRAME_BYTES', '2048'));
const TICK_RATE = Number(option('tick-rate', 'BASELINE_TICK_RATE', '20'));
const MODE = option('mode', 'BASELINE_MODE', 'ws');
const SOFT_LIMIT = Number(option('soft-limit-bytes', 'BASELINE_SOFT_LIMIT_BYTES', '262144'));
const MAX_CATCH_UP = 5;  // as skirmishd's game.max_catch_up_ticks: older tick debt is dropped

if (!(FRAME_BYTES > 0) || !(TICK_RATE > 0) || !['ws', 'raw'].includes(MODE)) {
  console.error('usage: server.js [--port P] [--frame-bytes B > 0] [--tick-rate HZ > 0] [--mode ws|raw]');
  process.exit(2);
}

// The hello a real skirmishd sends (captured from one at the 1,000-player world: 10000 x 10000,
// 500 monsters); keys sorted, as nlohmann writes them. Its world size goes into `welcome`.
const helloText = fs.readFileSync(path.join(__dirname, 'hello.json'), 'utf8').trim();
const hello = JSON.parse(helloText);
const helloBuffer = Buffer.from(helloText);

// ---- the tick frame

const KINDS = ['slime', 'wolf', 'ogre'];
const MAX_HP = { slime: 40, wolf: 60, ogre: 250 };
// Fixed-width numbers ("1234.5") so every record of one kind has the same length and the
// frame's size does not change from tick to tick.
function coord(v) { return (1000 + (v % 8999)) + '.' + (v % 10); }
function monster(id, tick) {
  const kind = KINDS[id % 3];
  return `{"id":${id},"kind":"${kind}","max_hp":${MAX_HP[kind]},"x":${coord(id * 37 + tick)},` +
         `"y":${coord(id * 101 + 7 * tick)},"hp":${MAX_HP[kind]},"state":"wander","facing":1.5,"score":0}`;
}

// The frame for one tick, padded to FRAME_BYTES with monsters (ids 1000...) and a last
// "player" record whose name takes the remaining bytes (the tester skips names).
function buildFrame(tick, ts, players) {
  const head = `{"type":"tick","tick":${tick},"ts":${ts},"players":${players},"entities":[`;
  const tail = '],"removed":[],"events":[]}';
  let body = '';
  let id = 1000;
  const playerRecord = (name) =>
    `{"id":1,"kind":"player","name":"${name}","max_hp":100,"x":1000.5,"y":1000.5,"hp":100,"state":"idle","facing":0,"score":0}`;
  const minPlayer = playerRecord('').length + 1;
  for (;;) {
    const next = (body ? ',' : '') + monster(id, tick);
    if (head.length + body.length + next.length + minPlayer + tail.length > FRAME_BYTES) break;
    body += next;
    id++;
  }
  const room = FRAME_BYTES - head.length - body.length - tail.length - (body ? 1 : 0) - playerRecord('').length;
  if (room >= 0) body += (body ? ',' : '') + playerRecord('n'.repeat(room));
  return Buffer.from(head + body + tail);
}

// A server-to-client text frame: FIN + opcode 1, unmasked, with the payload length.
function wsFrame(payload) {
  const n = payload.length;
  let header;
  if (n < 126) {
    header = Buffer.from([0x81, n]);
  } else if (n < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x81; header[1] = 126; header.writeUInt16BE(n, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81; header[1] = 127; header.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([header, payload]);
}

// ---- connections

const stats = { frames_sent: 0, frames_skipped: 0, ticks: 0, ticks_dropped: 0, connections: 0, players: 0,
                bytes_sent: 0, frame_bytes: 0 };
let nextPlayerId = 1;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/metrics') {
    const lines = [
      `skirmish_tick_frames_sent_total ${stats.frames_sent}`,
      `skirmish_tick_frames_skipped_total ${stats.frames_skipped}`,
      `skirmish_ticks_total ${stats.ticks}`,
      `skirmish_ticks_dropped_total ${stats.ticks_dropped}`,
      `skirmish_connections ${stats.connections}`,
      `skirmish_players ${stats.players}`,
      `baseline_tick_frame_bytes ${stats.frame_bytes}`,
      `baseline_tick_bytes_sent_total ${stats.bytes_sent}`,
    ];
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(lines.join('\n') + '\n');
    return;
  }
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
});

const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, clientTracking: true,
                                  maxPayload: 1 << 20 });

wss.on('connection', (ws) => {
  stats.connections++;
  ws.joined = false;
  ws.send(helloBuffer, { binary: false });
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    let msg;
    try { msg = JSON.parse(data); } catch { return; }
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'join' && !ws.joined) {
      ws.joined = true;
      stats.players++;
      // skirmishd's welcome, keys sorted like nlohmann's.
      ws.send(JSON.stringify({
        id: nextPlayerId++, protocol: 1, resumed: false, tick_rate: TICK_RATE,
        token: crypto.randomBytes(16).toString('hex'), type: 'welcome', view_radius: hello.view_radius,
        world: { height: hello.world.height, width: hello.world.width },
      }));
    } else if (msg.type === 'ping') {
      ws.send(JSON.stringify({ server_ts: Date.now(), t: msg.t, type: 'pong' }));
    }
    // input, watch, leave: ignored.
  });
  ws.on('close', () => {
    stats.connections--;
    if (ws.joined) stats.players--;
  });
  ws.on('error', () => {});
});

// ---- the tick loop: tick k is due at start + k * period, whatever the previous ones cost

const periodMs = 1000 / TICK_RATE;
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
let tick = 0;
let startMs = 0;
let due = 0;  // the index of the next tick to run, counted from startMs

function broadcast() {
  tick++;
  stats.ticks++;
  const payload = buildFrame(tick, Date.now(), stats.players);
  stats.frame_bytes = payload.length;
  const frame = MODE === 'raw' ? wsFrame(payload) : null;
  for (const ws of wss.clients) {
    if (ws.readyState !== 1) continue;
    if (ws.bufferedAmount > SOFT_LIMIT) { stats.frames_skipped++; continue; }
    if (frame) {
      ws._socket.write(frame);
      stats.bytes_sent += frame.length;
    } else {
      ws.send(payload, { binary: false });
      stats.bytes_sent += payload.length;
    }
    stats.frames_sent++;
  }
}

// One tick per timer callback: when behind, the next one is re-armed at once (setTimeout's
// 1 ms minimum), so the loop polls sockets (accepts, joins) between owed ticks, as skirmishd's
// TickDriver does since it stopped re-arming with 0 ms.
function onTimer() {
  const owed = Math.floor((nowMs() - startMs) / periodMs) - due + 1;  // ticks due now
  if (owed > MAX_CATCH_UP) {
    stats.ticks_dropped += owed - MAX_CATCH_UP;
    due += owed - MAX_CATCH_UP;
  }
  if (owed > 0) {
    broadcast();
    due++;
  }
  schedule();
}

function schedule() {
  const delay = Math.max(0, Math.ceil(startMs + due * periodMs - nowMs()));
  timer = setTimeout(onTimer, delay);
}

let timer = null;
// Backlog 1024, as skirmishd's listen() (Node's default is 511).
server.listen({ port: PORT, host: HOST, backlog: 1024 }, () => {
  const a = server.address();
  console.log(`skirmish-baseline (node ${process.version}, ws ${require('ws/package.json').version}) ` +
              `listening on ${a.address}:${a.port} (tick rate ${TICK_RATE} Hz, frame ${buildFrame(1, Date.now(), 0).length} bytes, mode ${MODE})`);
  startMs = nowMs();
  due = 1;
  schedule();
});

function stop() {
  clearTimeout(timer);
  console.log(`stopping: ${JSON.stringify(stats)}`);
  for (const ws of wss.clients) ws.close(1001);
  server.close();
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
