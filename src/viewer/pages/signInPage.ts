import { ApiError, gql } from '../api.js';
import { h } from '../dom.js';
import { signIn, signOut } from '../session.js';

/** The key is checked with a cheap query, so that a wrong key is refused here and not on the first page. */
export function renderSignIn(root: HTMLElement, done: () => void): void {
  const input = h('input', { name: 'apiKey', type: 'password', autocomplete: 'off', required: true, placeholder: 'csk_…', 'aria-label': 'API key' });
  const message = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'sign-in' }, h('h1', {}, 'Cascade'), h('label', {}, 'API key ', input), h('button', { type: 'submit' }, 'Sign in'), message);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    signIn(key);
    gql('{ workflows { id } }').then(done, (error: unknown) => {
      if (error instanceof ApiError && (error.code === 'UNAUTHENTICATED' || error.code === 'FORBIDDEN')) signOut();
      message.textContent = error instanceof Error ? error.message : String(error);
      if (!(error instanceof ApiError)) done();
    });
  });
  root.replaceChildren(form);
  input.focus();
}
