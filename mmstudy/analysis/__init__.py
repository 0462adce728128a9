"""What study analyses share: groups of cells over seeds, their summaries, and seed-matched, user-paired
comparisons. Each study kind's own analysis lives with its plug-in (`mmstudy.studies.<kind>`)."""
