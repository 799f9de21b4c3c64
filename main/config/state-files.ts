/** The history of counts in the state folder, shared by `--watch` and the app. */
export const HISTORY_FILE = 'history.sqlite';
