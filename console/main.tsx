/**
 * The admin console's entry point: renders the app into `<div id="app">` of the
 * index.html that scripts/build-console.ts writes. Styles come separately
 * (console/styles.css, its own hashed asset): nothing here injects style.
 */
import { render } from 'preact';
import { App } from './app/App.js';

const root = document.getElementById('app');
if (root) render(<App />, root);
