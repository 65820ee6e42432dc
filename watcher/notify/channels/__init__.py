"""The channels: one module or package each, exporting `CHANNEL` (`watcher.notify.channel`)."""
