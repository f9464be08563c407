import { h } from './dom.js';

/** The event main.ts renders on; pages navigate without importing the route table. */
export const NAVIGATE = 'cascade:navigate';

export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new Event(NAVIGATE));
}

/** A link that navigates in the page (a deep link still works when opened on its own). */
export function link(path: string, ...children: Array<Node | string>): HTMLAnchorElement {
  return h(
    'a',
    {
      href: path,
      onClick: (event) => {
        const mouse = event as MouseEvent;
        if (mouse.ctrlKey || mouse.metaKey || mouse.shiftKey || mouse.button !== 0) return;
        event.preventDefault();
        navigate(path);
      },
    },
    ...children,
  );
}
