/**
 * What each figure means, shown on hover and read by screen readers. The counting rule is
 * mod_measure_active_users' (see the README): an account's last activity is its newest login or
 * logout, and it is active in a window when that is strictly within the window.
 */
export interface FigureDefinition {
  /** The short name on the card. */
  short: string;
  long: string;
  definition: string;
}

export const FIGURE_DEFINITIONS = {
  dau: {
    short: 'DAU',
    long: 'Daily active users',
    definition: 'Accounts that logged in or out within the last 24 hours.',
  },
  wau: {
    short: 'WAU',
    long: 'Weekly active users',
    definition: 'Accounts that logged in or out within the last 7 days.',
  },
  mau: {
    short: 'MAU',
    long: 'Monthly active users',
    definition: 'Accounts that logged in or out within the last 30 days.',
  },
  stickiness: {
    short: 'Stickiness',
    long: 'DAU ÷ MAU',
    definition:
      "The share of the last 30 days' active users who were active in the last 24 hours (DAU divided by MAU).",
  },
  registrations: {
    short: 'New registrations',
    long: 'New registrations',
    definition: 'Accounts registered within the last 24 hours, 7 days and 30 days.',
  },
  online: {
    short: 'Online now',
    long: 'Accounts online now',
    definition:
      'Accounts with at least one session open at the last refresh, each counted once (from Prosody’s admin socket). Prosody counts them in DAU, WAU and MAU whatever their records say.',
  },
  accounts: {
    short: 'Accounts',
    long: 'Accounts with activity records',
    definition: 'Accounts that have any login, logout or activity record.',
  },
} as const satisfies Record<string, FigureDefinition>;

export type DefinedFigure = keyof typeof FIGURE_DEFINITIONS;
