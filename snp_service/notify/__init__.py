"""SMS notifications: an outbox written with the change that causes it, drained after commit."""
