/**
 * A second launch shows the first instance's window. Electron emits 'second-instance' whenever the
 * other process starts, possibly while this one is still starting (before its window exists), so
 * the listener is registered at once and a request that comes early is kept until the window can
 * be shown. Runs in the main process.
 */
export interface DeferredShow {
  /** A second instance started: show the window now, or as soon as there is one. */
  request(): void;
  /** The window exists: shows it now if a request came before. */
  attach(show: () => void): void;
}

export function deferredShow(): DeferredShow {
  let show: (() => void) | null = null;
  let wanted = false;
  return {
    request() {
      if (show === null) wanted = true;
      else show();
    },
    attach(fn) {
      show = fn;
      if (wanted) {
        wanted = false;
        fn();
      }
    },
  };
}
