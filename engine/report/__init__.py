"""Reports for KB writers, read from the ticket log."""
