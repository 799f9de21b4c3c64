/**
 * The messages between a test and the Electron test double running in a child process (over
 * Node's child-process IPC channel): the test asks, the double answers. Types only.
 */

/** A menu item as the double recorded it from Menu.buildFromTemplate. */
export interface RecordedMenuItem {
  type: string;
  label: string;
  enabled: boolean;
  checked: boolean;
}

export interface RecordedTray {
  image: string;
  tooltip: string;
  title: string;
  /** The context menu set on the icon (Linux, Windows), else the last menu built (macOS). */
  menu: RecordedMenuItem[];
  destroyed: boolean;
}

export interface RecordedWindow {
  visible: boolean;
  destroyed: boolean;
  /** The page's URL in Chromium, once loaded. */
  url: string | null;
  position: [x: number, y: number];
  /** setPosition was called at least once. */
  positioned: boolean;
  /** What setVisibleOnAllWorkspaces and setAlwaysOnTop were last called with. */
  allWorkspaces: { visible: boolean; options: unknown } | null;
  alwaysOnTop: { flag: boolean; level: string | null } | null;
}

/** Everything the double recorded, as the test reads it. */
export interface DoubleState {
  ready: boolean;
  /** What requestSingleInstanceLock answered (null: never asked). */
  singleInstanceLock: boolean | null;
  tray: RecordedTray | null;
  windows: RecordedWindow[];
  errorBoxes: Array<{ title: string; content: string }>;
  notifications: Array<{ title: string; body: string }>;
  /** Events the main process listens to on `app`, by name. */
  appListeners: string[];
  /**
   * The events it listened to when it first called app.whenReady(): what main registers before it
   * awaits anything (null: never called).
   */
  listenersAtWhenReady: string[] | null;
}

export type Request =
  | { op: 'state' }
  | { op: 'click-menu-item'; label: string }
  | { op: 'click-tray' }
  | { op: 'click-notification'; index: number }
  | { op: 'power'; event: 'suspend' | 'resume'; advanceClockMs?: number }
  | { op: 'blur-window'; index: number }
  | { op: 'page-eval'; index: number; expression: string }
  | { op: 'page-press'; index: number; key: string };

export type Message = { id: number } & Request;

export type Reply =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
