/** The dashboard's entry: sign-in when the server needs a token, a header with the connection state, and hash routing between views. */
import './style.css';
import { h, replaceChildren } from './dom.js';
import { onConnection } from './live.js';
import { runListView } from './run-list-view.js';
import { runView } from './run-view.js';
import { signIn } from './sign-in.js';
import type { View } from './view.js';

const app = document.getElementById('app')!;
const connection = h('span', { class: 'connection', 'data-testid': 'connection' });
const main = h('main', {});
replaceChildren(app, h('nav', {}, h('a', { href: '#/', class: 'brand' }, 'fedsim'), connection), main);

let view: View | null = null;

function route(): void {
  view?.destroy();
  const match = /^#\/runs\/([^/]+)$/.exec(location.hash);
  document.title = 'fedsim';
  view = match ? runView(main, decodeURIComponent(match[1]!)) : runListView(main);
}

// The socket opens only after sign-in: its handshake must carry the session cookie.
void signIn(main).then(() => {
  onConnection((connected) => {
    connection.textContent = connected ? 'live' : 'reconnecting…';
    connection.dataset.connected = String(connected);
  });
  window.addEventListener('hashchange', route);
  route();
});
