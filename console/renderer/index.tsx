/** The admin console's renderer: served at /console by the appliance and loaded by the Electron shell. */
import { render } from 'solid-js/web';
import { App } from './app.tsx';

const root = document.getElementById('app');
if (root) {
  root.textContent = ''; // the static "Loading…" placeholder
  render(() => <App />, root);
}
