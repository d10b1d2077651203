// Wires the pieces together: transport -> store -> (prediction, effects, HUD) -> canvas,
// and controls -> `input` messages. One requestAnimationFrame loop draws everything.
// The transport (net.js) is a WebSocket, or HTTP long polling where WebSocket is blocked,
// or whatever `?transport=ws|longpoll|poll` asks for; nothing here depends on which (nor on
// whether a WebSocket's ticks come as v2 binary or, with `?protocol=json`, as v1 JSON).
// A server with several worlds: the join card lists them (worlds.js); a chosen one pins the
// connection to it (`?world=NAME` in the page's URL does the same), "Place me" lets the
// server place us, and may move us to another world when we join (a new hello, then welcome).
// A fleet of processes (issue 16): Play with "Place me" asks POST /place, which names a world
// with room and the URL to connect to (maybe another process's, with a seat reserved for us):
// the page connects there and joins; an older server (404/405) or a network error: as before.
// The list may hold other processes' worlds too; picking one connects to its URL. Wherever
// the player was sent, reconnects go back to that URL (a reload too: the session keeps it),
// and the join carries its token; if that process stays unreachable, the page comes back to
// its own server, and the token brings the player back there when the fleet knows it.

import { createTransport, transportFromUrl, wireFromUrl, worldFromUrl, defaultUrl, isPageServer, CLOSE_GOING_AWAY } from './net.js';
import {
  state, on, me, setConnection, setTransport, setWire, applyHello, applyWelcome, applyLeft, applyPong, applyTick, exposeForTests,
} from './state.js';
import { loadSession, saveSession } from './session.js';
import { Controls } from './input.js';
import { Predictor } from './predict.js';
import { Effects } from './fx.js';
import { Renderer } from './render.js';
import { Hud } from './hud.js';
import { Minimap } from './minimap.js';
import { afterYou } from './threat.js';
import { clipName } from './player_name.js';
import { WorldPicker, isElsewhere, requestPlacement, whereLabel } from './worlds.js';

const PING_MS = 2000;
const INPUT_REPEAT_MS = 100;  // movement is held server-side; repeat it at 10 Hz anyway
// No tick this long past the transport's own lag: the server stalls (its world stands still),
// and your prediction stops rather than walk on through it and snap back (7 ticks at 20 Hz:
// a late frame or two is not a stall). Past QUIET_SHOWN_MS the HUD says so.
const STALL_MS = 350;
const QUIET_SHOWN_MS = 1000;
const RESTART_SHOWN_MS = 60000;  // "the server is restarting" stays this long through failed tries
const INPUT_MIN_GAP_MS = 50;  // never more than 20 inputs/s (the server takes 4 per tick)
const WATCH_PAN_SPEED = 500;  // units/s for spectators panning with the keys
const WATCH_MIN_GAP_MS = 100;
const SENT_TO_DOWNS = 2;      // drops in a row on a placement's (or another process's) URL before giving it up

const $ = (id) => document.getElementById(id);
const session = loadSession();
const predictor = new Predictor();
const fx = new Effects();
const hud = new Hud();
const renderer = new Renderer($('game'));
const minimap = new Minimap($('minimap'));
const touchLayer = $('touch');
const controls = new Controls({
  canvas: $('game'), stick: $('stick'), knob: $('stick-knob'), attackButton: $('touch-attack'), onLetGo: stopInputNow,
});
exposeForTests({ fx, predictor, shieldMs: () => Math.max(0, shieldedUntil - performance.now()) });
const picker = new WorldPicker({
  fieldset: $('worlds'), list: $('world-list'), choice: worldFromUrl(),
  onChoose: switchWorld, onList: worldsListed,
});
let goingAwayAt = -Infinity;  // when the server last closed us with 1001 (the banner: RESTART_SHOWN_MS)
let joinPending = false;  // a join went out on this connection and its welcome (or error) has not come
let connStarted = false;  // conn.connect() was called (startConnection, at the end)
// Where the connection goes when not where the picker says: a placement being followed (POST
// /place's answer: {world, url, seat, process, local}; its seat stays in the URL until the
// join has used it), another process's world picked from the list, or (after a reload) the
// process our player was sent to. null: the picker's choice (a local world, or "Place me").
let sentTo = session.playing && session.at ? { ...session.at, seat: null, local: false } : null;
let sentToDowns = 0;      // drops in a row while connecting to sentTo
let placing = false;      // a POST /place is on its way: a hello meanwhile does not join
let placements = 0;       // numbers each placeAndJoin: only the latest goes on after its awaits
let refusedFull = false;   // this Play was refused server_full where we were sent: placed afresh once

// ---------------------------------------------------------------- connection

const conn = createTransport(transportFromUrl(), {
  onKind(kind) {
    setTransport(kind);
    state.timelines.extraDelayMs = batchDelayMs();
  },
  onOpen(wasReconnect) {
    sentToDowns = 0;
    // Polling talks to our own server only (net.js): the process we were sent to is not reached.
    if (sentTo && !sentTo.local && conn.kind !== 'ws') forgetPlacement();
    setTransport(conn.kind);
    setWire(conn.wire);
    state.timelines.extraDelayMs = batchDelayMs();
    if (wasReconnect) state.reconnects++;
    joinPending = false;  // a join sent on an earlier connection is answered there or never
    state.downCode = null;
    setConnection('open');
    ping();  // warms the connection up: its answer is not counted (state.js)
    setTimeout(ping, 300);
  },
  onMessage: handleMessage,
  // Any close not fatal (net.js), 1013 included: the server dropped a client that read too
  // slowly. The transport retries with backoff; the next hello rejoins with our token.
  onDown(code) {
    state.joined = false;
    joinPending = false;
    // Another process we were sent to that stays unreachable (killed?): the next retry goes
    // to our own server instead; the join's token brings the player back where it can. Our
    // own server's placement likewise (restarted with fewer worlds?): unpinned, it places us,
    // and the token finds the player in whichever world it is.
    if (sentTo && ++sentToDowns >= SENT_TO_DOWNS) {
      if (!sentTo.local) console.info(`skirmish: ${sentTo.url} is unreachable; connecting to this page's server instead`);
      forgetPlacement();
    }
    // Is the world we ask for still there? (worldsListed; not while our own server is down)
    if (picker.choice || (sentTo && !sentTo.local)) picker.refresh();
    // A server that said it is restarting (1001) is still restarting while the tries that
    // follow fail (for a minute at most): the banner keeps saying so, not "connection lost".
    const restarting = state.downCode === CLOSE_GOING_AWAY && performance.now() - goingAwayAt < RESTART_SHOWN_MS;
    if (!restarting) state.downCode = code ?? null;
    if (code === CLOSE_GOING_AWAY) goingAwayAt = performance.now();
    setConnection('reconnecting', 0);
  },
  onRetryScheduled(at) {
    setConnection('reconnecting', at);
  },
  onFatal(code) {
    state.joined = false;
    setConnection('closed');
    console.warn(`skirmish: the server closed the connection with code ${code}; not reconnecting`);
  },
}, {
  watchPoint: () => state.spectator,
  wire: wireFromUrl(),
  endpoint,
});
setTransport(conn.kind);

// How long monsters leave a player alone after it (re)spawns or resumes (hello's player rules;
// 0 from a server that does not say), and until when ours is so: a shield ring shows it.
let protectionMs = 0, shieldedUntil = -Infinity;

// Marks the monsters that are after your player (a red "!"; the others' is amber): see threat.js.
// Everything as of the newest tick (the server's positions, with the state and facing they go
// with), not as drawn: the drawing shows others a little in the past and you predicted ahead.
function markThreats(items, now) {
  const mine = items.find((it) => it.isMe && it.e.state !== 'dead');
  const others = items.filter((it) => !it.isMe && it.e.kind === 'player' && it.e.state !== 'dead' && !it.e.away).map((it) => it.e);
  for (const it of items) {
    if (it.e.kind !== 'player') it.afterMe = afterYou(it.e, it.e, mine ? mine.e : null, others, state.hitMeAt.get(it.e.id), now);
  }
}

// Ticks fetched in batches (short polling) are drawn that much later, to stay smooth: the
// batch's lag plus a margin for the request's own time and late timers, so that a batch a
// little late does not leave the world standing still and then jumping ahead.
function batchDelayMs() {
  return conn.deliveryLagMs ? conn.deliveryLagMs + 250 : 0;
}

function handleMessage(msg) {
  switch (msg.type) {
    case 'hello':
      applyHello(msg);
      noteServer();
      fx.clear();
      hud.clearFeed();
      predictor.reset(null, null);
      predictor.setSpeed(msg.player?.speed);
      protectionMs = msg.player?.spawn_protection_ms ?? 0;
      updateStatsLink();
      // Our join moved us to another world (its hello, on this connection): the welcome follows.
      if (joinPending) break;
      // Resume: a reconnect, a restarted server or a reloaded tab all land here. A tab whose
      // player was taken over stays a spectator until it says otherwise. (While a placement is
      // asked for, the join waits for it: it goes where the answer sends us.)
      if (placing) conn.send({ type: 'watch', x: state.spectator.x, y: state.spectator.y });
      else if (session.playing && session.name && state.mode !== 'taken') sendJoin();
      else conn.send({ type: 'watch', x: state.spectator.x, y: state.spectator.y });
      break;
    case 'welcome':
      joinPending = false;
      applyWelcome(msg);
      resetLeave();  // a new or resumed player: a question asked of the last one is void
      shieldedUntil = performance.now() + protectionMs;  // joined or resumed: monsters leave us be
      seatUsed();
      // Pinned to one world, our player lives in another (a token brings it back where it
      // is): follow it, so that reconnecting goes straight there.
      if (sentTo) {
        if (state.worldName && state.worldName !== sentTo.world) {
          sentTo = { ...sentTo, world: state.worldName, url: withParam(sentTo.url, 'world', state.worldName) };
        }
      } else if (picker.choice && state.worldName && state.worldName !== picker.choice) {
        picker.setChoice(state.worldName);
        setUrlWorld(state.worldName);
      }
      updateStatsLink();
      // We asked for our player back and got a new one: away past the reconnect window, or a
      // server that restarted without it. Say so, rather than a score back at 0 unexplained.
      if (session.token && msg.resumed === false) {
        hud.addNote('Your player was gone (away too long, or the server restarted): you start afresh.', performance.now());
      }
      refusedFull = false;
      session.token = msg.token;
      session.playing = true;
      // Another process: a reload goes back there (session.js).
      session.at = sentTo && !sentTo.local ? { url: sentTo.url, world: sentTo.world, process: sentTo.process || null } : null;
      saveSession(session);
      predictor.reset(null, null);
      forgetInputs();
      showPrompt(false);
      break;
    case 'tick': {
      const mine = (msg.entities || []).find((e) => e.id === state.myId && (e.x !== undefined || e.y !== undefined));
      applyTick(msg);
      if (msg.ack) inputAck = msg.ack;
      const m = me();
      if (mine && m) reconcile(msg, m);
      break;
    }
    case 'pong':
      applyPong(msg);
      break;
    case 'error': {
      const answersJoin = joinPending;
      joinPending = false;
      if (answersJoin) seatUsed();  // a seat is good for one join: a new Play asks /place again
      handleError(msg, answersJoin);
      break;
    }
    default:
      break;  // a newer server's message: ignore
  }
}

function handleError(msg, answersJoin = false) {
  // `not_joined` while we think we play: over HTTP polling that is how a player taken over
  // elsewhere shows (the session's `session_taken` never reaches it), so treat it the same.
  if ((msg.code === 'session_taken' || (msg.code === 'not_joined' && state.joined)) && session.token) {
    // Another tab (a duplicated one shares sessionStorage) holds this player now: say so,
    // and let this tab take it back or watch. Quietly becoming a new player would lose it.
    showTaken();
  } else if (msg.code === 'server_full' && answersJoin && sentTo && !picker.choice && state.mode === 'play' && !refusedFull) {
    // Where we were placed (our player's world, before it was gone: away past the reconnect
    // window) has filled since: ask for a place afresh, once, rather than keep knocking there.
    // The token goes along: wherever its player still is, it comes back; else a new one (and
    // the welcome says so).
    refusedFull = true;
    forgetPlacement();
    placeAndJoin();
  } else if (msg.code === 'server_full' || (msg.code === 'bad_field' && !state.joined && session.playing)) {
    session.playing = false;
    saveSession(session);
    state.mode = 'prompt';
    showPrompt(true, msg.code !== 'server_full' ? msg.message
      : picker.choice ? `${chosenName()} is full right now. Pick another world, try again in a moment, or watch.`
        : 'The server is full right now. Try again in a moment, or watch.');
  } else if (msg.code !== 'already_joined' && msg.code !== 'not_joined') {
    console.warn(`skirmish: server error ${msg.code}: ${msg.message}`);
    if (answersJoin && !state.joined && state.mode === 'play') {
      // Our join was refused for a reason we do not know (a seat that expired?): say so, and
      // let Play try again rather than wait for a welcome that will not come.
      session.playing = false;
      saveSession(session);
      state.mode = 'prompt';
      showPrompt(true, `Could not join: ${msg.message || msg.code}. Try again, or watch.`);
    }
  }
}

// Our position in a tick frame is where the server had us after its step of that tick. The
// frame's `ack` says our last input the server had applied then, and the tick of the first
// step that moved us with it: so the position stands for the moment our own motion with that
// input began, plus that many steps of motion. The round trip, the wait for the tick and a
// transport's delivery lag all drop out.
function reconcile(msg, m) {
  const tickMs = 1000 / state.tickRate;
  const now = performance.now();
  const began = inputAck ? inputStarts.get(inputAck.seq) : undefined;
  if (began !== undefined && msg.tick >= inputAck.tick) {
    const then = began + (msg.tick - inputAck.tick + 1) * tickMs;
    // (Older than our history: standing still since, and settle() takes over.)
    if (then >= now - 1500) predictor.reconcileAt(m.x, m.y, then);
    return;
  }
  predictor.reconcile(now, m.x, m.y, reconcileLag(msg), tickMs);
}

// Without an ack (an older server), the predictor compares a server position with where we
// were about one round trip ago. Short polling hands over ticks up to a second after they
// were made: there the tick's own age (its `ts` on the server's clock, offset measured by
// the pings) says how long ago.
function reconcileLag(msg) {
  if (!conn.deliveryLagMs || typeof msg.ts !== 'number' || state.clockOffsetMs == null) return state.rttMs;
  const age = Math.max(0, Date.now() + state.clockOffsetMs - msg.ts);
  return age + (state.rttMs ?? 0) / 2 - 500 / state.tickRate;
}

function showTaken() {
  const m = me();
  if (m) state.spectator = { x: m.x, y: m.y };  // keep looking where we were
  applyLeft();
  predictor.reset(null, null);
  state.mode = 'taken';
  session.playing = false;  // a reload of this tab must not take it back without asking
  saveSession(session);
  controls.releaseAll();
  controls.enabled = false;
  $('overlay').hidden = true;
  picker.polling(false);
  $('taken').hidden = false;
  syncBackdrop();
  conn.send({ type: 'watch', x: Math.round(state.spectator.x), y: Math.round(state.spectator.y) });
  setTimeout(() => $('take-back').focus(), 0);
}

// "Take it back": join with the same token. The server gives the player to this tab and
// tells the other one, which then shows this same choice.
$('take-back').addEventListener('click', () => {
  $('taken').hidden = true;
  syncBackdrop();
  session.playing = true;
  saveSession(session);
  state.mode = 'play';
  controls.enabled = true;
  if (conn.isOpen) sendJoin();  // else: sent on the next hello
});
// "Watch": a spectator that keeps nothing; Play asks for a name and makes a new player.
$('taken-watch').addEventListener('click', () => {
  $('taken').hidden = true;
  syncBackdrop();
  session.token = null;
  session.at = null;
  session.playing = false;
  saveSession(session);
  state.mode = 'watch';
  showPrompt(false);
});

function sendJoin() {
  const join = { type: 'join', name: session.name };
  if (session.token) join.token = session.token;
  if (conn.send(join)) joinPending = true;
}

// ---------------------------------------------------------------- worlds

// Where the transport connects (read at each connect; net.js): {world, url} or null.
function endpoint() {
  if (sentTo) return { world: sentTo.world, url: sentTo.url };
  return isLocalKey(picker.choice) ? { world: picker.choice } : null;
}

// The picker's key of one of our own worlds (its name; another process's world is keyed by its URL).
function isLocalKey(key) {
  return !!key && !key.includes('://');
}

// The name of the world picked on the card (a key is a local world's name, another's URL).
function chosenName() {
  const w = picker.world(picker.choice);
  return w ? w.name : picker.choice;
}

// The player picked a world (or "Place me") on the join card: watch it at once, on a new
// connection pinned to it (or placed by the server); Play then joins there. Another
// process's world: its URL (the page's `?world=` names our own worlds only).
function switchWorld(key) {
  const w = picker.world(key);
  sentTo = isElsewhere(w) ? { world: w.name, url: w.url, seat: null, process: w.process == null ? null : String(w.process), local: false } : null;
  sentToDowns = 0;
  setUrlWorld(sentTo ? null : key);
  if (!connStarted) return;  // the first connect asks endpoint() itself
  $('join-error').hidden = true;
  state.joined = false;
  joinPending = false;
  setConnection('connecting');
  conn.reconnect();
}

// Play with "Place me": POST /place says where (maybe another process, with a seat held for
// us a few seconds); connect there, and the hello joins (where we already are: join now). 503: every world is full. An older
// server (no `fleet` in /worlds, or /place answers 404 or 405) or no answer: join where we
// are, the server places us as before.
async function placeAndJoin() {
  const placement = ++placements;
  placing = true;
  let answer;
  try {
    // Only a server whose /worlds speaks of a fleet has /place: an older one is not asked
    // (its 404 or 405 would only be logged by the browser as an error).
    const doc = picker.doc || await picker.refresh();
    answer = doc && doc.fleet ? await requestPlacement() : { kind: 'unsupported' };
  } finally {
    if (placement === placements) placing = false;
  }
  // Play, Watch and Play again while the first placement was on its way: the second one
  // decides (two going on would hold two seats and connect twice).
  if (placement !== placements) return;
  if (picker.choice) {
    // The player picked a world meanwhile (its connection's hello did not join): join there.
    if (state.mode === 'play' && session.playing && conn.isOpen && !state.joined && !joinPending) sendJoin();
    return;
  }
  if (state.mode !== 'play' || !session.playing) return;  // the player went to watch meanwhile
  if (answer.kind === 'full') {
    session.playing = false;
    saveSession(session);
    state.mode = 'prompt';
    showPrompt(true, 'Every world is full right now. Try again in a moment, or watch.');
    return;
  }
  if (answer.kind !== 'placed') {
    if (conn.isOpen) sendJoin();  // else: sent on the next hello
    return;
  }
  const at = answer.at;
  // Our own process: the page's own origin reaches it (the answer's host may be a name this
  // browser does not use, e.g. localhost); its path and query (world, seat) as given.
  let url = at.url;
  if (at.local) {
    const u = new URL(at.url);
    url = defaultUrl(u.pathname + u.search);
  }
  sentTo = { ...at, url };
  sentToDowns = 0;
  // Our own server already shows us that world (it placed this connection there): join on it
  // rather than reconnect for nothing; later connects go to the placement's URL. A seat is
  // redeemed only by connecting with it.
  if (at.local && at.seat == null && conn.isOpen && isPageServer(conn.connectedUrl || '') && state.worldName === at.world) {
    sendJoin();
    return;
  }
  state.joined = false;
  joinPending = false;
  setConnection('connecting');
  if (connStarted) conn.reconnect();
  else startConnection();
}

// The join went out on the seat's connection and was answered: the seat is used (or refused);
// reconnects go to the same world without it.
function seatUsed() {
  if (sentTo && sentTo.seat != null) {
    sentTo = { ...sentTo, seat: null, url: withParam(sentTo.url, 'seat', null) };
  }
}

// The process (or our own world) we were sent to is gone or unreachable: our own server
// from now on, placing us.
function forgetPlacement() {
  sentTo = null;
  sentToDowns = 0;
  if (picker.choice && !isLocalKey(picker.choice)) picker.setChoice(null);  // it was picked from the list: "Place me" now
  if (session.at) {
    session.at = null;
    saveSession(session);
  }
}

// Where the new connection (its hello) is: the HUD names another process's host.
function noteServer() {
  const url = conn.connectedUrl;
  state.serverUrl = url;
  state.worldWhere = url && !isPageServer(url) ? whereLabel({ url, process: sentTo && sentTo.process }) : null;
}

/** `url` with its query parameter `name` set to `value` (removed for null). */
function withParam(url, name, value) {
  try {
    const u = new URL(url);
    if (value == null) u.searchParams.delete(name);
    else u.searchParams.set(name, value);
    return u.toString();
  } catch {
    return url;
  }
}

// A fresh /worlds answer: the tagline, the HUD (a world's name only where there are several),
// and a pinned world that is not there (a stale link): let the server place us instead.
function worldsListed(doc) {
  state.worldCount = doc ? doc.worlds.length : null;
  const processes = doc && doc.fleet && doc.fleet.processes > 1 ? doc.fleet.processes : 0;
  $('tagline').textContent = doc && doc.worlds.length > 1
    ? `A realtime monster fight. ${processes ? `${processes} servers run` : 'This server runs'} ${doc.worlds.length} worlds: pick one, or let ${processes ? 'them' : 'it'} place you.`
    : 'A realtime monster fight. Everyone on this server shares the same world.';
  if (doc && picker.choice && !picker.has(picker.choice)) {
    const gone = sentTo && sentTo.url === picker.choice ? `${sentTo.world} @ ${whereLabel(sentTo)}` : picker.choice;
    picker.setChoice(null);
    switchWorld(null);
    if (!$('overlay').hidden) {
      $('join-error').textContent = `There is no world "${gone}" on this server: it will place you.`;
      $('join-error').hidden = false;
    }
  } else if (doc && sentTo && !sentTo.local && !sentTo.seat && doc.fleet && doc.fleet.redis === 'up' &&
             !doc.worlds.some((w) => isElsewhere(w) && sameWorld(w.url, sentTo.url))) {
    // The fleet no longer lists the process we were sent to (it died): the next connect goes
    // to our own server (the token brings the player back there, from the fleet's records).
    forgetPlacement();
  }
  updateStatsLink();
}

// Two world URLs name the same world of the same process (a seat or the order of the query aside).
function sameWorld(a, b) {
  try {
    const u = new URL(a), v = new URL(b);
    return u.host === v.host && u.pathname === v.pathname && u.searchParams.get('world') === v.searchParams.get('world');
  } catch {
    return false;
  }
}

// The page's own URL says which world it is pinned to, so that a reload stays there.
function setUrlWorld(name) {
  const u = new URL(location.href);
  if (name) u.searchParams.set('world', name);
  else u.searchParams.delete('world');
  history.replaceState(history.state, '', u);
}

// "server stats" opens the charts of the world we are in (on its process's server).
function updateStatsLink() {
  const name = state.worldCount !== 1 || state.worldWhere ? state.worldName : null;
  let base = '';
  if (state.worldWhere && state.serverUrl) {
    const u = new URL(state.serverUrl);
    base = `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}/`;
  }
  $('stats-link').href = name ? `${base}stats.html?world=${encodeURIComponent(name)}` : `${base}stats.html`;
}

function ping() {
  conn.send({ type: 'ping', t: performance.timeOrigin + performance.now() });
}
setInterval(ping, PING_MS);

on('event', (ev) => {
  fx.add(ev, state.timelines.timeOf(state.lastTick), { myId: state.myId, entities: state.entities });
  // Spawn protection, as the server keeps it: from a respawn, until it runs out or we attack.
  if (ev.type === 'respawn' && ev.target === state.myId) shieldedUntil = performance.now() + protectionMs;
  // A hit of ours ends it; a hit on us says it has ended (a frame after a long gap may not
  // carry our own hit any more).
  if (ev.type === 'attack' && (ev.attacker === state.myId || ev.target === state.myId)) shieldedUntil = -Infinity;
  if (ev.type === 'death') hud.addKill(ev, performance.now());
});

addEventListener('online', () => conn.retryNow());

// ---------------------------------------------------------------- help and network toggles

function toggle(button, panel, show = panel.hidden) {
  panel.hidden = !show;
  button.setAttribute('aria-expanded', String(show));
}
// Opened from the keyboard (Enter: a click with no pointer, detail 0), focus goes into the help
// and back to its button when it closes, as a dialog's would (it fell to the page: a play-test).
// With the mouse it goes nowhere: Space must attack, not press the button again.
$('help-toggle').addEventListener('click', (e) => {
  toggle($('help-toggle'), $('help'));
  if (e.detail !== 0) e.currentTarget.blur();
  else if (!$('help').hidden) $('help-close').focus();
});
$('help-close').addEventListener('click', (e) => closeHelp(e.detail === 0));
/** Closes the help; focus inside it (or asked for) goes back to its button, not to the page. */
function closeHelp(refocus = false) {
  const had = $('help').contains(document.activeElement);
  toggle($('help-toggle'), $('help'), false);
  if (had || refocus) $('help-toggle').focus();
}
// A touch outside the open help closes it: on a phone the panel covers its own "?" button
// (play-test: only "close ✕" worked). The touch that closes it does nothing else.
let helpClosedByTouchAt = -Infinity;
addEventListener('pointerdown', (e) => {
  if (e.pointerType !== 'touch' || $('help').hidden || $('help').contains(e.target) || $('help-toggle').contains(e.target)) return;
  e.preventDefault();
  e.stopPropagation();
  helpClosedByTouchAt = performance.now();
  closeHelp();
}, { capture: true });
// ... nor the click that follows it (a button under the finger).
addEventListener('click', (e) => {
  if (performance.now() - helpClosedByTouchAt < 700) {
    helpClosedByTouchAt = -Infinity;
    e.preventDefault();
    e.stopPropagation();
  }
}, { capture: true });
$('net-toggle').addEventListener('click', (e) => {
  toggle($('net-toggle'), $('net'));
  e.currentTarget.blur();
});
addEventListener('keydown', (e) => {
  const t = e.target;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
  const helpKey = e.code === 'KeyH' || e.key === '?';
  if (helpKey && $('help').hidden) toggle($('help-toggle'), $('help'), true);
  else if (helpKey || e.code === 'Escape') closeHelp();
});
$('banner-retry').addEventListener('click', () => conn.retryNow());

// ---------------------------------------------------------------- name prompt

const form = $('join-form');
const nameInput = $('name');
nameInput.value = session.name;
// The limit shows as you type (24 characters in any script), not as a cut after joining.
// Not while an input method composes (Chinese, Japanese): changing the field then breaks it.
const fitName = () => {
  const fitted = clipName(nameInput.value);
  if (fitted !== nameInput.value) nameInput.value = fitted;
};
nameInput.addEventListener('input', (e) => { if (!e.isComposing) fitName(); });
nameInput.addEventListener('compositionend', fitName);

// While a card is up (the join card, the take-over question), what is behind it takes no
// focus and no clicks: Tab stays in the card, Enter cannot toggle a panel nobody sees. (The
// connection banner stays live: its Retry is wanted whatever is shown.)
function syncBackdrop() {
  const carded = !$('overlay').hidden || !$('taken').hidden;
  for (const el of [$('game'), $('stats'), $('help'), $('me-panel'), $('watch-panel'), $('touch'), document.querySelector('.side')]) {
    el.inert = carded;
  }
}

function showPrompt(show, error = '') {
  $('overlay').hidden = !show;
  syncBackdrop();
  picker.polling(show);
  controls.enabled = !show;
  $('join-error').hidden = !error;
  $('join-error').textContent = error;
  $('play').disabled = false;
  $('play').textContent = 'Play';
  if (show) {
    controls.releaseAll();
    setTimeout(() => nameInput.focus(), 0);
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const name = clipName(nameInput.value.replace(/[\u0000-\u001f\u007f]/g, '').trim());
  if (!name) {
    showPrompt(true, 'Pick a name first.');
    return;
  }
  if (name !== session.name) session.token = null;  // a token is for the name's old player
  session.name = name;
  session.playing = true;
  saveSession(session);
  state.mode = 'play';
  refusedFull = false;
  $('play').disabled = true;  // re-enabled by welcome (or an error)
  $('play').textContent = conn.isOpen ? 'Joining…' : 'Connecting…';
  // "Place me" for a new player: the server (the fleet) says where. A token brings its
  // player back wherever it is: join where we are.
  if (!picker.choice && !session.token) placeAndJoin();
  else if (conn.isOpen) sendJoin();  // else: sent on the next hello
  nameInput.blur();
});

$('watch').addEventListener('click', () => {
  state.mode = 'watch';
  showPrompt(false);
});
$('watch-play').addEventListener('click', () => {
  state.mode = 'prompt';
  showPrompt(true);
});
// "leave" ends your player and its score: the first click (a stray thumb, on a phone held
// sideways it sits between the stick and the sword) only asks; a second within 3 s leaves.
const LEAVE_CONFIRM_MS = 3000;
let leaveAskedAt = -Infinity, leaveAskTimer = null;
function resetLeave() {
  leaveAskedAt = -Infinity;
  clearTimeout(leaveAskTimer);
  $('leave').textContent = 'leave';
  $('leave').classList.remove('confirm');
}
$('leave').addEventListener('click', () => {
  if (performance.now() - leaveAskedAt > LEAVE_CONFIRM_MS) {
    leaveAskedAt = performance.now();
    $('leave').textContent = 'sure? leave';
    $('leave').classList.add('confirm');
    clearTimeout(leaveAskTimer);
    leaveAskTimer = setTimeout(resetLeave, LEAVE_CONFIRM_MS);
    $('leave').blur();  // Enter or Space next must not be the second click
    return;
  }
  resetLeave();
  const m = me();
  if (m) state.spectator = { x: m.x, y: m.y };
  conn.send({ type: 'leave' });
  conn.send({ type: 'watch', x: state.spectator.x, y: state.spectator.y });
  applyLeft();
  session.playing = false;
  session.token = null;
  session.at = null;
  saveSession(session);
  state.mode = 'prompt';
  showPrompt(true);
  $('leave').blur();
});

if (session.playing && session.name) {
  state.mode = 'play';  // a reload of a playing tab: rejoin without asking
  showPrompt(false);
  picker.refresh();  // how many worlds (the HUD names ours only where there are several)
} else {
  showPrompt(true);
}

// ---------------------------------------------------------------- controls -> server

let lastInput = { move: [0, 0], attack: false };
let lastInputAt = -Infinity;
let lastChangeAt = -Infinity;
let moveBegan = null;  // when our predicted motion with the movement we last sent began
let inputSeq = 0;
// When our predicted motion with each recent input began (seq -> performance.now() time),
// and the server's word on the last one it applied ({seq, tick}, from tick frames).
const inputStarts = new Map();
let inputAck = null;

function forgetInputs() {
  inputStarts.clear();
  inputAck = null;
  moveBegan = null;  // the server's movement starts afresh with a new player
  predictor.forgetMoves();
}
let lastWatch = { x: NaN, y: NaN, at: -Infinity };

// `began`: when this frame's step of the predictor starts (the previous frame's time): the
// predictor moves with what we send from then on, as the server will from its next step.
function pumpInput(now, move, began) {
  if (!state.joined || !conn.isOpen) {
    controls.takePulse();  // a click while not playing (watching) is no attack once we play
    return;
  }
  const attack = controls.attackHeld || controls.pulse;
  const changed = move[0] !== lastInput.move[0] || move[1] !== lastInput.move[1] || attack !== lastInput.attack;
  const active = move[0] !== 0 || move[1] !== 0 || attack;
  // Changes go at once (at most one per INPUT_MIN_GAP_MS), whatever repeats went before them;
  // a held control is repeated every INPUT_REPEAT_MS.
  const due = changed ? now - lastChangeAt >= INPUT_MIN_GAP_MS : active && now - lastInputAt >= INPUT_REPEAT_MS;
  if (!due) return;
  controls.takePulse();
  // A repeat of the movement we hold keeps its start: the server acknowledges it with the tick
  // that movement began at, not a new one.
  if (moveBegan == null || move[0] !== lastInput.move[0] || move[1] !== lastInput.move[1]) {
    moveBegan = began;
    predictor.noteMove(began, move);
  }
  lastInput = { move, attack };
  lastInputAt = now;
  if (changed) lastChangeAt = now;
  conn.send({ type: 'input', seq: ++inputSeq, move, attack });
  inputStarts.set(inputSeq, moveBegan);
  if (inputStarts.size > 64) inputStarts.delete(inputStarts.keys().next().value);
}

// The window lost focus, or the page went out of sight (another tab or app, or going): the
// controls were let go (input.js calls this) and the stop goes out now, not at the next
// animation frame, which a hidden tab does not get: the server keeps the last movement until
// it hears otherwise.
function stopInputNow() {
  if (state.mode !== 'play') return;
  if (lastInput.move[0] === 0 && lastInput.move[1] === 0 && !lastInput.attack) return;
  const now = performance.now();
  lastChangeAt = -Infinity;  // not held back by the gap between changes
  pumpInput(now, [0, 0], now);
}
// The page is going (closed, reloaded, or into the back-forward cache): our player stays,
// away, for this tab (or its reload) to take back with its token; a page shown again from
// the cache connects again. (The controls' own pagehide listener, added before this one,
// has sent the stop.)
addEventListener('pagehide', () => conn.leavePage());
addEventListener('pageshow', (e) => {
  // (Not before the first connect, which is on its way; not after the server said never.)
  if (e.persisted && connStarted && state.connection !== 'closed') conn.connect();
});

function panSpectator(now, dt, move) {
  if (move[0] === 0 && move[1] === 0) return;
  moveSpectator(move[0] * WATCH_PAN_SPEED * dt, move[1] * WATCH_PAN_SPEED * dt);
}

// The spectator's point moves by (dx, dy) world units, and stays on the map.
function moveSpectator(dx, dy) {
  const s = state.spectator;
  s.x = Math.max(0, Math.min(state.world.width, s.x + dx));
  s.y = Math.max(0, Math.min(state.world.height, s.y + dy));
}

// Watching, a drag on the map (a finger: a phone has no keys; or the mouse) moves the view
// with it.
let dragFrom = null;  // {id, x, y}: the pointer dragging, where it was last
$('game').addEventListener('pointerdown', (e) => {
  if (state.mode !== 'watch') return;
  dragFrom = { id: e.pointerId, x: e.clientX, y: e.clientY };
  $('game').setPointerCapture(e.pointerId);  // its moves and release reach us over the panels too
});
$('game').addEventListener('pointermove', (e) => {
  if (!dragFrom || e.pointerId !== dragFrom.id) return;
  if (state.mode !== 'watch') {
    dragFrom = null;
    return;
  }
  const k = renderer.cam.scale || 1;  // CSS px per world unit
  moveSpectator(-(e.clientX - dragFrom.x) / k, -(e.clientY - dragFrom.y) / k);
  dragFrom.x = e.clientX;
  dragFrom.y = e.clientY;
});
for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) {
  $('game').addEventListener(type, (e) => { if (dragFrom && e.pointerId === dragFrom.id) dragFrom = null; });
}

function pumpWatch(now) {
  const s = state.spectator;
  if (state.joined || !conn.isOpen || (s.x === lastWatch.x && s.y === lastWatch.y) || now - lastWatch.at < WATCH_MIN_GAP_MS) return;
  lastWatch = { x: s.x, y: s.y, at: now };
  conn.send({ type: 'watch', x: Math.round(s.x), y: Math.round(s.y) });
}

// ---------------------------------------------------------------- the frame loop

let lastFrame = performance.now();
let lastMinimap = 0;
let lastMoveAt = -Infinity;
let focus = { x: state.spectator.x, y: state.spectator.y };
let deadSince = null;          // when the respawn point was first known, this death
const DEATH_LOOK_MS = 1000;    // how long the camera stays on your body before it shows the respawn point

function frame(now) {
  const dt = Math.min(0.1, (now - lastFrame) / 1000);  // a background tab must not teleport us
  lastFrame = now;
  const move = controls.enabled ? controls.move() : [0, 0];
  const m = me();

  if (state.mode === 'play') pumpInput(now, move, now - dt * 1000);
  else if (state.mode === 'watch') panSpectator(now, dt, move);
  pumpWatch(now);

  // A server that stalls (no tick for a while past what the transport makes us wait) holds
  // the world still: so does your prediction, and past a second the HUD says so.
  // (Polling brings ticks in a batch a round trip: a slow link's gaps are its round trip.)
  const quietMs = conn.isOpen && state.lastTickAt != null
    ? now - state.lastTickAt - conn.deliveryLagMs - (conn.kind === 'ws' ? 0 : state.rttMs ?? 0) : 0;
  const stalled = quietMs > STALL_MS;
  state.serverQuiet = quietMs > QUIET_SHOWN_MS;

  // Your own position: predicted while alive and connected, else the server's (a player
  // cut off must not walk through a frozen world, then snap back when it reconnects).
  if (m && m.state !== 'dead' && state.joined && conn.isOpen) {
    if (!predictor.ready) predictor.reset(m.x, m.y);
    // Moved as the server will move us: with what we last sent (a change held back by the
    // input rate is not ours yet); not at all while the server stalls.
    const sent = stalled ? [0, 0] : lastInput.move;
    const len = Math.hypot(sent[0], sent[1]);
    predictor.step(now, dt, len > 1 ? [sent[0] / len, sent[1] / len] : sent, state.world);
    if (len > 0) lastMoveAt = now;
    else if (!stalled && now - lastMoveAt > (state.rttMs ?? 100) + 3000 / state.tickRate + conn.deliveryLagMs) predictor.settle(m.x, m.y);
  } else if (m) {
    predictor.reset(m.x, m.y);
  }

  const renderAt = state.timelines.renderTime(now);
  const renderTick = state.timelines.tickAt(renderAt);
  const items = [];
  for (const e of state.entities.values()) {
    const isMe = e.id === state.myId;
    if (!isMe && e.enteredTick > renderTick) continue;  // its entry is not drawn yet
    const p = isMe && predictor.ready ? { x: predictor.x, y: predictor.y } : state.timelines.sample(e.id, renderAt) || { x: e.x, y: e.y };
    items.push({ e, p, isMe });
  }
  for (const { e, p } of state.timelines.leavingAt(renderAt)) items.push({ e, p, isMe: false });
  markThreats(items, now);
  for (const it of items) if (it.isMe) it.shielded = now < shieldedUntil && it.e.state !== 'dead';
  const byId = new Map(items.map((it) => [it.e.id, it.p]));
  // Dead: where you will come back (the server says with respawn_x/y).
  const respawn = m && m.state === 'dead' && typeof m.respawn_x === 'number' && typeof m.respawn_y === 'number'
    ? { x: m.respawn_x, y: m.respawn_y } : null;
  state.lastFrame = { now, renderAt, items, respawn };
  state.predicted = m && predictor.ready ? { x: predictor.x, y: predictor.y } : null;
  if (respawn && deadSince == null) deadSince = now;
  else if (!respawn) deadSince = null;
  if (respawn && now - deadSince > DEATH_LOOK_MS) {
    // Dead a moment: the camera glides to where you will come back, so the respawn is not
    // a jump to somewhere unknown.
    const k = 1 - Math.exp(-dt / 0.35);
    focus = { x: focus.x + (respawn.x - focus.x) * k, y: focus.y + (respawn.y - focus.y) * k };
  } else if (m && predictor.ready) focus = { x: predictor.x, y: predictor.y };
  else if (state.mode !== 'play') focus = { x: state.spectator.x, y: state.spectator.y };

  renderer.draw({
    world: state.world, focus, viewRadius: state.viewRadius, items, fx, fxNow: renderAt, flashNow: renderAt, now,
    posOf: (id) => byId.get(id) || null, respawn,
  });
  state.lastFrame.tags = renderer.tags;
  hud.update(now);
  if (now - lastMinimap > 100) {
    lastMinimap = now;
    minimap.draw(state.world, items, focus, state.viewRadius, respawn, now);
  }
  const touchHidden = !(controls.touchSeen && controls.enabled && state.mode === 'play');
  if (touchLayer.hidden !== touchHidden) {
    touchLayer.hidden = touchHidden;
    document.body.classList.toggle('touch-controls', !touchHidden);  // style.css: the help keeps clear of them
  }
  requestAnimationFrame(frame);
}

// Pinned by the page's URL: see that the world exists before connecting (a stale link's
// connect would only fail, noisily); worldsListed lets the server place us if it does not.
// Sent to another process before a reload: the same check (the fleet still lists it?).
function startConnection() {
  if (connStarted) return;
  connStarted = true;
  conn.connect();
}
if (picker.choice || sentTo) {
  picker.refresh().finally(startConnection);
  setTimeout(startConnection, 2000);  // a slow answer does not hold the game up
} else {
  startConnection();
}
requestAnimationFrame(frame);

// ---------------------------------------------------------------- helpers


