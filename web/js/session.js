// What survives a reload of the tab: the name you played with and the server's token for
// your player, so that a reload (or a restarted server) gives you the same player back.
// sessionStorage is per tab, so two tabs are two players.

const KEY = 'skirmish.session';

export function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (s && typeof s.name === 'string') return { name: s.name, token: s.token || null, playing: !!s.playing };
  } catch {
    // storage disabled or corrupt: start fresh
  }
  return { name: '', token: null, playing: false };
}

export function saveSession(session) {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(session));
  } catch {
    // private mode with storage disabled: resuming after a reload just will not work
  }
}
