// The DOM layer over the canvas: connection state, your hp and score, the death countdown,
// the kill feed and the connection banner. Reads the store; never changes it.

import { state, me, labelOf } from './state.js';
import { TRANSPORT_LABELS, CLOSE_TRY_AGAIN_LATER, CLOSE_GOING_AWAY } from './net.js';

const FEED_MAX = 6;
const FEED_MS = 9000;
const $ = (id) => document.getElementById(id);

export class Hud {
  constructor() {
    this.el = {
      connDot: $('conn-dot'), connText: $('conn-text'), connTransport: $('conn-transport'), connWorld: $('conn-world'),
      rtt: $('stat-rtt'), delay: $('stat-delay'), rate: $('stat-rate'), wire: $('stat-wire'), players: $('stat-players'),
      banner: $('banner'), bannerText: $('banner-text'), bannerRetry: $('banner-retry'),
      mePanel: $('me-panel'), meName: $('me-name'), meScore: $('me-score'),
      hp: $('me-hp'), hpFill: $('me-hp-fill'), hpText: $('me-hp-text'), meDead: $('me-dead'), meDeadText: $('me-dead-text'),
      watchPanel: $('watch-panel'), feed: $('feed'),
    };
    this.last = {};  // last written text per element: skip no-op DOM writes
    this.watchBottomPanel();
  }

  /** How far up the screen your panel (or the watch panel) reaches, as the CSS variable
   *  --panel-top, so that on a phone the touch controls and the banner sit above it: a dead
   *  player's panel is twice as tall as a live one's. */
  watchBottomPanel() {
    const panels = [this.el.mePanel, this.el.watchPanel];
    const measure = () => {
      let top = 0;
      for (const p of panels) {
        if (!p.hidden) top = Math.max(top, window.innerHeight - p.getBoundingClientRect().top);
      }
      document.documentElement.style.setProperty('--panel-top', `${Math.max(0, Math.round(top))}px`);
    };
    if (typeof ResizeObserver === 'function') {
      const ro = new ResizeObserver(measure);
      for (const p of panels) ro.observe(p);  // shown or hidden is a change of size too
    }
    window.addEventListener('resize', measure);
    measure();
  }

  set(key, el, text) {
    if (this.last[key] === text) return;
    this.last[key] = text;
    el.textContent = text;
  }

  update(now) {
    const el = this.el;
    const c = state.connection;
    const secs = Math.max(0, Math.ceil((state.retryAt - now) / 1000));
    const connLabel = {
      connecting: 'connecting…',
      open: state.serverQuiet ? 'waiting for the server…' : 'connected',
      reconnecting: state.retryAt > now ? `reconnecting in ${secs}s` : 'reconnecting…',
      closed: 'offline',
    }[c];
    this.set('conn', el.connText, connLabel);
    this.set('transport', el.connTransport, `· ${TRANSPORT_LABELS[state.transport] || state.transport}`);
    el.connDot.className = `dot ${c === 'open' && state.serverQuiet ? 'connecting' : c}`;
    // The world we are in, where the server has several (not known yet: named if hello did).
    // Another process of the fleet: its host too (where we were sent, or picked).
    const world = state.worldCount !== 1 || state.worldWhere ? state.worldName : null;
    el.connWorld.hidden = !world;
    this.set('world', el.connWorld, world ? `· ${world}${state.worldWhere ? ` @ ${state.worldWhere}` : ''}` : '');

    this.set('rtt', el.rtt, state.rttMs == null ? '–' : `${Math.round(state.rttMs)} ms`);
    this.set('delay', el.delay, state.tickDelayMs == null ? '–' : `${Math.round(state.tickDelayMs)} ms`);
    const measured = state.measuredTickRate == null || c !== 'open' ? '–' : state.measuredTickRate.toFixed(1);
    this.set('rate', el.rate, `${measured} / ${state.tickRate} Hz`);
    this.set('wire', el.wire, wireLabel(state.transport, state.wire));
    // `players` counts connected players only: an away one is not "online".
    this.set('players', el.players, c === 'open' ? `${state.players} online` : '– online');

    // The banner: only when something is wrong, and saying what happens next.
    const down = c === 'reconnecting' || c === 'closed';
    el.banner.hidden = !down;
    if (down) {
      // 1013: the server dropped us for reading too slowly; nothing is broken, we come back.
      const when = state.retryAt > now ? ` in ${secs}s` : '';
      const text = c === 'closed'
        ? 'Offline: the server closed the connection.'
        : state.downCode === CLOSE_TRY_AGAIN_LATER
          ? `Connection too slow — reconnecting${when}…`
          : state.downCode === CLOSE_GOING_AWAY
            ? `The server is restarting — reconnecting${when}…`
            : `Connection lost. Reconnecting${when}…`;
      this.set('banner', el.bannerText, text);
      // Offered once the link has been down a moment, and kept through the tries that follow:
      // shown only while the next try was over 1.5 s away, it blinked with each short backoff
      // (a play-test: too quick to click).
      el.bannerRetry.hidden = !(c === 'closed' || now - state.downSince > 1500);
    }

    // You.
    const m = me();
    el.mePanel.hidden = !(state.mode === 'play' && m);
    el.watchPanel.hidden = state.mode !== 'watch';
    if (m) {
      this.set('meName', el.meName, m.name || 'you');
      this.set('meScore', el.meScore, String(m.score ?? 0));
      const k = m.max_hp ? Math.max(0, Math.min(1, m.hp / m.max_hp)) : 0;
      el.hpFill.style.width = `${(k * 100).toFixed(1)}%`;
      el.hpFill.className = `hpbar-fill${k <= 0.25 ? ' low' : k <= 0.5 ? ' mid' : ''}`;
      const hpText = `${Math.max(0, m.hp ?? 0)} / ${m.max_hp ?? '?'}`;
      this.set('hp', el.hpText, hpText);
      if (this.last.hpAria !== hpText) {
        // Screen readers read the meter (its text is drawn over the bar for the eye).
        this.last.hpAria = hpText;
        el.hp.setAttribute('aria-valuenow', String(Math.max(0, m.hp ?? 0)));
        el.hp.setAttribute('aria-valuemax', String(m.max_hp ?? 100));
        el.hp.setAttribute('aria-valuetext', hpText);
      }
      el.meDead.hidden = m.state !== 'dead';
      if (m.state === 'dead') this.set('dead', el.meDeadText, deathText(m));
    }
    this.expireFeed(now);
  }

  /** A death event: "alice killed a wolf". Names are resolved before the victim is removed. */
  addKill(ev, now) {
    const li = document.createElement('li');
    li.dataset.t = String(now);
    // Players kill monsters and monsters players: one side never held (it entered the view and
    // died in one frame) is named by the other's kind, not "someone" (a play-test read that as
    // a player killed).
    const killer = state.entities.get(ev.attacker);
    const victim = killer ? (killer.kind === 'player' ? 'a monster' : 'a player') : 'someone';
    li.append(who(ev.attacker, true), ' ', verb('killed'), ' ', who(ev.target, false, victim));  // spaces: it reads (and copies) as a sentence
    this.pushFeed(li);
  }

  /** A line about you in the feed (e.g. that a reconnect found your player gone). */
  addNote(text, now) {
    const li = document.createElement('li');
    li.dataset.t = String(now);
    li.className = 'note';
    li.textContent = text;
    this.pushFeed(li);
  }

  pushFeed(li) {
    this.el.feed.prepend(li);
    while (this.el.feed.children.length > FEED_MAX) this.el.feed.lastElementChild.remove();
  }

  clearFeed() {
    this.el.feed.replaceChildren();
  }

  expireFeed(now) {
    for (const li of this.el.feed.children) {
      const age = now - Number(li.dataset.t);
      if (age > FEED_MS) li.remove();
      else if (age > FEED_MS - 700) li.classList.add('fading');
    }
  }
}

// `first`: it starts the line, so "a wolf" is written "A wolf" (a player's name as it is).
function who(id, first = false, unknown = 'someone') {
  const span = document.createElement('span');
  const e = state.entities.get(id);
  const player = e ? e.kind === 'player' : unknown === 'a player';
  span.className = id === state.myId ? 'who-me' : player ? 'who-player' : 'who-monster';
  const label = labelOf(id, unknown);
  span.textContent = id === state.myId ? `${label} (you)` : first && !player ? label[0].toUpperCase() + label.slice(1) : label;
  return span;
}

// "You died · back in 3…": seconds until the server's respawn_tick, at its tick rate.
export function respawnSecondsLeft(m) {
  if (typeof m.respawn_tick !== 'number' || state.lastTick == null) return null;
  const ticks = m.respawn_tick - state.lastTick;
  return ticks > 0 ? Math.ceil(ticks / state.tickRate) : 0;
}

function deathText(m) {
  const secs = respawnSecondsLeft(m);
  if (secs == null) return 'You died · respawning soon…';
  return secs > 0 ? `You died · back in ${secs}…` : 'You died · back now…';
}

// "WebSocket (v2 binary)", "WebSocket (JSON)", "long polling (JSON)".
export function wireLabel(transport, wire) {
  if (!wire) return '–';
  const how = transport === 'ws' ? 'WebSocket' : TRANSPORT_LABELS[transport] || transport;
  return `${how} (${wire === 'v2' ? 'v2 binary' : 'JSON'})`;
}

function verb(text) {
  const span = document.createElement('span');
  span.className = 'verb';
  span.textContent = text;
  return span;
}
