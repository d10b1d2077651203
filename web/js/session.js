// What survives a reload of the tab: the name you played with and the server's token for
// your player, so that a reload (or a restarted server) gives you the same player back.
// sessionStorage is per tab, so two tabs are two players.
// `at`: where the player plays when that is another process of a fleet ({url, world, process}:
// the WebSocket URL it was sent to, without its seat), so that a reload goes back there and
// resumes it with the token; null on the page's own server.

const KEY = 'skirmish.session';

export function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (s && typeof s.name === 'string') return { name: s.name, token: s.token || null, playing: !!s.playing, at: validAt(s.at) };
  } catch {
    // storage disabled or corrupt: start fresh
  }
  return { name: '', token: null, playing: false, at: null };
}

export function saveSession(session) {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(session));
  } catch {
    // private mode with storage disabled: resuming after a reload just will not work
  }
}

function validAt(at) {
  if (!at || typeof at.url !== 'string' || !/^wss?:\/\//.test(at.url) || typeof at.world !== 'string' || !at.world) return null;
  return { url: at.url, world: at.world, process: typeof at.process === 'string' ? at.process : null };
}
