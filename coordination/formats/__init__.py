"""Date, time and number formats per language (settings.FORMAT_MODULE_PATH).

Django ships none for Kazakh, so kk fell back to the English defaults ("12/03/2026", "7784.7"). Every language here
writes dates the way Kazakhstan does: 03.12.2026, 24-hour times, weeks from Monday."""
