// Entry point: mounts the app into #root with the global styles, and keeps a focused field in
// sight when a phone's on-screen keyboard opens (it shrinks the visual viewport after the tap).

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import './index.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

visualViewport?.addEventListener('resize', () => {
  const field = document.activeElement;
  if (field instanceof HTMLInputElement) field.scrollIntoView({ block: 'nearest' });
});

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
