/**
 * A few lines of DOM building: elements from data, text through textContent only (never HTML
 * strings, so nothing from a server or a file can become markup), and no inline styles (the CSP
 * refuses them; classes and the stylesheet do the styling).
 *
 * Every text child is shown with its control characters escaped visibly (`\x1b`, `\u202e`), line
 * feeds kept: host names and failure sentences come from servers, and a bidi override or a CR in
 * them would reorder or fake what is read, as on a terminal (core/terminal-text.ts).
 */
import { showControlsKeepingLines } from '../main/core/terminal-text.js';

type Attr = string | number | boolean | null | undefined;
export type Child = Node | string | null | undefined | false;

export interface Props {
  [attribute: string]: Attr | ((event: Event) => void);
}

/**
 * `h('button', { type: 'button', onclick: fn, 'aria-pressed': true }, 'Text')`. Attributes whose
 * value is null, undefined or false are left out; true becomes the empty string, except for aria-*
 * attributes, which take "true".
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: Array<Child | Child[]>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (typeof value === 'function') {
      el.addEventListener(name.replace(/^on/, ''), value);
    } else if (name === 'value' && 'value' in el) {
      // The property, not the attribute: a typed secret never sits in the markup.
      (el as HTMLInputElement).value = value === null || value === undefined ? '' : String(value);
    } else if (value === true) {
      el.setAttribute(name, name.startsWith('aria-') ? 'true' : '');
    } else if (value !== null && value !== undefined && value !== false) {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(parent: Node, children: Array<Child | Child[]>): void {
  for (const child of children) {
    if (Array.isArray(child)) append(parent, child);
    else if (child === null || child === undefined || child === false) continue;
    else {
      parent.appendChild(
        typeof child === 'string'
          ? document.createTextNode(showControlsKeepingLines(child))
          : child,
      );
    }
  }
}

/**
 * Replaces a region's content, keeping keyboard focus (and the caret in a text field) on the
 * element with the same id in the new content: a snapshot arriving while someone tabs through the
 * window must not throw them back to the top.
 */
export function replaceKeepingFocus(region: HTMLElement, children: Child[]): void {
  const active = document.activeElement;
  const id = active instanceof HTMLElement && region.contains(active) ? active.id : '';
  const caret =
    active instanceof HTMLInputElement && active.type === 'text'
      ? { start: active.selectionStart, end: active.selectionEnd }
      : null;
  region.replaceChildren();
  append(region, children);
  if (id === '') return;
  const again = document.getElementById(id);
  if (!again || !region.contains(again)) return;
  again.focus({ preventScroll: true });
  if (caret && again instanceof HTMLInputElement && caret.start !== null && caret.end !== null) {
    again.setSelectionRange(caret.start, caret.end);
  }
}
