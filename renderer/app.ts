// The window's entry point (the view arrives with the desktop-app work).
export {};
