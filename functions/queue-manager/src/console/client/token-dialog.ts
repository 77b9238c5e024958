/** The dialog that asks for the API token when the API answers 401, and the link that reopens it. */
import { setConnection } from './connection-badge.ts';
import { byId } from './dom.ts';
import { saveToken, token } from './token-store.ts';

export function askToken(reason: string): void {
  setConnection('unauthorized', 'token needed');
  byId('change-token').hidden = false;
  byId('token-reason').textContent = reason;
  byId<HTMLInputElement>('token-input').value = '';
  const dialog = byId<HTMLDialogElement>('token-dialog');
  if (!dialog.open) dialog.showModal();
}

/** `onToken` runs once a token was entered (the form's method=dialog closes the dialog). */
export function setUpTokenDialog(onToken: () => void): void {
  byId('token-form').addEventListener('submit', () => {
    saveToken(byId<HTMLInputElement>('token-input').value.trim());
    byId('change-token').hidden = false;
    onToken();
  });
  byId('change-token').addEventListener('click', () => askToken('Enter another API token.'));
  if (token()) byId('change-token').hidden = false;
}
