"""The public endpoint: one-click unsubscribe and Atom feeds, behind signed links."""
