/**
 * Main asks the window for a view (the tray's "Settings…") through the typed 'view:show' event of
 * the IPC contract. Runs in the main process. A page still loading would miss the event, so it is
 * sent once the load has finished.
 */
import type { ShowViewRequest } from '../core/ipc-contract.js';
import { sendEvent } from './ipc-handlers.js';

/** What this needs of a WebContents. */
export interface ViewTarget {
  isDestroyed(): boolean;
  isLoading(): boolean;
  once(event: 'did-finish-load', listener: () => void): unknown;
  send(channel: string, ...args: unknown[]): void;
}

export function showView(contents: ViewTarget, request: ShowViewRequest): void {
  if (contents.isDestroyed()) return;
  const send = () => {
    if (!contents.isDestroyed()) sendEvent(contents, 'view:show', request);
  };
  if (contents.isLoading()) contents.once('did-finish-load', send);
  else send();
}
