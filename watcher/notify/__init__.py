"""Notification: who gets which signal, rendering, transports, the outbox dispatcher."""
