//! Pure render functions for the console, one file per view.
