/**
 * The API token, once per browser session: taken from the link fedsim printed (#token=…, a
 * fragment, so it never reaches a server log or a Referer) or typed in, and traded for the
 * server's HttpOnly cookie, which every later request, report link and socket.io connection
 * carries. A server that needs no token answers the first try.
 */
import { h, replaceChildren } from './dom.js';

export async function signIn(main: HTMLElement): Promise<void> {
  const fromLink = /^#token=([^&]+)/.exec(location.hash)?.[1];
  if (fromLink !== undefined) {
    history.replaceState(null, '', `${location.pathname}${location.search}#/`);
    if (await startSession(decodeURIComponent(fromLink))) return;
  }
  if (await startSession(null)) return;
  await askForToken(main);
}

/** Whether the server accepts this token (null: whatever the browser already has, a cookie or nothing). */
async function startSession(token: string | null): Promise<boolean> {
  const response = await fetch('/api/session', { method: 'POST', headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return response.ok;
}

function askForToken(main: HTMLElement): Promise<void> {
  return new Promise((signedIn) => {
    const input = h('input', { type: 'password', name: 'token', autocomplete: 'current-password', required: true, 'data-testid': 'token-input' });
    const error = h('div', { class: 'error', role: 'alert', 'data-testid': 'token-error' });
    const submit = async (event: Event) => {
      event.preventDefault();
      replaceChildren(error);
      if (await startSession(input.value.trim())) signedIn();
      else replaceChildren(error, 'That is not this server’s token.');
    };
    replaceChildren(
      main,
      h('h1', {}, 'Access token'),
      h(
        'p',
        { class: 'note' },
        'This server needs the token fedsim printed when it started (or FEDSIM_API_TOKEN). Open the link it printed, or paste the token:',
      ),
      h(
        'form',
        { class: 'start', 'data-testid': 'sign-in', onsubmit: (event) => void submit(event) },
        input,
        h('button', { type: 'submit' }, 'Sign in'),
        error,
      ),
    );
    input.focus();
  });
}
